"""The facts eligibility rules decide on, read from the database in a fixed number of queries,
and the course-page preview of those rules ("before the learner tries")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.booking_rules import SessionFacts, eligibility_reasons
from booking.domain.eligibility import (
    Audience,
    Certification,
    Completion,
    LearnerProfile,
    Prerequisite,
    Question,
)
from booking.domain.reasons import Reason
from booking.domain.schedule import DateSlot, SeatCounts
from booking.models import Completion as CompletionRow
from booking.models import Course, OrgUnit, Person
from booking.models import Session as SessionRow
from booking.services.actors import Actor
from booking.services.errors import ForbiddenError, NotFoundError


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


async def session_facts(
    s: AsyncSession, session: SessionRow, course: Course, dates: Sequence[DateSlot]
) -> SessionFacts:
    audience, unit_names, prerequisites, certification = await course_rules(s, course)
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


async def learner_profile(s: AsyncSession, learner: Person) -> LearnerProfile:
    path: list[str] = []
    seen: set[int] = set()
    unit_id = learner.org_unit_id
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        unit = await s.get(OrgUnit, unit_id)
        if unit is None:
            break
        path.append(unit.code)
        unit_id = unit.parent_id
    completions = [
        Completion(code, completed_at, expires_at)
        for code, completed_at, expires_at in (
            await s.execute(
                select(Course.code, CompletionRow.completed_at, CompletionRow.expires_at)
                .join(Course, Course.id == CompletionRow.course_id)
                .where(CompletionRow.learner_id == learner.id)
            )
        ).all()
    ]
    return LearnerProfile(
        id=learner.id,
        job_role=learner.job_role,
        staff_type=learner.staff_type,
        org_unit_path=tuple(path),
        completions=tuple(completions),
    )


async def preview(
    db: Database, clock: Clock, actor: Actor, course_id: int, *, now: datetime | None = None
) -> list[Reason]:
    """Why the actor could not book this course, if they could not: shown before they try."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people book courses.")
    async with db.reading() as s:
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        learner = await s.get_one(Person, actor.person_id)
        audience, unit_names, prerequisites, certification = await course_rules(s, course)
        return eligibility_reasons(
            await learner_profile(s, learner),
            now=now or clock.now(),
            course_code=course.code,
            audience=audience,
            unit_names=unit_names,
            prerequisites=prerequisites,
            certification=certification,
        )
