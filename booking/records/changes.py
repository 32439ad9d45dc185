"""Writing to the record inside the caller's transaction: completion rows and the numbered
changes of the feed.

**The change feed** (`GET /api/v1/records?since=`): every completion written or withdrawn and
every attendance mark is a `record_changes` row, written in the transaction of the change. Its
number comes from the one `record_feed_counter` row, updated (so locked) in that transaction:
a second writer waits until the first commits or rolls back, so numbers are handed out without
gaps and become visible in order. A reader that has seen change n has seen every change before n.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain.eligibility import add_months
from booking.kernel.webhook_events import EventType, queue_events
from booking.models import Booking, Completion, Course, RecordChange, RecordFeedCounter
from booking.models import Session as SessionRow


async def _next_seqs(s: AsyncSession, n: int) -> list[int]:
    """`n` consecutive change numbers. The counter row stays locked until the transaction ends,
    which is what makes the feed gap-free (see the module's docstring)."""
    take = (
        update(RecordFeedCounter)
        .where(RecordFeedCounter.id == 1)
        .values(last_seq=RecordFeedCounter.last_seq + n)
        .returning(RecordFeedCounter.last_seq)
    )
    last = await s.scalar(take)
    if last is None:
        # The migration makes the row; a database emptied since (tests truncate every table)
        # gets it back here. Concurrent writers may race to insert it: one wins, the others
        # wait for its commit and then update it like any other writer.
        await s.execute(
            text(
                "INSERT INTO record_feed_counter (id, last_seq) VALUES (1, 0) "
                "ON CONFLICT (id) DO NOTHING"
            )
        )
        last = await s.scalar(take)
    assert last is not None
    return list(range(int(last) - n + 1, int(last) + 1))


async def write_changes(s: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Number `rows` (record changes) and write them."""
    if not rows:
        return
    seqs = await _next_seqs(s, len(rows))
    await s.execute(
        insert(RecordChange), [{**row, "seq": seq} for seq, row in zip(seqs, rows, strict=True)]
    )
    await _queue_completion_events(s, rows)


async def _queue_completion_events(s: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """`completion.recorded` for each completion written, for the endpoints listening."""
    events: list[tuple[EventType, dict[str, Any]]] = [
        (
            "completion.recorded",
            {
                "completion_id": row["completion_id"],
                "learner": {"id": row["learner_id"]},
                "course_id": row["course_id"],
                "session_id": row.get("session_id"),
                "booking_id": row.get("booking_id"),
                "completed_at": _rfc3339(row.get("completed_at")),
                "expires_at": _rfc3339(row.get("expires_at")),
                "source": row.get("source"),
            },
        )
        for row in rows
        if row.get("kind") == "completion" and row.get("status") == "completed"
    ]
    if events:
        await queue_events(s, events, now=rows[0]["recorded_at"])


def _rfc3339(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def completion_change(
    c: Completion, status: str, now: datetime, *, session_id: int | None = None
) -> dict[str, Any]:
    """The change row telling that completion `c` was `completed` or `withdrawn`."""
    return {
        "kind": "completion",
        "learner_id": c.learner_id,
        "course_id": c.course_id,
        "session_id": session_id,
        "booking_id": c.booking_id,
        "completion_id": c.id,
        "status": status,
        "completed_at": c.completed_at,
        "expires_at": c.expires_at,
        "source": c.source,
        "recorded_at": now,
    }


async def note_attendance(
    s: AsyncSession, *, booking: Booking, session: SessionRow, now: datetime
) -> None:
    """An attendance mark (the booking's new state) goes into the change feed."""
    await write_changes(
        s,
        [
            {
                "kind": "attendance",
                "learner_id": booking.learner_id,
                "course_id": booking.course_id,
                "session_id": session.id,
                "booking_id": booking.id,
                "completion_id": None,
                "status": booking.state,
                "completed_at": session.ends_at,
                "expires_at": None,
                "source": "workshop",
                "recorded_at": now,
            }
        ],
    )


async def new_completion(
    s: AsyncSession,
    *,
    learner_id: int,
    course: Course,
    completed_at: datetime,
    source: str,
    now: datetime,
    booking_id: int | None = None,
) -> Completion | None:
    """A completion row (not yet added), its expiry from the course's certification period;
    None if the learner already has a completion of the course at that moment (completions are
    idempotent per learner, course and moment)."""
    same = await s.scalar(
        select(Completion.id).where(
            Completion.learner_id == learner_id,
            Completion.course_id == course.id,
            Completion.completed_at == completed_at,
        )
    )
    if same is not None:
        return None
    return Completion(
        learner_id=learner_id,
        course_id=course.id,
        completed_at=completed_at,
        expires_at=add_months(completed_at, course.certification_months)
        if course.certification_months
        else None,
        source=source,
        booking_id=booking_id,
        recorded_at=now,
    )
