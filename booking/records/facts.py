"""What records are built from, read for many learners in a fixed number of queries: the
learners (person, unit path, completions, bookings) and the part of the catalogue their records
show (courses and their record rules)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain import records as rules
from booking.domain import requirements as req_rules
from booking.domain.eligibility import Audience, LearnerProfile, audience_reasons
from booking.domain.states import FINAL
from booking.models import (
    Booking,
    Certificate,
    Completion,
    Course,
    CourseRecordRule,
    OrgUnit,
    Person,
    Requirement,
)
from booking.models import Session as SessionRow
from booking.records.criteria import rule_of
from booking.records.requirement_rules import accepted_codes


@dataclass(slots=True)
class Learner:
    person: Person
    unit_path: tuple[str, ...]
    unit_code: str | None
    unit_name: str | None
    completions: dict[int, list[Completion]] = field(default_factory=dict)
    bookings: list[tuple[Booking, SessionRow]] = field(default_factory=list)
    # Open requirement rows, by course id.
    requirements: dict[int, list[Requirement]] = field(default_factory=dict)

    def requirement(self, course_id: int, via: str) -> Requirement | None:
        return next((r for r in self.requirements.get(course_id, []) if r.via == via), None)

    # completion id → its certificate's id (read with the completions).
    certificates: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class Catalogue:
    courses: dict[int, Course]
    by_code: dict[str, Course]
    rule_rows: dict[int, CourseRecordRule]

    def facts(self, course: Course) -> rules.CourseFacts:
        row = self.rule_rows.get(course.id)
        return rules.CourseFacts(
            course_id=course.id,
            code=course.code,
            title=course.title,
            mandatory=bool(row and row.mandatory),
            due_within_days=row.due_within_days if row else None,
            certification_window_days=course.certification_window_days,
            certifies=bool(course.certification_months),
        )

    def facts_for(self, course: Course, learner: Learner) -> rules.CourseFacts:
        """The course's facts for this learner: mandatory only if they are in its audience."""
        facts = self.facts(course)
        return rules.CourseFacts(
            facts.course_id,
            facts.code,
            facts.title,
            mandatory_for(self, course, learner),
            facts.due_within_days,
            facts.certification_window_days,
            facts.certifies,
        )


async def whole_catalogue(s: AsyncSession) -> Catalogue:
    """Every course and every rule: for the compliance report, which covers everyone."""
    courses = {c.id: c for c in await s.scalars(select(Course))}
    return Catalogue(
        courses,
        {c.code: c for c in courses.values()},
        {r.course_id: r for r in await s.scalars(select(CourseRecordRule))},
    )


async def catalogue_for(s: AsyncSession, learners: Sequence[Learner]) -> Catalogue:
    """The part of the catalogue these learners' records can show, not every course: the
    courses they have completions or bookings for, with their rules; every course that is
    mandatory for its audience or completed through criteria (`relevant_courses` decides
    whether it concerns the learner); and the criteria courses of those, for their titles.
    A record built from it is the same as one built from the whole catalogue."""
    ids: set[int] = set()
    for learner in learners:
        ids.update(learner.completions)
        ids.update(b.course_id for b, _ in learner.bookings)
    rows = (
        await s.execute(
            select(Course, CourseRecordRule)
            .outerjoin(CourseRecordRule, CourseRecordRule.course_id == Course.id)
            .where(
                or_(
                    Course.id.in_(sorted(ids)),
                    CourseRecordRule.mandatory.is_(True),
                    CourseRecordRule.completion_mode.is_not(None),
                )
            )
        )
    ).all()
    courses = {c.id: c for c, _ in rows}
    rule_rows = {r.course_id: r for _, r in rows if r is not None}
    by_code = {c.code: c for c in courses.values()}
    criteria: set[str] = set()
    for course_id, row in rule_rows.items():
        rule = rule_of(courses[course_id], row)
        if rule is not None:
            criteria.update(rule.criteria)
    missing = sorted(criteria - set(by_code))
    if missing:
        for c in await s.scalars(select(Course).where(Course.code.in_(missing))):
            courses[c.id] = c
            by_code[c.code] = c
    return Catalogue(courses, by_code, rule_rows)


async def all_units(s: AsyncSession) -> dict[int, OrgUnit]:
    return {u.id: u for u in await s.scalars(select(OrgUnit))}


