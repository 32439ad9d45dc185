"""Which xAPI statements a record change (attended, completed, voided) or a booking history row
(registered, withdrew, voided) makes, queued as outbox rows for the learning record store. Each
statement's id is its dedupe key, so queueing is idempotent. The sweep that reads the changes
and the history: `booking.records.xapi_sweep`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import xapi
from booking.config import Settings
from booking.domain.states import ATTENDANCE, FINAL, REGISTERED, BookingState
from booking.models import (
    Booking,
    BookingHistory,
    Course,
    Outbox,
    Person,
    RecordChange,
)
from booking.models import Session as SessionRow
from booking.records.criteria import CRITERIA_SOURCE

XAPI_CHANNEL = "xapi"
# Queues one statement for the change or history row at hand (`_queue_statement`, its row's ids
# bound): True if it was new.
_Queue = Callable[..., Awaitable[bool]]
# Attendance marks that say the learner was there (an `attended` statement).
PRESENT = ATTENDANCE - {BookingState.NO_SHOW}


async def _queue_statement(
    s: AsyncSession,
    statement: dict[str, Any],
    *,
    topic: str,
    recipient_id: int | None,
    booking_id: int | None,
    session_id: int | None,
    now: datetime,
) -> bool:
    key = f"xapi:{statement['id']}"
    if await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)):
        return False
    await s.execute(
        insert(Outbox).values(
            channel=XAPI_CHANNEL,
            topic=topic,
            recipient_id=recipient_id,
            booking_id=booking_id,
            session_id=session_id,
            payload={"statement": statement},
            dedupe_key=key,
            created_at=now,
            available_at=now,
        )
    )
    return True


async def _was_queued(s: AsyncSession, statement_id: str) -> bool:
    return bool(
        await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == f"xapi:{statement_id}"))
    )


async def _agent(s: AsyncSession, person_id: int) -> xapi.Agent | None:
    person = await s.get(Person, person_id)
    return xapi.Agent(person.name, person.email) if person else None


async def statements_for_change(
    s: AsyncSession, settings: Settings, change: RecordChange, now: datetime
) -> int:
    """Queue the statements of one record change; how many were new."""
    learner = await _agent(s, change.learner_id)
    course = await s.get(Course, change.course_id)
    if learner is None or course is None:
        return 0
    queue = partial(
        _queue_statement,
        s,
        recipient_id=change.learner_id,
        booking_id=change.booking_id,
        session_id=change.session_id,
        now=now,
    )
    if change.kind == "attendance":
        return await _attendance_statements(
            s, settings.base_url, change, learner, course, now, queue
        )
    # Completions from the e-learning side or an import came from there: not sent back.
    if change.source not in ("workshop", CRITERIA_SOURCE):
        return 0
    if change.status == "completed" and change.completed_at is not None:
        statement = xapi.completed(
            settings.base_url,
            change_seq=change.seq,
            learner=learner,
            course=xapi.course_activity(settings.base_url, course.id, course.title),
            completed_at=change.completed_at,
            expires_at=change.expires_at,
            source=change.source or "",
        )
        return int(await queue(statement, topic="xapi.completed"))
    if change.status == "withdrawn":
        return await _void_withdrawn_completion(s, settings.base_url, change, now, queue)
    return 0


async def _attendance_statements(
    s: AsyncSession,
    base: str,
    change: RecordChange,
    learner: xapi.Agent,
    course: Course,
    now: datetime,
    queue: _Queue,
) -> int:
    """A changed mark voids the `attended` statement of the mark before it (if one was sent);
    a mark of presence sends a new one."""
    previous = await s.scalar(
        select(RecordChange)
        .where(
            RecordChange.kind == "attendance",
            RecordChange.booking_id == change.booking_id,
            RecordChange.seq < change.seq,
        )
        .order_by(RecordChange.seq.desc())
        .limit(1)
    )
    queued = 0
    if previous is not None and previous.status in PRESENT:
        target = xapi.statement_id(base, "record-change", previous.seq)
        if await _was_queued(s, target):
            voided = xapi.voided(base, target_id=target, at=now)
            queued += await queue(voided, topic="xapi.voided")
    if change.status in PRESENT and change.session_id:
        session = await s.get(SessionRow, change.session_id)
        if session is not None and change.booking_id is not None:
            statement = xapi.attended(
                base,
                change_seq=change.seq,
                booking_id=change.booking_id,
                learner=learner,
                session=xapi.session_activity(base, session.id, course.title),
                course=xapi.course_activity(base, course.id, course.title),
                at=session.ends_at,
                partly=change.status == BookingState.PARTIALLY_ATTENDED,
                length=session.ends_at - session.starts_at,
            )
            queued += await queue(statement, topic="xapi.attended")
    return queued


async def _void_withdrawn_completion(
    s: AsyncSession, base: str, change: RecordChange, now: datetime, queue: _Queue
) -> int:
    """A withdrawn completion voids the `completed` statement sent for it, if one was."""
    written = await s.scalar(
        select(RecordChange.seq)
        .where(
            RecordChange.kind == "completion",
            RecordChange.status == "completed",
            RecordChange.completion_id == change.completion_id,
            RecordChange.learner_id == change.learner_id,
            RecordChange.course_id == change.course_id,
            RecordChange.seq < change.seq,
        )
        .order_by(RecordChange.seq.desc())
        .limit(1)
    )
    if written is None:
        return 0
    target = xapi.statement_id(base, "record-change", written)
    if not await _was_queued(s, target):
        return 0
    return int(await queue(xapi.voided(base, target_id=target, at=now), topic="xapi.voided"))


async def statements_for_history(
    s: AsyncSession, settings: Settings, row: BookingHistory, now: datetime
) -> int:
    """Queue the statement of one booking history row (registered, withdrew, voided); 1 if
    it was new."""
    base = settings.base_url
    booking = await s.get(Booking, row.booking_id)
    if booking is None:
        return 0
    session = await s.get(SessionRow, booking.session_id)
    course = await s.get(Course, booking.course_id)
    learner = await _agent(s, booking.learner_id)
    if session is None or course is None or learner is None:
        return 0
    queue = partial(
        _queue_statement,
        s,
        recipient_id=booking.learner_id,
        booking_id=booking.id,
        session_id=session.id,
        now=now,
    )
    about = partial(
        xapi.about_booking,
        base,
        booking_id=booking.id,
        learner=learner,
        session=xapi.session_activity(base, session.id, course.title),
        course=xapi.course_activity(base, course.id, course.title),
        at=row.at,
    )
    if row.to_state in REGISTERED and row.from_state not in REGISTERED:
        return int(await queue(about("registered"), topic="xapi.registered"))
    if row.to_state in FINAL:
        registration = xapi.statement_id(base, "booking", booking.id, "registered")
        if not await _was_queued(s, registration):
            return 0  # never registered (waitlisted, pending): nothing to take back
        if session.status == "cancelled":
            # The organiser cancelled the session: the registration no longer stands.
            statement = xapi.voided(base, target_id=registration, at=row.at)
            return int(await queue(statement, topic="xapi.voided"))
        statement = about("withdrew", extensions={"reason": row.reason or ""})
        return int(await queue(statement, topic="xapi.withdrew"))
    return 0
