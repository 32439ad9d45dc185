"""Reminders that chase (a worker sweep): for each open, unmet requirement an email to the
learner on each of the course's reminder days, and once, on day `escalate_after_days`, one to
their line manager.

Computed from the database each tick, a few statements per course whatever the number of
people. Each reminder is claimed by a conditional UPDATE of the requirement's `reminded_day`
(or `escalated_at`) with RETURNING, so of two workers only one gets each row; the outbox's
unique dedupe key backs it up. Reminder days are claimed latest first, so a worker that was
down across several reminder days sends only the latest one missed. Whether the requirement is
met (a completion of the course or an accepted one) is checked in the same statement: a
completion stops them at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.kernel import tx
from booking.kernel.outbox import INSERT_OUTBOX, outbox_row
from booking.models import Course, CourseRecordRule, Person, Program, Requirement
from booking.records.facts import chunks
from booking.records.requirement_rules import (
    escalate_after_days,
    met,
    reminder_days,
    satisfying_ids,
    shadowed_by_renewal,
)

REMINDER = "requirement.reminder"
ESCALATION = "requirement.escalation"
# What a claim returns of each row.
CLAIMED = (
    Requirement.id,
    Requirement.person_id,
    Requirement.via,
    Requirement.due_at,
    Requirement.program_id,
)


async def queue_requirement_reminders(db: Database, clock: Clock) -> int:
    """Queue the reminders and escalations due now; how many were queued."""
    return await tx.run(db, partial(_queue, clock=clock))


async def _queue(s: AsyncSession, *, clock: Clock) -> int:
    now = clock.now()
    open_courses = select(Requirement.course_id).where(Requirement.closed_at.is_(None))
    rows = (
        await s.execute(
            select(Course, CourseRecordRule)
            .outerjoin(CourseRecordRule, CourseRecordRule.course_id == Course.id)
            .where(Course.id.in_(open_courses))
            .order_by(Course.id)
        )
    ).all()
    if not rows:
        return 0
    ids_by_code = {
        code: course_id for code, course_id in await s.execute(select(Course.code, Course.id))
    }
    # The programs that program rows name (their emails say which program asks).
    in_use = select(Requirement.program_id).where(
        Requirement.closed_at.is_(None), Requirement.via == "program"
    )
    names = {
        program_id: title
        for program_id, title in await s.execute(
            select(Program.id, Program.title).where(Program.id.in_(in_use))
        )
    }
    emails: list[dict[str, Any]] = []
    for course, rule in rows:
        unmet = and_(
            Requirement.course_id == course.id,
            Requirement.closed_at.is_(None),
            ~met(course, satisfying_ids(course, rule, ids_by_code), now),
            ~shadowed_by_renewal(),
        )
        emails += await _reminders(s, course, reminder_days(rule), unmet, now, names)
        emails += await _escalations(s, course, escalate_after_days(rule), unmet, now, names)
    if emails:
        await s.execute(INSERT_OUTBOX, emails)
    return len(emails)


async def _reminders(
    s: AsyncSession,
    course: Course,
    days: Sequence[int],
    unmet: Any,
    now: datetime,
    names: dict[int, str],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for day in sorted(days, reverse=True):
        claimed = await s.execute(
            update(Requirement)
            .where(
                unmet,
                Requirement.reminded_day < day,
                Requirement.applied_at <= now - timedelta(days=day - 1),
                Requirement.person_id.in_(select(Person.id).where(Person.active.is_(True))),
            )
            .values(reminded_day=day)
            .returning(*CLAIMED)
            .execution_options(synchronize_session=False)
        )
        for req_id, person_id, via, due, program_id in claimed.all():
            program = names.get(program_id) if program_id is not None else None
            out.append(
                outbox_row(
                    topic=REMINDER,
                    recipient_id=person_id,
                    booking_id=None,
                    session_id=None,
                    now=now,
                    dedupe_key=f"{REMINDER}:{req_id}:{day}",
                    payload=_payload(
                        course, req_id, via, due, _reminder_sentence(course, due, program)
                    )
                    | _program(program_id, program)
                    | {"day": day},
                )
            )
    return out


async def _escalations(
    s: AsyncSession,
    course: Course,
    after_days: int | None,
    unmet: Any,
    now: datetime,
    names: dict[int, str],
) -> list[dict[str, Any]]:
    if after_days is None:
        return []
    # Rows of people with no line manager are claimed too (nobody to tell; not read again).
    claimed = await s.execute(
        update(Requirement)
        .where(
            unmet,
            Requirement.escalated_at.is_(None),
            Requirement.applied_at <= now - timedelta(days=max(1, after_days) - 1),
        )
        .values(escalated_at=now)
        .returning(*CLAIMED)
        .execution_options(synchronize_session=False)
    )
    found = claimed.all()
    if not found:
        return []
    people: dict[int, Person] = {}
    for chunk in chunks(sorted({r[1] for r in found}), 500):
        told = select(Person).where(
            Person.id.in_(chunk), Person.active.is_(True), Person.manager_id.is_not(None)
        )
        people.update((p.id, p) for p in await s.scalars(told))
    out = []
    for req_id, person_id, via, due, program_id in found:
        person = people.get(person_id)
        program = names.get(program_id) if program_id is not None else None
        if person is None:
            continue
        out.append(
            outbox_row(
                topic=ESCALATION,
                recipient_id=person.manager_id,
                booking_id=None,
                session_id=None,
                now=now,
                dedupe_key=f"{ESCALATION}:{req_id}",
                payload=_payload(
                    course,
                    req_id,
                    via,
                    due,
                    _escalation_sentence(course, person, due, after_days, program),
                )
                | _program(program_id, program)
                | {"learner_id": person.id, "learner_name": person.name},
            )
        )
    return out


def _payload(
    course: Course, req_id: int, via: str, due: datetime | None, reason: str
) -> dict[str, Any]:
    return {
        "requirement_id": req_id,
        "course_id": course.id,
        "course_code": course.code,
        "course_title": course.title,
        "via": via,
        "due_at": due.isoformat() if due else None,
        # The email's sentence: the renderer gives templates `reason`.
        "reason": reason,
    }


def _program(program_id: int | None, title: str | None) -> dict[str, Any]:
    if program_id is None:
        return {}
    return {"program_id": program_id, "program_title": title}


def _for_program(program: str | None) -> str:
    return f" for the program “{program}”" if program else ""


def _due_phrase(due: datetime | None) -> str:
    return f" It is due by {due:%-d %B %Y}." if due is not None else ""


def _reminder_sentence(course: Course, due: datetime | None, program: str | None = None) -> str:
    return (
        f"You are required to complete “{course.title}”{_for_program(program)} and we have no "
        "record of it yet."
        f"{_due_phrase(due)}"
    )


def _escalation_sentence(
    course: Course, person: Person, due: datetime | None, after_days: int, program: str | None
) -> str:
    return (
        f"{person.name} ({person.email}) has not completed “{course.title}”, which has been "
        f"required of them{_for_program(program)} for {after_days} days.{_due_phrase(due)}"
    )
