"""Two workers sweeping requirements at once (PostgreSQL): both ticks succeed and each person
gets one open row. The sweep takes a transaction-scoped advisory lock, so the second waits and
then finds the rows the first opened. The control shows the race without it: the second
worker's insert hits the unique index and its whole tick fails.

To make the two sweeps overlap every time, each holds its transaction open for a moment after
its inserts (the last step of the sweep waits up to a second for the other worker to get there;
without the lock the other is blocked on the first's uncommitted rows and never does)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking import records
from booking.clock import FixedClock
from booking.db import Database
from booking.kernel import locks
from booking.models import Requirement
from booking.records import requirements
from tests import support

pytestmark = pytest.mark.postgres

PEOPLE = 400


@pytest.fixture
async def two_workers(pg_only_url: str) -> AsyncIterator[tuple[Database, Database]]:
    one = Database(support.settings_for(pg_only_url, db_pool_size=5))
    two = Database(support.settings_for(pg_only_url, db_pool_size=5))
    try:
        yield one, two
    finally:
        await one.dispose()
        await two.dispose()


async def mandatory_for_many(db: Database, clock: FixedClock) -> None:
    world = await support.make_world(db, clock)
    await support.make_learners(world, PEOPLE, prefix="sweep")
    await records.set_course_rules(
        db,
        clock,
        world.admin,
        world.course_id,
        completion_mode=None,
        criteria=[],
        mandatory=True,
        due_within_days=30,
    )


def hold_before_commit(monkeypatch: Any) -> None:
    """The sweep's last step first waits (at most a second) for both workers to reach it."""
    arrived: list[int] = []
    both = asyncio.Event()
    original = requirements.program_rows

    async def held(s: Any, now: Any) -> int:
        arrived.append(1)
        if len(arrived) == 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 1.0)
        return await original(s, now)

    monkeypatch.setattr(requirements, "program_rows", held)


async def open_rows(db: Database) -> tuple[int, int]:
    async with db.reading() as s:
        total = await s.scalar(
            select(func.count()).select_from(Requirement).where(Requirement.closed_at.is_(None))
        )
        people = await s.scalar(
            select(func.count(func.distinct(Requirement.person_id))).where(
                Requirement.closed_at.is_(None)
            )
        )
    return int(total or 0), int(people or 0)


async def test_two_sweeps_at_once_both_succeed_with_one_row_each(
    two_workers: tuple[Database, Database], clock: FixedClock, monkeypatch: Any
) -> None:
    one, two = two_workers
    await mandatory_for_many(one, clock)
    hold_before_commit(monkeypatch)
    first, second = await asyncio.gather(
        records.sweep_requirements(one, clock), records.sweep_requirements(two, clock)
    )
    total, people = await open_rows(one)
    assert total == people >= PEOPLE
    assert sorted((first, second))[0] == 0  # the second found everything opened


async def test_control_without_the_lock_the_second_sweep_fails(
    two_workers: tuple[Database, Database], clock: FixedClock, monkeypatch: Any
) -> None:
    one, two = two_workers
    await mandatory_for_many(one, clock)

    async def no_lock(s: Any, name: str) -> None:
        return None

    monkeypatch.setattr(locks, "lock_sweep", no_lock)
    hold_before_commit(monkeypatch)
    outcomes = await asyncio.gather(
        records.sweep_requirements(one, clock),
        records.sweep_requirements(two, clock),
        return_exceptions=True,
    )
    assert any(isinstance(o, IntegrityError) for o in outcomes), outcomes
