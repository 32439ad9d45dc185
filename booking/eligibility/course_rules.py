"""A course's eligibility rules as the domain reads them, the facts of a session built from
them, and which completions a decision needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain.booking_rules import SessionFacts, eligibility_reasons
from booking.domain.eligibility import (
    Audience,
    Certification,
    LearnerProfile,
    Prerequisite,
    Question,
)
from booking.domain.reasons import Reason
from booking.domain.schedule import DateSlot, SeatCounts
from booking.models import Course, OrgUnit
from booking.models import Session as SessionRow


def questions_of(course: Course) -> list[Question]:
    return [
        Question(
            id=str(q["id"]),
            label=str(q.get("label") or q["id"]),
            kind=str(q.get("kind", "text")),
            required=bool(q.get("required", False)),
            choices=tuple(str(c) for c in q.get("choices") or ()),
        )
        for q in (course.questions or {}).get("items", [])
    ]


def approval_steps_of(course: Course) -> list[str]:
    return list((course.approval or {}).get("steps", []))


async def course_rules(
    s: AsyncSession, course: Course
) -> tuple[Audience | None, dict[str, str], list[Prerequisite], Certification | None]:
    audience = Audience.from_json(course.audience)
    unit_names: dict[str, str] = {}
    if audience is not None and audience.org_units:
        unit_names = dict(
            (
                await s.execute(
                    select(OrgUnit.code, OrgUnit.name).where(
                        OrgUnit.code.in_(sorted(audience.org_units))
                    )
                )
            ).all()
        )
    items = (course.prerequisites or {}).get("items", [])
    titles: dict[str, str] = {}
    if items:
        titles = dict(
            (
                await s.execute(
                    select(Course.code, Course.title).where(
                        Course.code.in_([p["course_code"] for p in items])
                    )
                )
            ).all()
        )
    prerequisites = [
        Prerequisite(
            p["course_code"],
            titles.get(p["course_code"], p["course_code"]),
            p.get("within_months"),
        )
        for p in items
    ]
    certification = (
        Certification(course.certification_months, course.certification_window_days or 0)
        if course.certification_months
        else None
    )
    return audience, unit_names, prerequisites, certification


CourseRules = tuple[Audience | None, dict[str, str], list[Prerequisite], Certification | None]


def rules_without_reads(
    course: Course,
) -> tuple[Audience | None, dict[str, str], list[Prerequisite], Certification | None] | None:
    """`course_rules` when they need nothing read (no audience of units, no prerequisites, no
    certification), as the lean booking path takes them; None when they do."""
    audience = Audience.from_json(course.audience)
    if (
        (audience is not None and audience.org_units)
        or (course.prerequisites or {}).get("items")
        or course.certification_months
    ):
        return None
    return audience, {}, [], None


async def session_facts(
    s: AsyncSession, session: SessionRow, course: Course, dates: Sequence[DateSlot]
) -> SessionFacts:
    return facts_of(session, course, dates, await course_rules(s, course))


def facts_of(
    session: SessionRow, course: Course, dates: Sequence[DateSlot], rules: CourseRules
) -> SessionFacts:
    """The facts of a session as read (no queries: a booking decides once on what it read
    before taking the session lock and again on the locked row)."""
    audience, unit_names, prerequisites, certification = rules
    return SessionFacts(
        id=session.id,
        course_id=course.id,
        course_title=course.title,
        stored_status=session.status,
        dates=dates,
        signup_opens=session.signup_opens,
        signup_closes=session.signup_closes,
        waitlist_mode=session.waitlist_mode,
        seats=SeatCounts(session.capacity, session.seats_held),
        allow_multiple_bookings=course.allow_multiple_bookings,
        audience=audience,
        course_code=course.code,
        unit_names=unit_names,
        prerequisites=prerequisites,
        certification=certification,
        questions=questions_of(course),
        approval_steps=approval_steps_of(course),
        terms_version=course.terms_version,
    )


def completions_needed(facts: SessionFacts) -> set[str]:
    """The courses whose completions decide this booking: its prerequisites, and the course
    itself when it certifies (a current certification waits for its renewal window)."""
    return _completions_needed(facts.course_code, facts.prerequisites, facts.certification)


def completions_needed_for(course_code: str, rules: CourseRules) -> set[str]:
    return _completions_needed(course_code, rules[2], rules[3])


def _completions_needed(
    course_code: str, prerequisites: Sequence[Prerequisite], certification: Certification | None
) -> set[str]:
    needed = {p.course_code for p in prerequisites}
    if certification is not None:
        needed.add(course_code)
    return needed


def eligibility_reasons_for(
    profile: LearnerProfile, course_code: str, rules: CourseRules, *, now: datetime
) -> list[Reason]:
    """Who the learner is, against the course's rules: the same on every date of the course."""
    audience, unit_names, prerequisites, certification = rules
    return eligibility_reasons(
        profile,
        now=now,
        course_code=course_code,
        audience=audience,
        unit_names=unit_names,
        prerequisites=prerequisites,
        certification=certification,
    )
