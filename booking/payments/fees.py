"""Fees on booking's side: a cancellation settled with its fee, attendance charged (or the
no-show fee), the fees a booking owes, and an administrator's waiver."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from billing.domain import fees
from billing.domain.money import Money
from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.models import Booking, Course
from booking.payments.bridge import billing_errors, reference
from booking.payments.prices import booking_price, course_policy


async def settle_cancellation(
    s: AsyncSession,
    booking: Booking,
    course: Course,
    *,
    fee: Money,
    actor: Actor,
    reason: str,
    now: datetime,
) -> Money | None:
    """The cancellation's fee to its payer, a card payment refunded less the fee; the refund
    queued, if any."""
    return await billing.settle_cancellation(
        s,
        reference(booking.id),
        fee=fee,
        cost_code=booking.cost_code,
        description=f"Cancellation: {course.code} {course.title}",
        reason=reason,
        actor=actor.label,
        now=now,
    )


async def fees_for(s: AsyncSession, booking_ids: list[int]) -> dict[int, Money]:
    """Net fees per booking (only bookings that owe or owed one)."""
    found = await billing.fees_for(s, [reference(i) for i in booking_ids])
    return {i: found[reference(i)] for i in booking_ids if reference(i) in found}


async def on_attendance(
    s: AsyncSession, booking: Booking, course: Course, *, actor: Actor, now: datetime
) -> None:
    """Called by `mark_attendance` for every changed mark: attendance by cost code is charged,
    a no-show is charged the course's no-show fee, a changed mark is corrected."""
    price = booking_price(booking, course)
    await billing.record_attendance(
        s,
        reference(booking.id),
        status=booking.state,
        cost_code=booking.cost_code,
        price=price,
        no_show_fee=fees.no_show_fee(course_policy(course), price),
        description=f"{course.code} {course.title}",
        actor=actor.label,
        now=now,
    )


async def waive_fee(
    db: Database, clock: Clock, actor: Actor, booking_id: int, *, reason: str
) -> Money:
    """What is left of the booking's fees waived, with a reason (and refunded to a card)."""
    if not policy.can_manage_billing(actor):
        raise ForbiddenError("Only an administrator can waive a fee.")
    async with db.transaction() as s:
        if await s.get(Booking, booking_id) is None:
            raise NotFoundError(f"There is no booking {booking_id}.")
        with billing_errors():
            waived = await billing.waive_fees(
                s, reference(booking_id), reason=reason, actor=actor.label, now=clock.now()
            )
        await audit.record(
            s,
            action="fee.waived",
            now=clock.now(),
            actor=actor,
            target=f"booking {booking_id}",
            details={"amount": waived.display(), "reason": reason},
        )
        return waived
