"""The booking a learner, manager, trainer or administrator changes: found, locked, and checked
against who may change it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.locks import lock_booking, lock_session
from booking.models import Booking
from booking.models import Session as SessionRow
from booking.seats import booking_access

# A policy question: may this actor make this change to a booking they can see?
Allowed = Callable[[Actor, policy.BookingAccess], bool]


async def lock_for_change(
    s: AsyncSession, actor: Actor, booking_id: int, allowed: Allowed
) -> tuple[Booking, SessionRow]:
    """Find the booking (404 if hidden), lock its session row, then re-read the booking."""
    found = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
    if found is None:
        raise NotFoundError(f"There is no booking {booking_id}.")
    session = await lock_session(s, found)
    assert session is not None
    booking = await lock_booking(s, booking_id)
    assert booking is not None
    access = await booking_access(s, booking)
    if not policy.can_view_booking(actor, access):
        raise NotFoundError(f"There is no booking {booking_id}.")
    if not allowed(actor, access):
        raise ForbiddenError("You cannot change this booking.")
    return booking, session
