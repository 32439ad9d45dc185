"""The requirements sweep's program rows (issue 18): a program's courses are chased like
mandatory ones.

For each open program assignment (program not archived, person active) and each course of its
incomplete `all`/`any` sets that the person has not completed (accepted courses count, as on the
record), one open `requirements` row via "program": applied when the assignment applied, due by
the program's due rule. A course is chased once: not for a course the person must do on its own
(an open "course" or "renewal" row wins), and for a course two programs ask for, only for the
first program by title (the one the record names). Rows no longer wanted close (assignment
closed, program archived, course left the program or is done, the course became required on its
own). A fixed number of statements whatever the number of people: reads joined to the
assignments, one bulk insert, one bulk update of the closed and one of the moved due dates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain import programs as rule
from booking.domain import requirements as req_rules
from booking.models import (
    Completion,
    Course,
    Person,
    Program,
    ProgramAssignment,
    ProgramSet,
    Requirement,
)
from booking.records.program_progress import _courses_and_accepted


class Wanted(NamedTuple):
    program_id: int
    applied_at: datetime
    due_at: datetime | None


async def program_rows(s: AsyncSession, now: datetime) -> int:
    """Open, close and re-date the program rows; how many were opened or closed."""
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
            if row.rule != "optional":
                sets[row.program_id].append(
                    rule.SetRule(row.title, row.rule, tuple(row.course_codes))
                )
                codes.update(row.course_codes)
    courses, accepted = await _courses_and_accepted(s, codes)
    wanted = await _wanted(s, programs, sets, courses, accepted, now) if codes else {}
    return await _apply(s, wanted, now)


async def _wanted(
    s: AsyncSession,
    programs: list[Program],
    sets: dict[int, list[rule.SetRule]],
    courses: dict[str, Course],
    accepted: dict[str, list[str]],
    now: datetime,
) -> dict[tuple[int, int], Wanted]:
    """(person, course) → the program row they should have."""
    open_assignment = (
        select(ProgramAssignment.person_id)
        .where(ProgramAssignment.closed_at.is_(None))
        .scalar_subquery()
    )
    assignments = (
        await s.execute(
            select(
                ProgramAssignment.program_id,
                ProgramAssignment.person_id,
                ProgramAssignment.applied_at,
                Person.start_date,
                Person.created_at,
            )
            .join(Person, Person.id == ProgramAssignment.person_id)
            .where(
                ProgramAssignment.closed_at.is_(None),
                ProgramAssignment.program_id.in_([p.id for p in programs]),
                Person.active.is_(True),
            )
        )
    ).all()
    done = await _done_codes(s, courses, open_assignment, now)
    own = {
        (p, c)
        for p, c in (
            await s.execute(
                select(Requirement.person_id, Requirement.course_id).where(
                    Requirement.closed_at.is_(None),
                    Requirement.via.in_(("course", "renewal")),
                    Requirement.person_id.in_(open_assignment),
                )
            )
        ).all()
    }
    return _choose(programs, sets, courses, accepted, assignments, done, own)


def _choose(
    programs: list[Program],
    sets: dict[int, list[rule.SetRule]],
    courses: dict[str, Course],
    accepted: dict[str, list[str]],
    assignments: Sequence[Any],
    done: dict[int, set[str]],
    own: set[tuple[int, int]],
) -> dict[tuple[int, int], Wanted]:
    """Pure: for each person, their programs in title order, each course still required and
    not required on its own, the first program asking for it."""
    by_person: dict[int, dict[int, Any]] = defaultdict(dict)
    for a in assignments:
        by_person[a.person_id][a.program_id] = a
    out: dict[tuple[int, int], Wanted] = {}
    for person_id, theirs in by_person.items():
        held = done.get(person_id, set())

        def complete(code: str, held: set[str] = held) -> bool:
            return code in held or any(x in held for x in accepted.get(code, ()))

        for program in programs:
            a = theirs.get(program.id)
            if a is None:
                continue
            progress = rule.progress(sets[program.id], complete)
            for code in rule.still_required(progress.sets):
                course = courses.get(code)
                key = (person_id, course.id) if course is not None else None
                if key is None or key in out or key in own:
                    continue
                start = req_rules.start_moment(a.start_date, a.created_at)
                due = req_rules.due_at(start, a.applied_at, program.due_within_days)
                out[key] = Wanted(program.id, a.applied_at, due)
    return out


async def _done_codes(
    s: AsyncSession, courses: dict[str, Course], assigned: Any, now: datetime
) -> dict[int, set[str]]:
    """The course codes each assigned person holds a current completion of (their latest)."""
    by_id = {c.id: code for code, c in courses.items()}
    if not by_id:
        return {}
    rows = (
        await s.execute(
            select(
                Completion.learner_id,
                Completion.course_id,
                Completion.completed_at,
                Completion.expires_at,
            ).where(Completion.course_id.in_(sorted(by_id)), Completion.learner_id.in_(assigned))
        )
    ).all()
    latest: dict[tuple[int, int], tuple[datetime, datetime | None]] = {}
    for learner_id, course_id, completed_at, expires_at in rows:
        key = (learner_id, course_id)
        if key not in latest or completed_at > latest[key][0]:
            latest[key] = (completed_at, expires_at)
    out: dict[int, set[str]] = defaultdict(set)
    for (learner_id, course_id), (_, expires_at) in latest.items():
        if expires_at is None or expires_at > now:
            out[learner_id].add(by_id[course_id])
    return out


async def _apply(s: AsyncSession, wanted: dict[tuple[int, int], Wanted], now: datetime) -> int:
    existing = (
        await s.execute(
            select(
                Requirement.id,
                Requirement.person_id,
                Requirement.course_id,
                Requirement.program_id,
                Requirement.due_at,
            ).where(Requirement.via == "program", Requirement.closed_at.is_(None))
        )
    ).all()
    close: list[dict[str, Any]] = []
    redate: list[dict[str, Any]] = []
    kept: set[tuple[int, int]] = set()
    for req_id, person_id, course_id, program_id, due in existing:
        w = wanted.get((person_id, course_id))
        if w is None or w.program_id != program_id or (person_id, course_id) in kept:
            close.append({"id": req_id, "closed_at": now})
            continue
        kept.add((person_id, course_id))
        if w.due_at != due:
            redate.append({"id": req_id, "due_at": w.due_at})
    new = [
        {
            "person_id": person_id,
            "course_id": course_id,
            "via": "program",
            "program_id": w.program_id,
            "applied_at": w.applied_at,
            "due_at": w.due_at,
            "reminded_day": 0,
        }
        for (person_id, course_id), w in sorted(wanted.items())
        if (person_id, course_id) not in kept
    ]
    # Closed first: a row moving to another program frees its (person, course) place.
    for values in (close, redate):
        if values:
            await s.execute(update(Requirement), values)
    if new:
        await s.execute(insert(Requirement), new)
    return len(close) + len(new)
