"""What a course costs (to whom) and what its cancellation policy says, as billing's domain
reads them. A booking keeps the price its learner was quoted when it was made (the discount
price for the discount's audience), so a later change to the course's price or audience does
not change what an existing place costs."""

from __future__ import annotations

import logging

from billing.domain import fees
from billing.domain.money import Money
from booking.domain.eligibility import Audience, LearnerProfile, audience_reasons
from booking.models import Booking, Course

log = logging.getLogger(__name__)


def course_price(course: Course) -> Money | None:
    if not course.price_amount:
        return None
    return Money(course.price_amount, course.price_currency)


def discount_applies(course: Course, learner: LearnerProfile) -> bool:
    """The learner is in the audience of the course's discount price (no audience: everyone)."""
    if course.discount_amount is None:
        return False
    audience = Audience.from_json(course.discount_audience)
    return audience is None or not audience_reasons(audience, learner)


def price_for(course: Course, learner: LearnerProfile) -> Money | None:
    """What this learner pays for a place: the discount price when they are in its audience,
    else the course's price; None when that is nothing."""
    if not discount_applies(course, learner):
        return course_price(course)
    amount = course.discount_amount
    return Money(amount, course.price_currency) if amount else None


def discount_needs_units(course: Course) -> bool:
    """Whether telling the discount's audience needs the learner's units (with the units above)."""
    return course.discount_amount is not None and bool(
        (course.discount_audience or {}).get("org_units")
    )


def booking_price(booking: Booking, course: Course) -> Money | None:
    """What this place costs: the price kept with the booking (bookings made before prices
    were kept have none: the course's price then)."""
    if booking.price_amount is None:
        return course_price(course)
    return Money(booking.price_amount, course.price_currency) if booking.price_amount else None


def course_policy(course: Course) -> fees.FeePolicy:
    try:
        return fees.FeePolicy.from_json(course.cancellation_policy)
    except fees.PolicyError:
        log.exception("course %s: unreadable cancellation policy; no fees applied", course.code)
        return fees.FeePolicy()


def fee_can_arise(course: Course) -> bool:
    """A price, or a fee in the policy: a cost code paying for it needs its budget holder."""
    return course_price(course) is not None
