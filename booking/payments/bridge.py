"""How booking talks to billing: the reference billing knows a booking by, and billing's
refusals as booking's service errors.

`billing` never imports `booking`; this package is where booking calls billing's public
functions, and `BookingPayments` (cards.py) is the listener billing calls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from billing import services as billing
from booking.kernel.errors import ConflictError, InvalidError, NotFoundError

REFERENCE_PREFIX = "booking-"


def reference(booking_id: int) -> str:
    """The opaque reference billing knows a booking by."""
    return f"{REFERENCE_PREFIX}{booking_id}"


def booking_id_of(ref: str) -> int | None:
    if not ref.startswith(REFERENCE_PREFIX):
        return None
    try:
        return int(ref.removeprefix(REFERENCE_PREFIX))
    except ValueError:
        return None


@contextlib.contextmanager
def billing_errors() -> Iterator[None]:
    """Billing's refusals as booking's service errors (and so as problem+json)."""
    try:
        yield
    except billing.NotFound as exc:
        raise NotFoundError(exc.message) from exc
    except billing.Conflict as exc:
        raise ConflictError(exc.message) from exc
    except billing.Invalid as exc:
        raise InvalidError(exc.message, exc.field) from exc
