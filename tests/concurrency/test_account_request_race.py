"""Two administrators approving the same account request at once make one person: the approval
locks the request's row, so the second waits, then finds it decided and says so (PostgreSQL).
The control turns the lock off and shows the race is real: both approvals reach the person's
insert, and the loser fails on the unique email instead of with a clear refusal."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import people
from booking.clock import FixedClock
from booking.db import Database
from booking.kernel.errors import ConflictError
from booking.models import AccountRequest, Person
from booking.people import account_queue
from tests import support

pytestmark = pytest.mark.postgres


def _hold_at_the_insert(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each approval waits (up to three seconds: under a loaded suite the second once took more
    than one to get there) at the person's insert for the other to arrive, so without the lock
    both are inside at once; with it, the second never gets there in time."""
    real = account_queue.write_people
    arrived: list[int] = []
    both = asyncio.Event()

    async def held(s: AsyncSession, **kw: Any) -> Any:
        arrived.append(1)
        if len(arrived) >= 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 3.0)
        return await real(s, **kw)

    monkeypatch.setattr(account_queue, "write_people", held)


async def _race(db: Database, clock: FixedClock, world: support.World) -> list[Any]:
    request_id = await support.waiting_account_request(world)
    settings = support.settings_for("postgresql://")

    def approve() -> Any:
        return people.approve_account_request(
            db, clock, settings, world.admin, request_id, sso=False
        )

    return await asyncio.gather(approve(), approve(), return_exceptions=True)


async def _people_named(db: Database) -> int:
    async with db.reading() as s:
        count = await s.scalar(
            select(func.count()).select_from(Person).where(Person.email == "requester@example.net")
        )
    return int(count or 0)


async def test_approving_twice_at_once_makes_one_person(
    pg_only_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(support.settings_for(pg_only_url, db_pool_size=10))
    try:
        world = await support.make_world(db, clock)
        _hold_at_the_insert(monkeypatch)
        outcomes = await _race(db, clock, world)
        made = [o for o in outcomes if isinstance(o, people.Approved)]
        refused = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(made) == 1 and len(refused) == 1, outcomes
        assert "already approved" in refused[0].detail
        assert await _people_named(db) == 1
    finally:
        await db.dispose()


async def test_control_without_the_lock_both_approvals_reach_the_insert(
    pg_only_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unlocked(s: AsyncSession, request_id: int) -> AccountRequest:
        request = await s.get(AccountRequest, request_id)
        assert request is not None
        if request.state != "waiting":
            raise ConflictError("already decided")
        return request

    db = Database(support.settings_for(pg_only_url, db_pool_size=10))
    try:
        world = await support.make_world(db, clock)
        _hold_at_the_insert(monkeypatch)
        monkeypatch.setattr(account_queue, "_locked_waiting", unlocked)
        outcomes = await _race(db, clock, world)
        assert any(isinstance(o, IntegrityError) for o in outcomes), outcomes
        assert not any(isinstance(o, ConflictError) for o in outcomes), outcomes
        assert await _people_named(db) == 1  # the unique email saved the data, not the message
    finally:
        await db.dispose()
