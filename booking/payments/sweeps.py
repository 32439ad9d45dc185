"""The worker's billing step: payment holds that ran out, refunds owed for places that ended,
then the queued Stripe calls."""

from __future__ import annotations

import logging
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel import tx
from booking.kernel.actors import Actor
from booking.kernel.locks import lock_booking, lock_session
from booking.models import Booking, Course
from booking.payments.bridge import booking_id_of, reference
from booking.payments.config import billing_config
from booking.seats import withdraw_place

log = logging.getLogger(__name__)


async def run_sweeps(db: Database, clock: Clock, settings: Settings) -> int:
    """The worker's billing step: payment holds, refunds owed, then the queued Stripe calls."""
    config = billing_config(settings)
    count = await expire_payment_holds(db, clock) + await refund_released_places(db, clock)
    if config.gateway is not None:
        delivery = await billing.deliver_actions(db.transaction, config.gateway, clock.now)
        count += delivery.done
        for error in delivery.errors:
            log.warning("a Stripe call failed (it will be retried): %s", error)
    return count


async def expire_payment_holds(db: Database, clock: Clock) -> int:
    """Bookings whose payment did not arrive in time lose the seat (the next in line gets it)
    and their PaymentIntent is cancelled after commit."""
    async with db.reading() as s:
        refs = await billing.expired_holds(s, clock.now())
    done = 0
    for ref in refs:
        booking_id = booking_id_of(ref)
        if booking_id is None:
            continue
        done += await tx.run(db, partial(_expire_hold, clock=clock, booking_id=booking_id, ref=ref))
    return done


async def _expire_hold(s: AsyncSession, *, clock: Clock, booking_id: int, ref: str) -> int:
    now = clock.now()
    session_id = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
    if session_id is None:
        return 0
    session = await lock_session(s, session_id)
    booking = await lock_booking(s, booking_id)
    payment = await billing.payment_for(s, ref, lock=True)
    # Re-checked under the locks: paid meanwhile, or handled by another worker.
    if payment is None or payment.status != "open" or payment.hold_until > now:
        return 0
    if (
        booking is not None
        and session is not None
        and booking.state == BookingState.PENDING_PAYMENT
    ):
        await withdraw_place(
            s,
            booking,
            session,
            actor=Actor.system(),
            now=now,
            reason="Payment was not received in time",
            details=None,
        )
    await billing.cancel_open_payment(s, ref, now=now)
    return 1


async def refund_released_places(db: Database, clock: Clock) -> int:
    """Paid places that ended without a learner's cancellation (the organiser cancelled the
    session, a trainer removed the learner, ...) are refunded in full."""
    async with db.reading() as s:
        refs = await billing.unsettled_paid_references(s)
        ids = [i for i in (booking_id_of(r) for r in refs) if i is not None]
        ended = (
            await s.execute(
                select(Booking.id, Booking.cancel_reason).where(
                    Booking.id.in_(ids),
                    Booking.state.in_((BookingState.CANCELLED, BookingState.DECLINED)),
                )
            )
        ).all()
    done = 0
    for booking_id, why in ended:
        done += await tx.run(
            db, partial(_refund_in_full, clock=clock, booking_id=booking_id, why=why)
        )
    return done


async def _refund_in_full(
    s: AsyncSession, *, clock: Clock, booking_id: int, why: str | None
) -> int:
    course = await s.scalar(
        select(Course).join(Booking, Booking.course_id == Course.id).where(Booking.id == booking_id)
    )
    refunded = await billing.refund_in_full(
        s,
        reference(booking_id),
        description=f"Cancellation: {course.code} {course.title}" if course else "",
        reason=why or "Cancelled by the organiser",
        actor="system",
        now=clock.now(),
    )
    return 1 if refunded else 0
