"""Account requests: the public form (linked from the sign-in page), the emailed link that
confirms it, and the administrators' queue where each is approved or declined.

The form answers the same whether or not the address has an account; it is rate-limited per
address and per email like the forgotten-password form. A refused form comes back as typed, each
message on its field (422), with nothing written."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking import oidc, people
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError, NotFoundError
from booking.people import AccountRequestInput
from booking.ratelimit import ACCOUNT_REQUEST
from booking.web.pages import signin
from booking.web.pages.forms import form_fields
from booking.web.pages.render import flash, page

FORM = "/account-request"
QUEUE = "/admin/account-requests"
MAX_TYPED = 10_000  # past every field's limit: the check names the limit
STAFF_TYPE_LABELS = {
    "payroll": "Employed by the organisation (including temporary staff)",
    "casual": "Casual worker",
    "associate": "Associate or partner staff",
    "external": "External, such as school staff",
}
STATE_LABELS = {
    "waiting": "Waiting",
    "unconfirmed": "Email not confirmed",
    "approved": "Approved",
    "declined": "Declined",
}


def _sent(raw: dict[str, str]) -> AccountRequestInput:
    names = AccountRequestInput.__dataclass_fields__
    return AccountRequestInput(**{n: raw.get(n, "")[:MAX_TYPED] for n in names})


async def _form_page(
    request: Request[Any, Any, Any],
    db: Database,
    sent: AccountRequestInput,
    *,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        "booking/account_request.html",
        actor=None,
        nav="login",
        form=asdict(sent),
        units=await people.account_request_units(db),
        staff_types=list(STAFF_TYPE_LABELS.items()),
        errors=errors or {},
        error=error,
        sent=False,
        status_code=status_code,
        headers=headers,
    )


@get(FORM, include_in_schema=False)
async def request_form(request: Request[Any, Any, Any], db: Database) -> Template:
    return await _form_page(request, db, AccountRequestInput())


@post(FORM, include_in_schema=False, status_code=200)
async def send_request(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Template:
    sent = _sent(await form_fields(request))
    errors = people.account_request_errors(sent)
    if errors:
        return await _form_page(request, db, sent, errors=errors, status_code=422)
    email = sent.email.strip().lower()
    ip = signin.client_ip(request)
    limiter = request.app.state.limiter
    wait = await limiter.blocked(ACCOUNT_REQUEST, f"ip:{ip}") or await limiter.blocked(
        ACCOUNT_REQUEST, f"email:{email}"
    )
    if wait:
        return await _form_page(
            request,
            db,
            sent,
            error="Too many requests. Please wait a while and try again.",
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    await limiter.count(ACCOUNT_REQUEST, f"ip:{ip}")
    await limiter.count(ACCOUNT_REQUEST, f"email:{email}")
    try:
        await people.request_account(db, clock, request.app.state.settings, sent, ip=ip)
    except InvalidError as exc:
        errors = {exc.field or "form": exc.detail}
        return await _form_page(request, db, sent, errors=errors, status_code=422)
    # The same answer whether or not the address has an account.
    return page(request, "booking/account_request.html", actor=None, nav="login", sent=True)


@get(f"{FORM}/confirm", include_in_schema=False)
async def confirm_page(
    request: Request[Any, Any, Any], token: str = Parameter(query="token", default="")
) -> Template:
    # Opening the link shows a button: a mail scanner fetching the link confirms nothing.
    return page(
        request, "booking/account_request_confirm.html", actor=None, nav="login", token=token[:4000]
    )


@post(f"{FORM}/confirm", include_in_schema=False, status_code=200)
async def confirm(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Template:
    token = (await form_fields(request)).get("token", "")[:4000]
    settings = request.app.state.settings
    try:
        state = await people.confirm_account_request(
            db, clock, settings, token, ip=signin.client_ip(request)
        )
    except NotFoundError as exc:
        return page(
            request,
            "booking/account_request_confirm.html",
            actor=None,
            nav="login",
            token="",
            error=exc.detail,
            status_code=404,
        )
    return page(
        request, "booking/account_request_confirm.html", actor=None, nav="login", done=state
    )


async def _queue_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    state: str,
    *,
    errors: dict[str, str] | None = None,
    reasons: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    queue = await people.account_request_queue(db, clock, actor, state)
    return page(
        request,
        "booking/admin_account_requests.html",
        actor=actor,
        nav="account_requests",
        queue=queue,
        state_labels=STATE_LABELS,
        staff_type_labels=STAFF_TYPE_LABELS,
        errors=errors or {},
        reasons=reasons or {},
        status_code=status_code,
    )


@get(QUEUE, include_in_schema=False)
async def queue_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    shown: str = Parameter(query="state", default="waiting"),
) -> Template:
    return await _queue_page(request, db, clock, actor, shown)


@post(f"{QUEUE}/{{account_request_id:int}}/approve", include_in_schema=False, status_code=303)
async def approve(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    account_request_id: int,
) -> Response[Any]:
    request_id = account_request_id
    settings = request.app.state.settings
    try:
        made = await people.approve_account_request(
            db, clock, settings, actor, request_id, sso=oidc.enabled(settings)
        )
    except ConflictError as exc:
        errors = {f"request-{request_id}": exc.detail}
        return await _queue_page(
            request, db, clock, actor, "waiting", errors=errors, status_code=409
        )
    message = f"Approved: {made.name} has an account and has been emailed how to sign in."
    if made.manager_unknown:
        message += f" Their manager ({made.manager_unknown}) has no account here, so none is set."
    flash(request, message)
    return Redirect(path=QUEUE, status_code=303)


@post(f"{QUEUE}/{{account_request_id:int}}/decline", include_in_schema=False, status_code=303)
async def decline(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    account_request_id: int,
) -> Response[Any]:
    request_id = account_request_id
    reason = (await form_fields(request)).get(f"reason-{request_id}", "")[:MAX_TYPED]
    try:
        await people.decline_account_request(db, clock, actor, request_id, reason=reason)
    except (InvalidError, ConflictError) as exc:
        key = f"reason-{request_id}" if isinstance(exc, InvalidError) else f"request-{request_id}"
        return await _queue_page(
            request,
            db,
            clock,
            actor,
            "waiting",
            errors={key: exc.detail},
            reasons={str(request_id): reason},
            status_code=exc.status,
        )
    flash(request, "Declined: the requester has been emailed your reason.")
    return Redirect(path=QUEUE, status_code=303)


PUBLIC_HANDLERS = [request_form, send_request, confirm_page, confirm]
HANDLERS = [queue_page, approve, decline]
