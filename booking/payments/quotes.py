"""Cancellation quotes: what cancelling a booking costs now, and the course's terms as one
sentence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from billing.domain import fees
from billing.domain.money import Money
from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import ACTIVE, BookingState
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.models import Booking, Course, SessionDate
from booking.models import Session as SessionRow
from booking.payments.bridge import reference
from booking.payments.prices import booking_price, course_policy, course_price
from booking.seats import booking_access


async def first_date(s: AsyncSession, session_id: int) -> tuple[datetime, str]:
    """The session's first date and its time zone (the start, in UTC, when it has no dates)."""
    row = (
        await s.execute(
            select(SessionDate.start_at, SessionDate.timezone)
            .where(SessionDate.session_id == session_id, SessionDate.removed_at.is_(None))
            .order_by(SessionDate.start_at)
            .limit(1)
        )
    ).first()
    if row is None:
        session = await s.get_one(SessionRow, session_id)
        return session.starts_at, "UTC"
    return row.start_at, row.timezone


class PolicyTier(TypedDict):
    """The tier of the cancellation policy that applies now: the notice it asks for, the fee
    it charges, and the quote's reason as its label."""

    min_notice_hours: int
    fee_percent: int
    label: str


@dataclass(slots=True)
class QuoteView:
    """What cancelling a booking costs now (`GET /bookings/{id}/cancellation-quote`)."""

    fee: Money
    refund: Money | None
    policy_tier: PolicyTier | None
    free_until: datetime | None
    reason: str
    # The whole policy for this booking's session, from now on, as one sentence.
    terms: str | None = None


def cancellation_terms(
    course: Course, *, start: datetime, timezone: str, now: datetime | None = None
) -> str | None:
    """The course's cancellation policy for a session starting at `start`, as one sentence
    (None for a course without a price: nothing can be charged)."""
    price = course_price(course)
    if price is None:
        return None
    return fees.cancellation_terms(
        course_policy(course), price, first_start=start, timezone=timezone, now=now
    )


def policy_terms(
    policy: dict[str, Any] | None,
    price_amount: int | None,
    currency: str,
    *,
    start: datetime,
    timezone: str,
) -> str | None:
    """A cancellation policy not saved yet (the course form's preview), as the sentence the
    course page would show for a session starting at `start`; None when it cannot be read."""
    try:
        fee_policy = fees.FeePolicy.from_json(policy)
    except fees.PolicyError:
        return None
    price = Money(price_amount, currency) if price_amount else None
    return fees.cancellation_terms(fee_policy, price, first_start=start, timezone=timezone)


async def quote_for_booking(
    s: AsyncSession, booking: Booking, course: Course, *, now: datetime
) -> QuoteView:
    """What cancelling this booking at `now` costs: only a place held and paid for (by cost
    code, or by a card payment that went through) can cost anything."""
    start, timezone = await first_date(s, booking.session_id)
    payment = await billing.payment_for(s, reference(booking.id))
    paid = payment.amount if payment is not None and payment.status == "succeeded" else None
    return quote_from_rows(booking, course, start=start, timezone=timezone, paid=paid, now=now)


def quote_from_rows(
    booking: Booking,
    course: Course,
    *,
    start: datetime,
    timezone: str,
    paid: Money | None,
    now: datetime,
) -> QuoteView:
    """`quote_for_booking` on facts already read: the first date, and what a card payment took."""
    price = booking_price(booking, course) if booking.cost_code else None
    quote = fees.quote_cancellation(
        course_policy(course),
        price=price,
        paid=paid,
        first_start=start,
        timezone=timezone,
        now=now,
        holds_place=booking.state == BookingState.BOOKED,
    )
    if quote.fee.amount == 0 and paid is None and price is None:
        currency = course.price_currency
        quote = fees.Quote(Money(0, currency), None, None, quote.free_until, quote.reason)
    return QuoteView(
        fee=quote.fee,
        refund=quote.refund,
        policy_tier=PolicyTier(
            min_notice_hours=quote.tier.min_notice_hours,
            fee_percent=quote.tier.fee_percent,
            label=quote.reason,
        )
        if quote.tier
        else None,
        free_until=quote.free_until.astimezone(ZoneInfo(timezone)) if quote.free_until else None,
        reason=quote.reason,
        # Only for a place something is (or will be) charged for, as the quote itself.
        terms=cancellation_terms(course, start=start, timezone=timezone, now=now)
        if paid is not None or price is not None
        else None,
    )


async def cancellation_quote(
    db: Database, clock: Clock, actor: Actor, booking_id: int
) -> QuoteView:
    """`GET /bookings/{id}/cancellation-quote`: visible to whoever may see the booking."""
    async with db.reading() as s:
        booking = await s.get(Booking, booking_id)
        if booking is None or not policy.can_view_booking(actor, await booking_access(s, booking)):
            raise NotFoundError(f"There is no booking {booking_id}.")
        course = await s.get_one(Course, booking.course_id)
        return await quote_for_booking(s, booking, course, now=clock.now())


async def quotes_for_bookings(
    s: AsyncSession, bookings: list[Booking], *, now: datetime
) -> dict[int, QuoteView]:
    """`quote_for_booking` for each booking that holds or waits for a place."""
    out: dict[int, QuoteView] = {}
    for b in bookings:
        if b.state in ACTIVE:
            out[b.id] = await quote_for_booking(s, b, await s.get_one(Course, b.course_id), now=now)
    return out
