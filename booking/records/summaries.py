"""The monthly compliance summary: on the configured day of each month (or the first tick
after it, if the worker was down), every line manager is emailed how their team stands — the
people below them, directly or indirectly — and who is overdue with what. An organisation with
no required learning (no mandatory or certifying course) gets none. Once a month per
manager: the manager's row is locked while their summary is checked and queued, and the
outbox's dedupe key names the month."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking import eligibility, people
from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.kernel import tx
from booking.kernel.outbox import queue_email
from booking.models import Course, CourseRecordRule, Outbox, Person
from booking.records.exemption_reads import granted_for
from booking.records.facts import catalogue_for, learners_of
from booking.records.record import build_record

TOPIC = "compliance.summary"
# Managers handled per worker tick: a large organisation's summaries spread over a few minutes.
BATCH = 50
# Overdue lines listed in one email; the rest are counted.
MAX_LINES = 60


def summary_key(manager_id: int, now: datetime) -> str:
    return f"{TOPIC}:{manager_id}:{now:%Y-%m}"


async def queue_compliance_summaries(db: Database, clock: Clock, *, day: int) -> int:
    """Queue this month's summaries still due (at most `BATCH` a tick); how many were queued."""
    now = clock.now()
    if now.day < day:
        return 0
    async with db.reading() as s:
        if not await _anything_required(s):
            return 0
        managers = await _managers_waiting(s, now)
    queued = 0
    for manager_id in managers:
        queued += await tx.run(db, partial(_queue_one, manager_id=manager_id, now=now))
    return queued


async def _anything_required(s: AsyncSession) -> bool:
    """Whether the organisation has required learning at all (a mandatory course, or a course
    that certifies): without it there is nothing to summarise, and nobody is emailed."""
    mandatory = select(CourseRecordRule.course_id).where(CourseRecordRule.mandatory.is_(True))
    certifying = select(Course.id).where(Course.certification_months.is_not(None))
    return await s.scalar(select(exists(mandatory.union_all(certifying).subquery()))) or False


async def _managers_waiting(s: AsyncSession, now: datetime) -> list[int]:
    """Active people with an active direct report and no summary this month yet."""
    report = aliased(Person)
    key = literal(f"{TOPIC}:") + cast(Person.id, String) + literal(f":{now:%Y-%m}")
    stmt = (
        select(Person.id)
        .where(
            Person.active.is_(True),
            exists().where(report.manager_id == Person.id, report.active.is_(True)),
            ~exists().where(Outbox.dedupe_key == key),
        )
        .order_by(Person.id)
        .limit(BATCH)
    )
    return list((await s.scalars(stmt)).all())


async def _queue_one(s: AsyncSession, *, manager_id: int, now: datetime) -> int:
    manager = await s.scalar(select(Person).where(Person.id == manager_id).with_for_update())
    key = summary_key(manager_id, now)
    if manager is None or await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)):
        return 0
    reports = (
        await s.scalars(
            select(Person)
            .where(Person.id.in_(people.reports_below_query(manager_id)), Person.active.is_(True))
            .order_by(Person.name)
        )
    ).all()
    if not reports:
        return 0
    learners = await learners_of(
        s,
        reports,
        await eligibility.units_above(s, (p.org_unit_id for p in reports)),
        with_bookings=False,
    )
    cat = await catalogue_for(s, learners)
    granted = await granted_for(s, [p.id for p in reports])  # exemptions: one query
    total = rules.Compliance(0, 0)
    overdue: list[dict[str, str]] = []
    for learner in learners:
        record = build_record(cat, learner, now, granted.get(learner.person.id, ()))
        total = total + rules.Compliance(record.compliance.required, record.compliance.compliant)
        overdue += [
            {
                "name": record.person.name,
                "course_title": item.course_title,
                "due": f"{item.due_at:%-d %b %Y}" if item.due_at else "",
            }
            for item in record.required
            if item.overdue
        ]
    await queue_email(
        s,
        topic=TOPIC,
        recipient_id=manager_id,
        booking_id=None,
        session_id=None,
        now=now,
        dedupe_key=key,
        payload={
            "month": f"{now:%B %Y}",
            "people": len(reports),
            "required": total.required,
            "compliant": total.compliant,
            "percent": total.percent,
            "overdue": overdue[:MAX_LINES],
            "more_overdue": max(0, len(overdue) - MAX_LINES),
        },
    )
    return 1
