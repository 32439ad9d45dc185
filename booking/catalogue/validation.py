"""Checks on what an administrator gives before anything is read or written: a course's
details, a session's settings and dates. Each refusal names the field it is about."""

from __future__ import annotations

import re
from typing import Any

from booking.catalogue.inputs import UNSET, CourseInput, DateInput, DiscountInput
from booking.domain.eligibility import QUESTION_KINDS
from booking.domain.schedule import (
    DateSlot,
    ScheduleError,
    make_slot,
    validate_capacity,
    validate_dates,
)
from booking.kernel.errors import InvalidError

APPROVAL_STEPS = ("self", "manager", "budget_holder", "admin")
STAFF_TYPES = ("payroll", "casual", "associate", "external")
WAITLIST_MODES = ("auto", "offer", "off")
# An owner is a person or a team mailbox: one address, as the people import reads them.
OWNER_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")


def validate_course(data: CourseInput) -> None:
    """Refuse a course whose details could not be stored or would not make sense, the first
    problem found (in the order of the form)."""
    _check_code_title_price(data)
    _check_category_owner(data)
    if data.discount is not UNSET and data.discount is not None:
        _check_discount(data, data.discount)
    _check_approval(data.approval)
    if data.cancellation_policy is not None:
        _check_cancellation_policy(data.cancellation_policy)
    _check_audience(data.audience or {})
    _check_prerequisites(data.code, data.prerequisites)
    _check_terms(data)
    _check_certification(data.certification_months, data.certification_window_days)
    _check_questions(data.questions)


def _check_code_title_price(data: CourseInput) -> None:
    if not data.code.strip() or len(data.code) > 64:
        raise InvalidError("A course code is required (at most 64 characters).", "code")
    if not data.title.strip() or len(data.title) > 300:
        raise InvalidError("A course title is required (at most 300 characters).", "title")
    if data.price is not None and data.price.amount < 0:
        raise InvalidError("A price cannot be negative.", "price")


def _check_category_owner(data: CourseInput) -> None:
    if data.category is not UNSET and data.category is not None and len(data.category) > 100:
        raise InvalidError("A category is at most 100 characters.", "category")
    owner = data.owner_email
    if (
        owner is not UNSET
        and owner is not None
        and (len(owner) > 320 or not OWNER_EMAIL.match(owner.strip()))
    ):
        raise InvalidError(
            "Give the owner as one email address, such as training@example.org.", "owner_email"
        )


def _check_discount(data: CourseInput, discount: DiscountInput) -> None:
    if data.price is None:
        raise InvalidError("A discount price needs a normal price to be lower than.", "discount")
    if not 0 <= discount.amount < data.price.amount:
        raise InvalidError(
            "The discount price must be at least 0 and lower than the normal price.", "discount"
        )
    _check_audience(discount.audience or {}, field="discount_audience")


def _check_approval(steps: list[str]) -> None:
    for step in steps:
        if step not in APPROVAL_STEPS:
            raise InvalidError(
                f"“{step}” is not an approval step; use self, manager, budget_holder or admin.",
                "approval",
            )
    if len(set(steps)) != len(steps):
        raise InvalidError("An approval step is listed twice.", "approval")


def _check_cancellation_policy(policy: dict[str, Any]) -> None:
    tiers = policy.get("tiers", [])
    if not isinstance(tiers, list):
        raise InvalidError("Cancellation tiers must be a list.", "cancellation_policy")
    for tier in tiers:
        hours, percent = tier.get("min_notice_hours"), tier.get("fee_percent")
        if not isinstance(hours, int) or hours < 0:
            raise InvalidError(
                "Each cancellation tier needs min_notice_hours ≥ 0.", "cancellation_policy"
            )
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidError(
                "Each cancellation tier needs fee_percent from 0 to 100.",
                "cancellation_policy",
            )
    no_show = policy.get("no_show_fee_percent", 0)
    if not isinstance(no_show, int) or not 0 <= no_show <= 100:
        raise InvalidError("no_show_fee_percent must be from 0 to 100.", "cancellation_policy")


