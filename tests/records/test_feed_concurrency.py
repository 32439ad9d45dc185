"""The records feed under concurrent writers (PostgreSQL): a reader that follows `next_cursor`
while writers commit in any order never skips or repeats a change.

The control test shows the race the counter row prevents: numbers from a plain sequence are
taken in one order and committed in another, so a reader that has seen change n+1 can still
miss change n."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest
from sqlalchemy import select

from booking import records
from booking.db import Database
from booking.models import Course, Person, RecordChange
from tests import support

pytestmark = pytest.mark.postgres

WRITERS = 8
WRITES_EACH = 15


async def test_concurrent_writers_never_make_the_feed_skip_a_change(pg_only_url: str) -> None:
    db = Database(support.settings_for(pg_only_url, db_pool_size=WRITERS + 4))
    try:
        world = await support.make_world(db, support.FixedClock(support.T0))
        emails = await support.make_learners(world, WRITERS, prefix="feed")
        lms = await support.actor_for_service(db)
        async with db.reading() as s:
            course = await s.get_one(Course, world.course_id)
            learner_ids = [
                (await s.scalar(select(Person.id).where(Person.email == e))) for e in emails
            ]
        rng = random.Random(7)
        done = asyncio.Event()

        async def writer(n: int) -> None:
            learner_id = learner_ids[n]
            assert learner_id is not None
            for i in range(WRITES_EACH):
                async with db.transaction() as s:
                    await records.add_completion(
                        s,
                        learner_id=learner_id,
                        course=course,
                        completed_at=support.T0 - support.days(1000 - i),
                        source="elearning",
                        now=world.clock.now(),
                    )
                    # Hold the transaction open a little: commits interleave.
                    await asyncio.sleep(rng.random() * 0.01)

        seen: list[int] = []

        async def reader() -> None:
            cursor: str | None = None
            while True:
                finished = done.is_set()
                page = await records.records_feed(db, lms, since=cursor, limit=7)
                seen.extend(int(i.cursor) for i in page.items)
                cursor = page.next_cursor
                if finished and not page.items:
                    return
                await asyncio.sleep(0.001)

        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
        done.set()
        await reading
        async with db.reading() as s:
            everything = list(
                (await s.scalars(select(RecordChange.seq).order_by(RecordChange.seq))).all()
            )
        assert len(everything) == WRITERS * WRITES_EACH
        assert seen == everything  # every change, once, in order
        assert everything == list(range(everything[0], everything[0] + len(everything)))  # gap-free
    finally:
        await db.dispose()


async def test_control_a_plain_sequence_lets_a_reader_skip_a_change(pg_only_url: str) -> None:
    """Without the counter row's lock: T1 takes number 1, T2 takes 2 and commits first; a
    reader sees 2, moves its cursor past 1, and never sees 1 when T1 commits."""
    dsn = pg_only_url.replace("postgresql+asyncpg://", "postgresql://")
    setup = await asyncpg.connect(dsn)
    t1 = await asyncpg.connect(dsn)
    t2 = await asyncpg.connect(dsn)
    try:
        await setup.execute(
            "DROP TABLE IF EXISTS naive_feed; CREATE TABLE naive_feed (seq BIGSERIAL PRIMARY KEY)"
        )
        first = t1.transaction()
        await first.start()
        await t1.execute("INSERT INTO naive_feed DEFAULT VALUES")
        async with t2.transaction():
            await t2.execute("INSERT INTO naive_feed DEFAULT VALUES")
        seen = [r["seq"] for r in await setup.fetch("SELECT seq FROM naive_feed WHERE seq > 0")]
        cursor = max(seen)
        await first.commit()
        later = await setup.fetch("SELECT seq FROM naive_feed WHERE seq > $1", cursor)
        assert seen == [2] and later == []  # change 1 is never delivered
    finally:
        await setup.execute("DROP TABLE IF EXISTS naive_feed")
        for conn in (setup, t1, t2):
            await conn.close()
