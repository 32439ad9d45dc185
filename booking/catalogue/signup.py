"""The sign-up form of a course: what it asks before a learner books."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing.domain.money import Money
from booking.db import Database
from booking.domain.approvals import approver_label
from booking.domain.eligibility import Audience, audience_phrase
from booking.kernel.errors import NotFoundError
from booking.models import Course


@dataclass(frozen=True, slots=True)
class SignUpForm:
    """What the sign-up form asks: questions, the terms to accept, and who must approve."""

    questions: list[dict[str, Any]]
    terms_text: str | None
    terms_version: int
    needs_terms: bool
    approvers: list[str]
    # The course's price, shown where the form asks for a cost code to pay it ("£150.00").
    price: str | None = None


async def sign_up_form(db: Database, course_id: int) -> SignUpForm:
    async with db.reading() as s:
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        steps = list((course.approval or {}).get("steps", []))
        return SignUpForm(
            questions=list((course.questions or {}).get("items", [])),
            terms_text=course.terms_text,
            terms_version=course.terms_version,
            needs_terms="self" in steps,
            approvers=[approver_label(k) for k in steps if k != "self"],
            price=_price(course),
        )


def _price(course: Course) -> str | None:
    """The price as the cost-code hint says it, with the discount price and who pays it."""
    if not course.price_amount:
        return None
    text = Money(course.price_amount, course.price_currency).display()
    if course.discount_amount is not None:
        discount = Money(course.discount_amount, course.price_currency).display()
        who = audience_phrase(Audience.from_json(course.discount_audience))
        text += f" ({discount} for {who})"
    return text
