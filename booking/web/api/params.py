"""What the API handlers share: paging parameters, money in, idempotency keys, and the answer
to a booking request."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import Parameter

from billing.domain.money import Money
from booking.bookings import BookingOutcome, IdempotencyClaim
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError
from booking.kernel.views import BookingView
from booking.web.api import schemas
from booking.web.inputs import MAX_ID

CursorParam = Parameter(
    query="cursor",
    required=False,
    max_length=40,
    pattern=schemas.NO_NUL,
    description="Opaque cursor from a page",
)
LimitParam = Parameter(query="limit", ge=1, le=200, default=50, description="Page size")


def cursor_of(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        cursor = int(value)
    except ValueError:
        raise InvalidError("This cursor is not one the server gave out.", "cursor") from None
    if not 0 <= cursor <= MAX_ID:
        raise InvalidError("This cursor is not one the server gave out.", "cursor")
    return cursor


def money_in(m: schemas.MoneyIn | None, field: str) -> Money | None:
    if m is None:
        return None
    try:
        return Money(m.amount, m.currency.upper())
    except (TypeError, ValueError) as exc:
        raise InvalidError(str(exc), field) from exc


def idempotency_claim(request: Request[Any, Any, Any], actor: Actor, op: str, body: Any) -> Any:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    return IdempotencyClaim.of(actor.email, key.strip(), op, msgspec.to_builtins(body))


def booking_response(outcome: BookingOutcome) -> Response[BookingView]:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return Response(outcome.booking, status_code=outcome.status_code, headers=headers)
