"""Two workers queueing requirement reminders at once send each one once (PostgreSQL).

Each worker claims a reminder by a conditional UPDATE of the requirement's `reminded_day`
(`WHERE reminded_day < day … RETURNING`): under READ COMMITTED the second worker's UPDATE waits
for the first's row locks, then re-checks the condition and finds the rows taken. Were the claim
missing, both would queue the same reminder and the outbox's unique dedupe key would fail one
worker's whole tick with an IntegrityError — so a clean run of both, with exactly one email per
person and day, shows the claim did the work."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from booking import records
from booking.clock import FixedClock
from booking.db import Database
from booking.models import Outbox, Requirement
from tests import support

pytestmark = pytest.mark.postgres

PEOPLE = 40
DAYS = (1, 7, 14, 21)


async def test_two_workers_send_each_reminder_and_escalation_once(
    pg_only_url: str, clock: FixedClock
) -> None:
    one = Database(support.settings_for(pg_only_url, db_pool_size=5))
    two = Database(support.settings_for(pg_only_url, db_pool_size=5))
    try:
        world = await support.make_world(one, clock)
        await support.make_learners(world, PEOPLE, prefix="race")
        await records.set_course_rules(
            one,
            clock,
            world.admin,
            world.course_id,
            completion_mode=None,
            criteria=[],
            mandatory=True,
            due_within_days=30,
        )
        await records.sweep_requirements(one, clock)
        async with one.reading() as s:
            rows = await s.scalar(select(func.count()).select_from(Requirement))
        assert rows is not None and rows >= PEOPLE
        start = clock.now()
        for day in (*DAYS, 28):
            clock.set(start + support.days(day - 1))
            for _ in range(3):
                counts = await asyncio.gather(
                    records.queue_requirement_reminders(one, clock),
                    records.queue_requirement_reminders(two, clock),
                )
            assert counts == [0, 0]  # the last round found everything sent
        async with one.reading() as s:
            keys = (
                await s.scalars(
                    select(Outbox.dedupe_key).where(Outbox.topic == "requirement.reminder")
                )
            ).all()
            escalations = await s.scalar(
                select(func.count()).where(Outbox.topic == "requirement.escalation")
            )
        per_day = Counter(int(key.rsplit(":", 1)[1]) for key in keys)
        assert per_day == {day: rows for day in DAYS}
        # Lee and Kim have a line manager; the race learners and the rest do not.
        assert escalations == 2
    finally:
        await one.dispose()
        await two.dispose()
