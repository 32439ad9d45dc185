"""Cancel a booking (or leave the waiting list): the fee as quoted now, the seat given back and
filled from the waiting list, all in one transaction."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from booking import payments, policy
from booking.bookings import lean_cancel
from booking.bookings.idempotency import IdempotencyClaim, run_once
from booking.bookings.locking import lock_for_change
from booking.bookings.requests import BookingOutcome
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import ACTIVE, state_name
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError
from booking.kernel.views import MoneyView
from booking.models import Booking, Course
from booking.reads.bookings import booking_view
from booking.seats import withdraw_place

MAX_REASON_LENGTH = 500


async def cancel_booking(
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    *,
    reason: str,
    details: str | None = None,
    quoted_fee: MoneyView | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> BookingOutcome:
    """Cancel a booking (or leave the waiting list); a freed seat promotes in this transaction."""
    reason = _valid_reason(reason, details)
    if idempotency is None and lean_cancel.is_plain(db, actor):
        outcome = await lean_cancel.cancel_lean(
            db, clock, actor, booking_id, reason=reason, details=details, quoted_fee=quoted_fee
        )
        if outcome is not None:
            return outcome
    work = partial(
        _cancel,
        actor=actor,
        booking_id=booking_id,
        reason=reason,
        details=details,
        quoted_fee=quoted_fee,
    )
    return await run_once(db, clock, idempotency, work)


def _valid_reason(reason: str, details: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError("Give a reason for cancelling.", "reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidError("The reason is limited to 500 characters.", "reason")
    if details is not None and len(details) > 4000:
        raise InvalidError("Details are limited to 4,000 characters.", "details")
    return reason


async def _cancel(
    s: AsyncSession,
    now: datetime,
    *,
    actor: Actor,
    booking_id: int,
    reason: str,
    details: str | None,
    quoted_fee: MoneyView | None,
) -> BookingOutcome:
    booking, session = await lock_for_change(s, actor, booking_id, policy.can_cancel_booking)
    if booking.state not in ACTIVE:
        raise ConflictError(f"This booking is already {state_name(booking.state).lower()}.")
    course = await s.get_one(Course, booking.course_id)
    quote = await payments.quote_for_booking(s, booking, course, now=now)
    fee = MoneyView(quote.fee.amount, quote.fee.currency)
    _check_quoted(quoted_fee, fee)
    promoted = await withdraw_place(
        s, booking, session, actor=actor, now=now, reason=reason, details=details
    )
    await _audit_for_someone_else(s, actor, booking, now=now, reason=reason)
    await payments.settle_cancellation(
        s, booking, course, fee=quote.fee, actor=actor, reason=reason, now=now
    )
    view = await booking_view(s, booking.id, now=now)
    view.fee = fee
    return BookingOutcome(view, 200, promoted=promoted)


def _check_quoted(quoted_fee: MoneyView | None, fee: MoneyView) -> None:
    """The fee is the quote at this moment; a quote the learner saw that no longer matches (a
    tier deadline passed meanwhile) is refused rather than overcharged."""
    if quoted_fee is not None and (
        quoted_fee.amount != fee.amount or quoted_fee.currency != fee.currency
    ):
        raise ConflictError(
            "The cancellation fee has changed since it was quoted; look at the new quote."
        )


async def _audit_for_someone_else(
    s: AsyncSession, actor: Actor, booking: Booking, *, now: datetime, reason: str
) -> None:
    """Someone else's place (a trainer removing, an administrator cancelling) is audited."""
    if actor.person_id == booking.learner_id:
        return
    await audit.record(
        s,
        action="booking.cancelled",
        now=now,
        actor=actor,
        target=f"booking {booking.id}",
        details={"session": booking.session_id, "reason": reason},
    )
