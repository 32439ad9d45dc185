"""The records feed (`GET /api/v1/records?since=`): the changes after a cursor, oldest first.
How changes are numbered without gaps: `booking.records.changes`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select

from booking import policy
from booking.db import Database
from booking.domain.learning_vocabulary import FeedStatus
from booking.domain.vocabulary import RecordItemType
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.models import Course, Person, RecordChange

FEED_LIMIT = 1000
# Cursors are 64-bit sequence numbers.
MAX_CURSOR = 2**63 - 1


@dataclass(slots=True)
class FeedLearner:
    id: int
    email: str
    personnel_number: str | None


@dataclass(slots=True)
class FeedItem:
    cursor: str
    type: RecordItemType
    learner: FeedLearner
    course_code: str
    session_id: int | None
    booking_id: int | None
    status: FeedStatus
    completed_at: datetime | None
    expires_at: datetime | None
    source: str | None
    recorded_at: datetime


@dataclass(slots=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str


def parse_cursor(value: str | None) -> int:
    if value in (None, ""):
        return 0
    try:
        cursor = int(value)
    except ValueError:
        raise InvalidError("This cursor is not one the server gave out.", "since") from None
    if not 0 <= cursor <= MAX_CURSOR:
        raise InvalidError("This cursor is not one the server gave out.", "since")
    return cursor


async def records_feed(
    db: Database, actor: Actor, *, since: str | None, limit: int = 500
) -> FeedPage:
    """Changes after `since`, oldest first. `next_cursor` is the last change returned, or
    `since` itself when nothing is new: asking again with it never misses or repeats one."""
    if not policy.can_sync_records(actor):
        raise ForbiddenError("Only the records service and administrators can read the feed.")
    after = parse_cursor(since)
    limit = max(1, min(limit, FEED_LIMIT))
    async with db.reading() as s:
        rows = (
            await s.execute(
                select(RecordChange, Person.email, Person.personnel_number, Course.code)
                .join(Person, Person.id == RecordChange.learner_id)
                .join(Course, Course.id == RecordChange.course_id)
                .where(RecordChange.seq > after)
                .order_by(RecordChange.seq)
                .limit(limit)
            )
        ).all()
    items = [
        FeedItem(
            cursor=str(c.seq),
            type=cast(RecordItemType, c.kind),
            learner=FeedLearner(c.learner_id, email, number),
            course_code=code,
            session_id=c.session_id,
            booking_id=c.booking_id,
            status=cast(FeedStatus, c.status),
            completed_at=c.completed_at,
            expires_at=c.expires_at,
            source=c.source,
            recorded_at=c.recorded_at,
        )
        for c, email, number, code in rows
    ]
    return FeedPage(items, items[-1].cursor if items else str(after))
