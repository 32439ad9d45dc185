"""A learner's answer to a waiting-list offer: take the place it holds, or turn it down."""

from __future__ import annotations

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.bookings.locking import lock_for_change
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel import tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError
from booking.kernel.history import record_transition
from booking.kernel.views import BookingView
from booking.models import Booking
from booking.reads.bookings import booking_view
from booking.seats import withdraw_place


async def accept_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    """Take the place a waitlist offer holds."""
    return await tx.run(db, partial(_accept, clock=clock, actor=actor, booking_id=booking_id))


async def decline_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    """Turn down a waitlist offer: the place passes to the next learner in line."""
    return await tx.run(db, partial(_decline, clock=clock, actor=actor, booking_id=booking_id))


async def _accept(s: AsyncSession, *, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    now = clock.now()
    booking, _ = await lock_for_change(s, actor, booking_id, policy.can_answer_offer)
    _check_open_offer(booking)
    if booking.offer_expires_at is not None and now >= booking.offer_expires_at:
        raise ConflictError("This offer has expired.")
    booking.offer_expires_at = None
    booking.sequence += 1
    await record_transition(
        s,
        booking=booking,
        to_state=BookingState.BOOKED,
        actor=actor,
        now=now,
        reason="Offer accepted",
        notify="booking.booked",
    )
    return await booking_view(s, booking.id, now=now)


async def _decline(s: AsyncSession, *, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    now = clock.now()
    booking, session = await lock_for_change(s, actor, booking_id, policy.can_answer_offer)
    _check_open_offer(booking)
    await withdraw_place(
        s, booking, session, actor=actor, now=now, reason="Offer declined", details=None
    )
    return await booking_view(s, booking.id, now=now)


def _check_open_offer(booking: Booking) -> None:
    if booking.state != BookingState.OFFERED:
        raise ConflictError("There is no open offer on this booking.")
