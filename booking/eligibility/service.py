"""The facts eligibility rules decide on, read from the database in a fixed number of queries,
and the course-page preview of those rules ("before the learner tries")."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.models import Completion as CompletionRow
from booking.models import Course, OrgUnit, Person
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


def _units_above_statement() -> Select[Any]:
    chain = (
        select(OrgUnit.id, OrgUnit.parent_id)
        .where(OrgUnit.id.in_(bindparam("unit_ids", expanding=True)))
        .cte("unit_chain", recursive=True)
    )
    parent = aliased(OrgUnit)
    chain = chain.union(
        select(parent.id, parent.parent_id).join(chain, parent.id == chain.c.parent_id)
    )
    return select(OrgUnit).where(OrgUnit.id.in_(select(chain.c.id)))


# Built once: building this recursive statement cost more than running it.
_UNITS_ABOVE = _units_above_statement()


async def units_above(s: AsyncSession, unit_ids: Iterable[int | None]) -> dict[int, OrgUnit]:
    """These units and every unit above them, in one recursive query. UNION (not UNION ALL)
    drops rows already found, so a cycle in the parents ends the recursion."""
    start = sorted({u for u in unit_ids if u is not None})
    if not start:
        return {}
    return {u.id: u for u in await s.scalars(_UNITS_ABOVE, {"unit_ids": start})}


async def org_unit_path(s: AsyncSession, unit_id: int | None) -> list[OrgUnit]:
    """The unit and its ancestors, nearest first."""
    units = await units_above(s, [unit_id])
    out: list[OrgUnit] = []
    seen: set[int] = set()
    while unit_id is not None and unit_id in units and unit_id not in seen:
        seen.add(unit_id)
        out.append(units[unit_id])
        unit_id = units[unit_id].parent_id
    return out


async def learner_profile(
    s: AsyncSession,
    learner: Person,
    *,
    completions_of: Collection[str] | None = None,
    unit_path: Sequence[str] | None = None,
) -> LearnerProfile:
    """The learner as the rules see them. `completions_of` limits the completions read to
    those courses (none at all when empty: a course without prerequisites or certification
    needs none); `unit_path` stands in for the unit codes from the learner's unit up, when
    the caller knows them or knows they do not matter."""
    if unit_path is None:
        unit_path = [unit.code for unit in await org_unit_path(s, learner.org_unit_id)]
    path = list(unit_path)
    completions: list[Completion] = []
    if completions_of is None or completions_of:
        stmt = (
            select(Course.code, CompletionRow.completed_at, CompletionRow.expires_at)
            .join(Course, Course.id == CompletionRow.course_id)
            .where(CompletionRow.learner_id == learner.id)
        )
        if completions_of is not None:
            stmt = stmt.where(Course.code.in_(sorted(completions_of)))
        completions = [
            Completion(code, completed_at, expires_at)
            for code, completed_at, expires_at in (await s.execute(stmt)).all()
        ]
    return LearnerProfile(
        id=learner.id,
        job_role=learner.job_role,
        staff_type=learner.staff_type,
        org_unit_path=tuple(path),
        completions=tuple(completions),
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
        rules = await course_rules(s, course)
        audience = rules[0]
        profile = await learner_profile(
            s,
            learner,
            completions_of=completions_needed_for(course.code, rules),
            # The units above the learner matter only to a course for some units.
            unit_path=None if audience and audience.org_units else [],
        )
        return eligibility_reasons_for(profile, course.code, rules, now=now or clock.now())
