"""The end of an approved booking: the place is taken when the last approver says yes.

A booking waiting for approval holds no seat; it takes one now, under the session row's lock
(the caller holds it), exactly as a direct booking does, so an approval racing a sign-up for the
last seat can never overbook.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain.states import BookingState
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError
from booking.kernel.history import record_transition
from booking.models import Booking
from booking.models import Session as SessionRow
from booking.seats.places import take_seat, take_waitlist_ticket


async def place_after_approval(
    s: AsyncSession,
    booking: Booking,
    session: SessionRow,
    *,
    actor: Actor,
    now: datetime,
    comment: str | None,
) -> None:
    """Book the approved learner if a seat is free, otherwise put them on the waiting list, or
    decline when the session is full and has none."""
    reason = f"Approved by {actor.name}" + (f": {comment}" if comment else "")
    if session.status != "open" or now >= session.starts_at:
        raise ConflictError("This session is no longer open for booking.")
    if await take_seat(s, session, seat_guard=True):
        await record_transition(
            s,
            booking=booking,
            to_state=BookingState.BOOKED,
            actor=actor,
            now=now,
            reason=reason,
            notify="booking.booked",
        )
    elif session.waitlist_mode != "off":
        booking.waitlist_seq = await take_waitlist_ticket(s, session.id)
        await record_transition(
            s,
            booking=booking,
            to_state=BookingState.WAITLISTED,
            actor=actor,
            now=now,
            reason=reason + "; the session is full, so on the waiting list",
            notify="booking.waitlisted",
        )
    else:
        await record_transition(
            s,
            booking=booking,
            to_state=BookingState.DECLINED,
            actor=actor,
            now=now,
            reason="Approved, but the session is full and has no waiting list",
            notify="booking.declined",
        )
