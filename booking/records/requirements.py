"""The requirements sweep (a worker sweep, set-based): keep one open `requirements` row per
person and course they must complete.

Each tick, for each mandatory course: close the rows of people no longer in its audience,
then INSERT … SELECT its audience members who have no open row (applied now; due by
`domain.requirements.due_at`). Rows of courses no longer mandatory and of deactivated people
close. For each certifying course: a renewal row opens at the window opening of each person's
latest completion (applied then, due at its expiry) and closes once renewed or expired. Then
the programs' courses (`program_requirements`). A few statements per course, whatever the
number of people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import and_, case, exists, insert, literal, null, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.domain import requirements as req_rules
from booking.kernel import locks, tx
from booking.models import Completion, Course, CourseRecordRule, OrgUnit, Person, Requirement
from booking.records.program_requirements import program_rows
from booking.records.requirement_rules import in_audience, met, satisfying_ids

UTC_TIME = DateTimeUTC(timezone=True)
# Rows inserted at once past which PostgreSQL's statistics are refreshed.
BIG_INSERT = 1000


async def sweep_requirements(db: Database, clock: Clock) -> int:
    """Open and close requirement rows; how many changed."""
    return await tx.run(db, partial(_sweep, clock=clock))


async def _sweep(s: AsyncSession, *, clock: Clock) -> int:
    # One worker at a time: another waits, then finds the rows this one opened.
    await locks.lock_sweep(s, "requirements")
    now = clock.now()
    units = list(await s.scalars(select(OrgUnit)))
    mandatory = (
        await s.execute(
            select(Course, CourseRecordRule)
            .join(CourseRecordRule, CourseRecordRule.course_id == Course.id)
            .where(CourseRecordRule.mandatory.is_(True))
            .order_by(Course.id)
        )
    ).all()
    changed = await _close_everywhere(s, [c.id for c, _ in mandatory], now)
    for course, rule in mandatory:
        changed += await _course_rows(s, course, rule, units, now)
    changed += await _renewal_rows(s, now)
    # Last: a course required on its own (rows just opened above) is not chased for a program.
    changed += await program_rows(s, now)
    return changed


async def _close_everywhere(s: AsyncSession, mandatory_ids: list[int], now: datetime) -> int:
    """Close the course rows of courses no longer mandatory, and every row of people who were
    deactivated."""
    inactive = select(Person.id).where(Person.active.is_(False))
    done = await s.execute(
        update(Requirement)
        .where(
            Requirement.closed_at.is_(None),
            or_(
                and_(Requirement.via == "course", Requirement.course_id.not_in(mandatory_ids)),
                Requirement.person_id.in_(inactive),
            ),
        )
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def _open_row(course_id: int, via: str) -> Any:
    return exists().where(
        Requirement.person_id == Person.id,
        Requirement.course_id == course_id,
        Requirement.via == via,
        Requirement.program_id.is_(None),
        Requirement.closed_at.is_(None),
    )


async def _course_rows(
    s: AsyncSession, course: Course, rule: CourseRecordRule, units: list[OrgUnit], now: datetime
) -> int:
    audience = in_audience(course, units)
    left = await s.execute(
        update(Requirement)
        .where(
            Requirement.course_id == course.id,
            Requirement.via == "course",
            Requirement.closed_at.is_(None),
            Requirement.person_id.not_in(select(Person.id).where(audience)),
        )
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    days = rule.due_within_days
    today = now.astimezone(UTC).date()
    # Applied now: due `days` from now, unless they start later (filled in below).
    due = (
        case(
            (Person.start_date > today, null()),
            else_=literal(now + timedelta(days=days), UTC_TIME),
        )
        if days is not None
        else null()
    )
    added = await s.execute(
        insert(Requirement).from_select(
            ["person_id", "course_id", "via", "applied_at", "due_at", "reminded_day"],
            select(
                Person.id,
                literal(course.id),
                literal("course"),
                literal(now, UTC_TIME),
                due,
                literal(0),
            ).where(audience, ~_open_row(course.id, "course")),
        )
    )
    if days is not None:
        await _due_for_later_starters(s, course.id, days, now)
    inserted = int(getattr(added, "rowcount", 0) or 0)
    await refresh_statistics(s, inserted)
    return int(getattr(left, "rowcount", 0) or 0) + inserted


async def refresh_statistics(s: AsyncSession, inserted: int) -> None:
    """After a large insert (the first sweep, a new mandatory course for everyone), PostgreSQL's
    statistics still say the table is small, and the next anti-join would be planned as a
    nested loop over every row (quadratic: minutes at 100,000 people). ANALYZE (allowed in a
    transaction, it counts our own new rows) keeps the plans set-based."""
    if inserted >= BIG_INSERT and s.get_bind().dialect.name == "postgresql":
        await s.execute(text("ANALYZE requirements"))


async def _due_for_later_starters(
    s: AsyncSession, course_id: int, days: int, now: datetime
) -> None:
    """Open course rows whose person starts later: due from their start — rows just made
    without a due date, and those whose start date is still ahead (it may have been moved
    since). One read and one batched update, only for those rows."""
    today = now.astimezone(UTC).date()
    rows = (
        await s.execute(
            select(
                Requirement.id,
                Requirement.applied_at,
                Requirement.due_at,
                Person.start_date,
                Person.created_at,
            )
            .join(Person, Person.id == Requirement.person_id)
            .where(
                Requirement.course_id == course_id,
                Requirement.via == "course",
                Requirement.closed_at.is_(None),
                or_(
                    and_(Requirement.due_at.is_(None), Person.start_date.is_not(None)),
                    Person.start_date > today,
                ),
            )
        )
    ).all()
    values = []
    for r in rows:
        due = req_rules.due_at(
            req_rules.start_moment(r.start_date, r.created_at), r.applied_at, days
        )
        if due != r.due_at:
            values.append({"id": r.id, "due_at": due})
    if values:
        await s.execute(update(Requirement), values)


async def _renewal_rows(s: AsyncSession, now: datetime) -> int:
    certifying = list(
        await s.scalars(
            select(Course).where(Course.certification_months.is_not(None)).order_by(Course.id)
        )
    )
    if not certifying:
        return 0
    ids_by_code = {
        code: course_id for code, course_id in await s.execute(select(Course.code, Course.id))
    }
    rule_rows = {
        r.course_id: r
        for r in await s.scalars(
            select(CourseRecordRule).where(
                CourseRecordRule.course_id.in_([c.id for c in certifying])
            )
        )
    }
    changed = 0
    for course in certifying:
        ids = satisfying_ids(course, rule_rows.get(course.id), ids_by_code)
        changed += await _renewals_of(s, course, ids, now)
    return changed


async def _renewals_of(s: AsyncSession, course: Course, ids: list[int], now: datetime) -> int:
    """Close this course's renewal rows that were renewed or expired; open one for each
    latest completion whose renewal window is open and has no row."""
    ended = await s.execute(
        update(Requirement)
        .where(
            Requirement.course_id == course.id,
            Requirement.via == "renewal",
            Requirement.closed_at.is_(None),
            or_(met(course, ids, now), Requirement.due_at <= now - rules.OVERDUE_FOR),
        )
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    window = timedelta(days=max(0, course.certification_window_days or 0))
    newer = aliased(Completion)
    rows = (
        await s.execute(
            select(Completion.learner_id, Completion.expires_at)
            .join(Person, Person.id == Completion.learner_id)
            .where(
                Completion.course_id == course.id,
                Completion.expires_at.is_not(None),
                Completion.expires_at <= now + window,
                Completion.expires_at > now - rules.OVERDUE_FOR,
                Person.active.is_(True),
                ~exists().where(
                    newer.learner_id == Completion.learner_id,
                    newer.course_id == course.id,
                    newer.completed_at > Completion.completed_at,
                ),
                ~_open_row(course.id, "renewal"),
                ~exists().where(
                    Requirement.person_id == Person.id,
                    Requirement.course_id == course.id,
                    Requirement.via == "renewal",
                    Requirement.due_at == Completion.expires_at,
                ),
            )
        )
    ).all()
    values = [
        {
            "person_id": learner_id,
            "course_id": course.id,
            "via": "renewal",
            "applied_at": expires_at - window,
            "due_at": expires_at,
            "reminded_day": 0,
        }
        for learner_id, expires_at in rows
        if expires_at is not None
    ]
    if values:
        await s.execute(insert(Requirement), values)
        await refresh_statistics(s, len(values))
    return int(getattr(ended, "rowcount", 0) or 0) + len(values)
