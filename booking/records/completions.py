"""Adding and withdrawing a learner's completions, inside the caller's transaction (attendance
marks, the inbound API and CSV import call these); courses completed through criteria follow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Completion, Course
from booking.records.certificates import issue_certificates
from booking.records.changes import (
    completion_change,
    new_completion,
    write_changes,
)
from booking.records.criteria import complete_dependents


async def add_completion(
    s: AsyncSession,
    *,
    learner_id: int,
    course: Course,
    completed_at: datetime,
    source: str,
    now: datetime,
    booking_id: int | None = None,
    session_id: int | None = None,
) -> Completion | None:
    """Write a completion with its expiry and its change, then complete any course whose
    criteria it meets. None if the learner already has a completion of the course at that
    moment (the same completion, told twice)."""
    completion = await new_completion(
        s,
        learner_id=learner_id,
        course=course,
        completed_at=completed_at,
        source=source,
        now=now,
        booking_id=booking_id,
    )
    if completion is None:
        return None
    async with s.begin_nested():
        s.add(completion)
        await s.flush()
    change = completion_change(completion, "completed", now, session_id=session_id)
    await write_changes(s, [change])
    await issue_certificates(s, [completion], now)
    await complete_dependents(s, learner_id, {course.code}, now=now)
    return completion


async def withdraw_completion(
    s: AsyncSession, completion: Completion, *, now: datetime, session_id: int | None = None
) -> None:
    """Remove a completion that no longer stands (attendance changed); its change says so."""
    code = await s.scalar(select(Course.code).where(Course.id == completion.course_id))
    change = completion_change(completion, "withdrawn", now, session_id=session_id)
    await s.execute(delete(Completion).where(Completion.id == completion.id))
    await write_changes(s, [change])
    if code is not None:
        await complete_dependents(s, completion.learner_id, {code}, now=now)