async def learners_of(
    s: AsyncSession,
    people: Sequence[Person],
    units: dict[int, OrgUnit],
    *,
    with_bookings: bool = True,
) -> list[Learner]:
    """Each person's completions (and bookings), and their unit path from `units`, which must
    hold their units and every unit above them."""
    learners = {p.id: _learner(p, units) for p in people}
    ids = list(learners)
    for chunk in chunks(ids, 500):
        for c, certificate_id in await s.execute(
            select(Completion, Certificate.id)
            .outerjoin(Certificate, Certificate.completion_id == Completion.id)
            .where(Completion.learner_id.in_(chunk))
            .order_by(Completion.completed_at)
        ):
            learner = learners[c.learner_id]
            learner.completions.setdefault(c.course_id, []).append(c)
            if certificate_id is not None:
                learner.certificates[c.id] = certificate_id
        for r in await s.scalars(
            select(Requirement)
            .where(Requirement.person_id.in_(chunk), Requirement.closed_at.is_(None))
            .order_by(Requirement.id)
        ):
            learners[r.person_id].requirements.setdefault(r.course_id, []).append(r)
        if with_bookings:
            for b, session in await s.execute(
                select(Booking, SessionRow)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(Booking.learner_id.in_(chunk))
                .order_by(SessionRow.starts_at)
            ):
                learners[b.learner_id].bookings.append((b, session))
    return [learners[i] for i in ids]


def _learner(person: Person, units: dict[int, OrgUnit]) -> Learner:
    unit = units.get(person.org_unit_id) if person.org_unit_id is not None else None
    return Learner(
        person,
        _unit_path(person.org_unit_id, units),
        unit.code if unit is not None else None,
        unit.name if unit is not None else None,
    )


def _unit_path(unit_id: int | None, units: dict[int, OrgUnit]) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[int] = set()
    while unit_id is not None and unit_id in units and unit_id not in seen:
        seen.add(unit_id)
        out.append(units[unit_id].code)
        unit_id = units[unit_id].parent_id
    return tuple(out)


def chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def held(completions: Sequence[Completion]) -> list[rules.HeldCompletion]:
    return [rules.HeldCompletion(c.completed_at, c.expires_at) for c in completions]


def _in_audience(course: Course, learner: Learner) -> bool:
    audience = Audience.from_json(course.audience)
    if audience is None:
        return True
    profile = LearnerProfile(
        id=learner.person.id,
        job_role=learner.person.job_role,
        staff_type=learner.person.staff_type,
        org_unit_path=learner.unit_path,
    )
    return not audience_reasons(audience, profile)


def relevant_courses(cat: Catalogue, learner: Learner) -> list[Course]:
    """Courses that belong on the learner's record: completed, booked or attended, in progress
    through criteria, or mandatory for them."""
    ids = set(learner.completions)
    ids.update(b.course_id for b, _ in learner.bookings if b.state not in FINAL)
    done_codes = {cat.courses[i].code for i in learner.completions if i in cat.courses}
    for course_id, row in cat.rule_rows.items():
        course = cat.courses.get(course_id)
        if course is None:
            continue
        rule = rule_of(course, row)
        if rule is not None and done_codes.intersection(rule.criteria):
            ids.add(course_id)
        if row.mandatory and _in_audience(course, learner):
            ids.add(course_id)
    return sorted((cat.courses[i] for i in ids if i in cat.courses), key=lambda c: c.title)


def mandatory_for(cat: Catalogue, course: Course, learner: Learner) -> bool:
    row = cat.rule_rows.get(course.id)
    return bool(row and row.mandatory and _in_audience(course, learner))


def due_for(cat: Catalogue, course: Course, learner: Learner) -> datetime | None:
    """When the learner's requirement to complete this mandatory course is due: its row's due
    date; before the sweep has made the row, by the same rule, as if it applied when the course
    was last made mandatory (its rule's last change) or when the person was created."""
    row = learner.requirement(course.id, "course")
    if row is not None:
        return row.due_at
    rule = cat.rule_rows.get(course.id)
    if rule is None or rule.due_within_days is None:
        return None
    person = learner.person
    start = req_rules.start_moment(person.start_date, person.created_at)
    applied = max(person.created_at, rule.updated_at)
    return req_rules.due_at(start, applied, rule.due_within_days)


def satisfying(cat: Catalogue, course: Course, learner: Learner) -> list[Completion]:
    """The learner's completions that meet a requirement of this course: its own and those of
    the courses its rule accepts (`accepted_courses`), oldest first."""
    own = learner.completions.get(course.id, [])
    codes = accepted_codes(cat.rule_rows.get(course.id))
    if not codes:
        return own
    others = [
        c
        for code in codes
        if code in cat.by_code
        for c in learner.completions.get(cat.by_code[code].id, [])
    ]
    return sorted([*own, *others], key=lambda c: c.completed_at)
