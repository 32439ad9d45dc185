"""Certification notices (a worker sweep): emails when a certification's renewal window opens
and when its renewal becomes due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.kernel import tx
from booking.kernel.outbox import queue_email
from booking.models import Completion, Course, Outbox
from booking.records.facts import chunks

# The email each status sends; other statuses send none.
_TOPICS = {
    rules.CertificationStatus.WINDOW_OPEN: "certification.window_open",
    rules.CertificationStatus.DUE: "certification.expiring",
}


async def queue_certification_notices(db: Database, clock: Clock) -> int:
    """Once per certification (the learner's latest completion): an email when its renewal
    window opens, and one when it becomes due (30 days before expiry, or when the window opens
    if that is later). A worker that was down sends only the notice of the current status."""
    return await tx.run(db, partial(_queue_notices, clock=clock))


async def _queue_notices(s: AsyncSession, *, clock: Clock) -> int:
    now = clock.now()
    rows = await _expiring(s, now)
    latest_at = await _latest_completion_times(s, {(c.learner_id, c.course_id) for c, _ in rows})
    queued = 0
    for completion, course in rows:
        if latest_at.get((completion.learner_id, completion.course_id)) != (
            completion.completed_at
        ):
            continue  # renewed since: this certification is history
        queued += await _notify(s, completion, course, now)
    return queued


async def _expiring(s: AsyncSession, now: datetime) -> list[tuple[Completion, Course]]:
    """Completions of certifying courses that expire within the longest renewal window (or
    the due-soon period, if longer)."""
    windows = await s.scalars(
        select(Course.certification_window_days).where(Course.certification_months.is_not(None))
    )
    longest = max([int(w or 0) for w in windows.all()] or [0])
    horizon = now + max(timedelta(days=longest), rules.DUE_SOON)
    rows = await s.execute(
        select(Completion, Course)
        .join(Course, Course.id == Completion.course_id)
        .where(
            Course.certification_months.is_not(None),
            Completion.expires_at.is_not(None),
            Completion.expires_at > now,
            Completion.expires_at <= horizon,
        )
        .order_by(Completion.id)
    )
    return [(completion, course) for completion, course in rows.all()]


async def _notify(s: AsyncSession, completion: Completion, course: Course, now: datetime) -> bool:
    """Queue the notice of the certification's current status, unless it went out already."""
    assert completion.expires_at is not None
    state = rules.certification_state(
        completion.completed_at,
        completion.expires_at,
        course.certification_window_days or 0,
        now,
    )
    topic = _TOPICS.get(state.status)
    if topic is None:
        return False
    key = f"{topic}:{completion.learner_id}:{course.id}:{state.expires_at:%Y%m%d%H%M}"
    if await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)):
        return False
    await queue_email(
        s,
        topic=topic,
        recipient_id=completion.learner_id,
        booking_id=None,
        session_id=None,
        now=now,
        dedupe_key=key,
        payload={
            "course_id": course.id,
            "course_code": course.code,
            "course_title": course.title,
            "expires_at": state.expires_at.isoformat(),
            "window_opens_at": state.window_opens_at.isoformat(),
            # The email's sentence: the renderer gives templates `reason`.
            "reason": _notice_sentence(course.title, state),
        },
    )
    return True


async def _latest_completion_times(
    s: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], datetime]:
    if not pairs:
        return {}
    learners = sorted({p[0] for p in pairs})
    courses = sorted({p[1] for p in pairs})
    out: dict[tuple[int, int], datetime] = {}
    for chunk in chunks(learners, 500):
        for learner_id, course_id, at in await s.execute(
            select(Completion.learner_id, Completion.course_id, func.max(Completion.completed_at))
            .where(Completion.learner_id.in_(chunk), Completion.course_id.in_(courses))
            .group_by(Completion.learner_id, Completion.course_id)
        ):
            if (learner_id, course_id) in pairs:
                out[(learner_id, course_id)] = _aware(at)
    return out


def _aware(at: datetime) -> datetime:
    # func.max() returns the raw column value on SQLite (text or naive); normalise it.
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _notice_sentence(title: str, state: rules.CertificationState) -> str:
    expires = f"{state.expires_at:%-d %B %Y}"
    if state.status == rules.CertificationStatus.WINDOW_OPEN:
        return (
            f"Your certification in “{title}” expires on {expires}. The renewal window is now "
            "open: book a session or complete the renewal before then."
        )
    return (
        f"Your certification in “{title}” expires on {expires}. Renew it before then to stay "
        "certified."
    )
