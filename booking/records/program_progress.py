"""A person's progress through the learning programs that apply to them, read for many people in
a fixed number of statements, and the courses those programs still require of them.

A program applies to a person in its audience (units with their sub-units, job roles, staff
types; no audience: everyone). Its due date is `due_within_days` after the later of the person's
start and the day it applied to them (the assignment sweep's `applied_at`; before the sweep has
seen them: the later of the program's and the person's creation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain import programs as rule
from booking.domain import requirements as req_rules
from booking.domain.eligibility import Audience, LearnerProfile, audience_reasons
from booking.domain.learning_vocabulary import (
    ProgramCourseState,
    ProgramSetRule,
    ProgramStatus,
    RequiredStatus,
)
from booking.domain.states import ACTIVE
from booking.models import Course, CourseRecordRule, Program, ProgramAssignment, ProgramSet
from booking.records.facts import Learner, chunks
from booking.records.program_views import (
    ProgramCourseRequirement,
    ProgramCourseStatus,
    ProgramProgressView,
    ProgramRequiredView,
    ProgramSetProgress,
)
from booking.records.views import REQUIRED_LABELS, RecordView


@dataclass(slots=True)
class ProgramCatalogue:
    """The programs in use, their sets, the courses they name, and when each applied to whom."""

    programs: list[Program]
    sets: dict[int, list[rule.SetRule]]
    courses: dict[str, Course]
    applied: dict[tuple[int, int], datetime]
    # A course's accepted courses (record rules): their completions count for it too.
    accepted: dict[str, list[str]] = field(default_factory=dict)


async def _courses_and_accepted(
    s: AsyncSession, codes: set[str]
) -> tuple[dict[str, Course], dict[str, list[str]]]:
    """The programs' courses by code, which other courses each accepts, and those courses
    too (for their completions): at most three statements."""
    if not codes:
        return {}, {}
    rows = (
        await s.execute(
            select(Course, CourseRecordRule.accepted_courses)
            .outerjoin(CourseRecordRule, CourseRecordRule.course_id == Course.id)
            .where(Course.code.in_(sorted(codes)))
        )
    ).all()
    courses = {c.code: c for c, _ in rows}
    accepted = {c.code: [str(x) for x in (acc or {}).get("codes", [])] for c, acc in rows if acc}
    missing = sorted({x for xs in accepted.values() for x in xs} - set(courses))
    if missing:
        for c in await s.scalars(select(Course).where(Course.code.in_(missing))):
            courses[c.code] = c
    return courses, accepted


async def program_catalogue(s: AsyncSession, people_ids: Sequence[int]) -> ProgramCatalogue:
    """Everything the programs of these people need: four statements (more only past 500
    people, one per 500)."""
    programs = list(
        await s.scalars(
            select(Program).where(Program.archived_at.is_(None)).order_by(Program.title, Program.id)
        )
    )
    sets: dict[int, list[rule.SetRule]] = {p.id: [] for p in programs}
    codes: set[str] = set()
    if programs:
        for row in await s.scalars(
            select(ProgramSet)
            .where(ProgramSet.program_id.in_(list(sets)))
            .order_by(ProgramSet.program_id, ProgramSet.position)
        ):
            sets[row.program_id].append(rule.SetRule(row.title, row.rule, tuple(row.course_codes)))
            codes.update(row.course_codes)
    courses, accepted = await _courses_and_accepted(s, codes)
    applied: dict[tuple[int, int], datetime] = {}
    for chunk in chunks(list(people_ids), 500):
        if not programs:
            break
        for a in await s.scalars(
            select(ProgramAssignment).where(ProgramAssignment.person_id.in_(chunk))
        ):
            applied[(a.program_id, a.person_id)] = a.applied_at
    return ProgramCatalogue(programs, sets, courses, applied, accepted)


def in_audience(audience_json: dict | None, learner: Learner) -> bool:
    audience = Audience.from_json(audience_json)
    if audience is None:
        return True
    p = learner.person
    profile = LearnerProfile(p.id, p.job_role, p.staff_type, learner.unit_path)
    return not audience_reasons(audience, profile)


def learner_programs(
    pc: ProgramCatalogue, learner: Learner, now: datetime
) -> list[ProgramProgressView]:
    """Every program whose audience includes the learner, with their progress (no queries)."""
    complete, started = _course_facts(pc, learner, now)
    out: list[ProgramProgressView] = []
    for program in pc.programs:
        if not in_audience(program.audience, learner):
            continue
        progress = rule.progress(pc.sets[program.id], complete, started)
        due = _due(pc, program, learner)
        out.append(
            ProgramProgressView(
                id=program.id,
                code=program.code,
                title=program.title,
                status=cast(ProgramStatus, progress.status),
                progress_percent=progress.progress_percent,
                due_at=due,
                sets=[_set_view(pc, x) for x in progress.sets],
                overdue=due is not None and now >= due and progress.status != rule.COMPLETE,
            )
        )
    return out


def program_requirements(
    pc: ProgramCatalogue, learner: Learner, now: datetime
) -> list[ProgramCourseRequirement]:
    """The courses the learner's programs still require: each not-complete course of an
    incomplete `all` or `any` set, with the program and its due date (first program wins)."""
    out: dict[str, ProgramCourseRequirement] = {}
    complete, started = _course_facts(pc, learner, now)
    for program in pc.programs:
        if not in_audience(program.audience, learner):
            continue
        progress = rule.progress(pc.sets[program.id], complete, started)
        for code in rule.still_required(progress.sets):
            course = pc.courses.get(code)
            if course is None or code in out:
                continue
            out[code] = ProgramCourseRequirement(
                course.id,
                code,
                course.title,
                program.code,
                program.title,
                _due(pc, program, learner),
            )
    return list(out.values())


def with_programs(
    record: RecordView, pc: ProgramCatalogue, learner: Learner, now: datetime
) -> RecordView:
    """The record with its `programs`, and the courses programs require added to `required`
    (a course already required on its own keeps its own item: its own `via` wins)."""
    record.programs = learner_programs(pc, learner, now)
    have = {r.course_id for r in record.required}
    started = {b.course_id for b, _ in learner.bookings if b.state in ACTIVE}
    for item in program_requirements(pc, learner, now):
        if item.course_id in have:
            continue
        # The sweep's program row, once made, is the due date (the same rule, kept each tick).
        row = learner.requirement(item.course_id, "program")
        due = row.due_at if row is not None else item.due_at
        overdue = due is not None and now >= due
        status = (
            "overdue"
            if overdue
            else ("in_progress" if item.course_id in started else "not_started")
        )
        record.required.append(
            ProgramRequiredView(
                item.course_id,
                item.course_code,
                item.course_title,
                "mandatory",
                due,
                cast(RequiredStatus, status),
                REQUIRED_LABELS.get(status, status),
                overdue,
                via={"program": item.program_code},
                program_title=item.program_title,
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    record.required.sort(key=lambda r: (r.due_at or far, r.course_title))
    return record


def _course_facts(
    pc: ProgramCatalogue, learner: Learner, now: datetime
) -> tuple[Callable[[str], bool], Callable[[str], bool]]:
    """Which course codes the learner holds a current completion of (of the course itself or
    of a course it accepts), and which they have booked."""
    by_id = {c.id: code for code, c in pc.courses.items()}
    done: set[str] = set()
    for course_id, completions in learner.completions.items():
        code = by_id.get(course_id)
        if code is None or not completions:
            continue
        last = max(completions, key=lambda c: c.completed_at)
        if last.expires_at is None or last.expires_at > now:
            done.add(code)
    booked = {
        by_id[b.course_id]
        for b, _ in learner.bookings
        if b.state in ACTIVE and b.course_id in by_id
    }

    def complete(code: str) -> bool:
        return code in done or any(a in done for a in pc.accepted.get(code, ()))

    return complete, booked.__contains__


def _due(pc: ProgramCatalogue, program: Program, learner: Learner) -> datetime | None:
    person = learner.person
    # The requirements' start (start date, else creation): the program rows' due date is this.
    start = req_rules.start_moment(person.start_date, person.created_at)
    applied = pc.applied.get((program.id, person.id)) or max(program.created_at, person.created_at)
    return rule.due_at(start, applied, program.due_within_days)


def _set_view(pc: ProgramCatalogue, s: rule.SetProgress) -> ProgramSetProgress:
    return ProgramSetProgress(
        s.title,
        cast(ProgramSetRule, s.rule),
        s.complete,
        [
            ProgramCourseStatus(
                code,
                cast(ProgramCourseState, status),
                pc.courses[code].title if code in pc.courses else code,
                pc.courses[code].id if code in pc.courses else None,
            )
            for code, status in s.courses
        ],
    )