def _check_audience(audience: dict[str, Any], *, field: str = "audience") -> None:
    for key in ("org_units", "job_roles", "staff_types"):
        value = audience.get(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise InvalidError(f"{field}.{key} must be a list of strings.", field)
    for staff_type in audience.get("staff_types") or []:
        if staff_type not in STAFF_TYPES:
            raise InvalidError(
                f"“{staff_type}” is not a staff type; use payroll, casual, associate or external.",
                field,
            )


def _check_prerequisites(code: str, prerequisites: list[dict[str, Any]]) -> None:
    for prerequisite in prerequisites:
        if not isinstance(prerequisite.get("course_code"), str):
            raise InvalidError("Each prerequisite needs a course_code.", "prerequisites")
        within = prerequisite.get("within_months")
        if within is not None and (not isinstance(within, int) or not 1 <= within <= 240):
            raise InvalidError("within_months must be from 1 to 240.", "prerequisites")
        if prerequisite["course_code"] == code:
            raise InvalidError("A course cannot be its own prerequisite.", "prerequisites")


def _check_terms(data: CourseInput) -> None:
    if "self" in data.approval and not (data.terms_text or "").strip():
        raise InvalidError(
            "Self-authorisation means accepting the course's terms: give the terms text.",
            "terms_text",
        )
    if data.terms_text is not None and len(data.terms_text) > 20_000:
        raise InvalidError("Terms are limited to 20,000 characters.", "terms_text")


def _check_certification(months: int | None, window_days: int | None) -> None:
    if months is None:
        return
    if not 1 <= months <= 240:
        raise InvalidError("certification months must be from 1 to 240.", "certification")
    window = window_days or 0
    if not 0 <= window <= months * 31:
        raise InvalidError(
            "The renewal window must open between 0 days and the certification's length "
            "before expiry.",
            "certification",
        )


def _check_questions(questions: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for q in questions:
        qid, label, kind = q.get("id"), q.get("label"), q.get("kind", "text")
        if not isinstance(qid, str) or not qid.strip() or len(qid) > 64:
            raise InvalidError("Each question needs an id of at most 64 characters.", "questions")
        if qid in seen:
            raise InvalidError(f"Question id {qid} is used twice.", "questions")
        seen.add(qid)
        if not isinstance(label, str) or not label.strip():
            raise InvalidError(f"Question {qid} needs a label.", "questions")
        if len(label) > 5000 or any(len(str(c)) > 5000 for c in q.get("choices") or []):
            raise InvalidError(
                f"Question {qid}: a label or choice is at most 5,000 characters.", "questions"
            )
        if kind not in QUESTION_KINDS:
            raise InvalidError(f"Question {qid}: kind must be text, choice or yes_no.", "questions")
        choices = q.get("choices") or []
        if kind == "choice" and (
            len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            raise InvalidError(f"Question {qid} needs at least two choices.", "questions")


def check_session_settings(
    capacity: int | None,
    waitlist_mode: str | None,
    offer_hours: int | None,
    min_bookings: int | None,
) -> None:
    """A session's numbers and waiting-list mode; None is "not given" (a change)."""
    try:
        if capacity is not None:
            validate_capacity(capacity)
    except ScheduleError as exc:
        raise InvalidError(exc.message, exc.field) from exc
    if waitlist_mode is not None and waitlist_mode not in WAITLIST_MODES:
        raise InvalidError("waitlist_mode must be auto, offer or off.", "waitlist_mode")
    if offer_hours is not None and not 1 <= offer_hours <= 24 * 14:
        raise InvalidError("offer_hours must be from 1 to 336 (two weeks).", "offer_hours")
    if min_bookings is not None and min_bookings < 0:
        raise InvalidError("min_bookings cannot be negative.", "min_bookings")


def slots_of(dates: list[DateInput]) -> list[DateSlot]:
    """The dates as the domain's slots, validated (each ends after it starts, none overlap),
    in order of start."""
    try:
        return validate_dates(
            [make_slot(d.start, d.end, d.timezone, index=i) for i, d in enumerate(dates)]
        )
    except ScheduleError as exc:
        raise InvalidError(exc.message, exc.field) from exc
