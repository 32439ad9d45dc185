"""The parts of the OpenAPI document every operation shares, set in one place: the bearer
security scheme, a stable `operationId` (the handler's name in camelCase), a tag per area, and
the problem responses (RFC 9457, `application/problem+json`) each operation can answer.

Litestar builds the document from the handlers' signatures (typed bodies and answers); what it
cannot know — how a request is authenticated, and which problems our exception handlers
(booking/web/problems.py) turn errors into — is added here to each handler of the API before the
document is first built, so no handler repeats it and none can forget it."""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, Example, SecurityScheme, Tag
from litestar.routes import HTTPRoute

PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"
BEARER = "bearer"
# The operations a `records` service token may call (booking/policy/records.py).
RECORDS_SCOPE = frozenset({"recordsFeed", "postCompletions"})
# Operations held to a rate limit: each answers 429 with Retry-After when it is exceeded.
RATE_LIMITED = frozenset({"createBooking"})

TAGS = {
    "people": "The person a token acts as, people and organisation units (HR feeds).",
    "courses": "The catalogue: courses, their rules and eligibility.",
    "sessions": "Sessions of a course: dates, seats, status.",
    "bookings": "Booking a place, the waiting list, cancelling, offers.",
    "roster": "A session's roster, attendance, messages, downloads.",
    "approvals": "Requests waiting for a manager, a budget holder or an administrator.",
    "billing": "Cost codes, fees, card payments and the finance journal.",
    "records": "Records of learning, the records feed and inbound completions.",
    "evidence": "Certificates and evidence of learning done elsewhere.",
    "programs": "Learning programs: sets of courses assigned together.",
    "exemptions": "Exemptions from, and extensions to, mandatory learning.",
    "webhooks": "Outgoing webhooks: endpoints told when things happen.",
}


class Reason(msgspec.Struct):
    """Why a booking (or another action) was refused: `code` for programs, `message` for
    people. Some reasons carry what they refer to (`booking_id`, `session_id`, `course_code`,
    `question`, `opens_at`, `expires_at`, `window_opens_at`)."""

    code: str
    message: str
    booking_id: int | None = None
    session_id: int | None = None
    course_code: str | None = None
    question: str | None = None
    opens_at: str | None = None
    expires_at: str | None = None
    window_opens_at: str | None = None


class FieldError(msgspec.Struct):
    """One field of a body that does not fit its schema."""

    message: str
    key: str | None = None
    source: str | None = None


class Problem(msgspec.Struct):
    """An error, as RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    # Refusals (409, 422): every reason, not only the first.
    reasons: list[Reason] | None = None
    # 422 for one field: its name.
    field: str | None = None
    # 422 for a body that does not fit its schema: what did not fit.
    errors: list[FieldError] | None = None


_REFUSED_EXAMPLE = {
    "type": "https://workshop-booking.example/problems/booking-refused",
    "title": "Booking refused",
    "status": 409,
    "detail": "You already have a place on this session.",
    "reasons": [
        {
            "code": "already_booked",
            "message": "You already have a place on this session.",
            "booking_id": 123,
        }
    ],
}

_DESCRIPTIONS = {
    400: "Malformed: not JSON, or a parameter of the wrong type.",
    401: "No token, or a token that is unknown, expired or revoked.",
    403: "The token's person (or scope) may not do this.",
    404: "Unknown, or not visible to the token's person.",
    409: "Conflicts with the current state of things; refusals carry `reasons`.",
    413: "The body is larger than the server accepts.",
    422: "Valid JSON that breaks a rule; refusals carry `reasons`, field errors `field`.",
    429: "Too many requests: wait the `Retry-After` seconds and try again.",
    503: "The database is not answering: retry after `Retry-After` seconds.",
}


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Workshop booking API",
        version="1",
        path=PREFIX,
        render_plugins=[ScalarRenderPlugin(path="/docs")],
        description=(
            "Book places on training sessions, manage waiting lists, rosters, records of "
            "learning and mandatory training. Authenticate with `Authorization: Bearer "
            "<token>`; errors are `application/problem+json`; lists are `{items, next_cursor}`."
        ),
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description=(
                        "A personal or service token (`booking token create`). A `records` "
                        "service token may only call the operations that name the `records` "
                        "role."
                    ),
                )
            }
        ),
        security=[{BEARER: []}],
        tags=[Tag(name=name, description=text) for name, text in TAGS.items()],
        operation_id_creator=lambda handler, _method, _components: operation_id(handler),
    )


def operation_id(handler: HTTPRouteHandler) -> str:
    """`create_booking` → `createBooking`: stable as long as the handler keeps its name."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def apply(app: Litestar) -> None:
    """Give every API handler its tag, security and problem responses."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(PREFIX):
            continue
        for handler in route.route_handlers:
            if handler.include_in_schema is False:
                continue
            _describe(handler, route.path)


def _describe(handler: HTTPRouteHandler, path: str) -> None:
    op = operation_id(handler)
    if not handler.tags:
        # The handler's module names its area; an area missing from TAGS fails the contract
        # test (every tag described) instead of being filed under another.
        handler.tags = [handler.fn.__module__.rsplit(".", 1)[-1]]
    # A person's token, or (for the records operations) a `records` service token.
    handler.security = (
        [{BEARER: []}, {BEARER: ["records"]}] if op in RECORDS_SCOPE else [{BEARER: []}]
    )
    responses: dict[int, ResponseSpec] = {**(handler.responses or {})}
    for status in problem_statuses(handler, path, op):
        responses.setdefault(status, _problem_spec(status))
    handler.responses = responses


def problem_statuses(handler: HTTPRouteHandler, path: str, op: str) -> list[int]:
    """What the exception handlers answer for this operation: authentication and permission
    for all; 404 where the path names something; the body's and parameters' problems; 409
    for every write (the state of things, a duplicate); 429 where a rate limit applies."""
    writes = bool(handler.http_methods - {"GET", "HEAD", "OPTIONS"})
    has_input = writes or "{" in path or _has_query(handler)
    statuses = [401, 403, 503]
    if "{" in path:
        statuses.append(404)
    if has_input:
        statuses += [400, 422]
    if writes:
        statuses += [409, 413]
    if op in RATE_LIMITED:
        statuses.append(429)
    return sorted(statuses)


def _has_query(handler: HTTPRouteHandler) -> bool:
    signature = handler.parsed_fn_signature.parameters
    return any(name not in ("db", "clock", "actor", "request", "data") for name in signature)


def _problem_spec(status: int) -> ResponseSpec:
    examples = (
        [Example(summary="A booking refused", value=_REFUSED_EXAMPLE)] if status == 409 else None
    )
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=_DESCRIPTIONS[status],
        examples=examples,
        generate_examples=False,
    )
