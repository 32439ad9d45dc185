"""What a course costs and what its cancellation policy says, as billing's domain reads them."""

from __future__ import annotations

import logging

from billing.domain import fees
from billing.domain.money import Money
from booking.models import Course

log = logging.getLogger(__name__)


def course_price(course: Course) -> Money | None:
    if not course.price_amount:
        return None
    return Money(course.price_amount, course.price_currency)


def course_policy(course: Course) -> fees.FeePolicy:
    try:
        return fees.FeePolicy.from_json(course.cancellation_policy)
    except fees.PolicyError:
        log.exception("course %s: unreadable cancellation policy; no fees applied", course.code)
        return fees.FeePolicy()


def fee_can_arise(course: Course) -> bool:
    """A price, or a fee in the policy: a cost code paying for it needs its budget holder."""
    return course_price(course) is not None
