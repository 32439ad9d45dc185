"""Booking attempts are limited per learner booked, not per person acting.

A learner booking for themselves: 60 attempts a minute. An administrator booking other people:
60 a minute for each learner, and its own ceiling over everyone (BOOKING_BULK_BOOKINGS_PER_MINUTE).
Anyone else naming another learner (a manager, or someone trying it on) is counted as themselves,
so nobody can use up another person's allowance. (The rush of 200 by one administrator is in
tests/concurrency/test_bulk_booking.py.)
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from booking import people, ratelimit
from booking.app import create_app
from booking.clock import FixedClock
from booking.config import ConfigError, Settings
from tests import support

REDIS_URL = "redis://127.0.0.1:6379/0"
# The limiter is the same on either database: run these on SQLite only.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _redis_available() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=1):
        return True
    return False


@contextlib.asynccontextmanager
async def _api(db_url: str, **settings: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(
        replace(support.settings_for(db_url), **settings),
        clock=FixedClock(support.T0),
        run_worker=False,
    )
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


async def _book(
    client: AsyncTestClient[Any], token: str, session_id: int, learner_email: str | None = None
) -> httpx.Response:
    body = {"learner_email": learner_email} if learner_email else {}
    return await client.post(
        f"/api/v1/sessions/{session_id}/bookings",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


async def _token(world: support.World, email: str) -> str:
    return await people.create_token(world.db, world.clock, email=email)


def _throttled(response: httpx.Response) -> bool:
    return response.status_code == 429 and int(response.headers["retry-after"]) > 0


@sqlite_only
async def test_a_learner_booking_for_themselves_is_still_limited_to_60_a_minute(
    db_url: str, world: support.World
) -> None:
    session_id = await support.make_session(world)
    lee = await _token(world, "lee@example.org")
    async with _api(db_url) as api:
        first = await _book(api, lee, session_id)
        assert first.status_code == 201
        # Naming oneself is booking for oneself: the same count.
        for _ in range(ratelimit.BOOKING.count - 1):
            assert (await _book(api, lee, session_id, "lee@example.org")).status_code == 409
        assert _throttled(await _book(api, lee, session_id))
        # Someone else is not held back by Lee's attempts.
        assert (
            await _book(api, await _token(world, "kim@example.org"), session_id)
        ).status_code == 201


@sqlite_only
async def test_an_administrators_own_ceiling_applies_over_everyone_it_books(
    db_url: str, world: support.World
) -> None:
    session_id = await support.make_session(world, capacity=20)
    learners = await support.make_learners(world, 4, prefix="cohort")
    admin = world.admin_token
    async with _api(db_url, bulk_bookings_per_minute=5) as api:
        for email in [*learners, "lee@example.org"]:
            assert (await _book(api, admin, session_id, email)).status_code == 201
        assert _throttled(await _book(api, admin, session_id, "kim@example.org"))
        # The ceiling is the administrator's bulk work only: booking for themselves, and the
        # learners booking for themselves, are counted apart.
        assert (await _book(api, admin, session_id)).status_code == 201
        kim = await _token(world, "kim@example.org")
        assert (await _book(api, kim, session_id)).status_code == 201


@sqlite_only
async def test_an_administrator_repeating_one_learner_stops_at_60_a_minute(
    db_url: str, world: support.World
) -> None:
    session_id = await support.make_session(world)
    admin = world.admin_token
    async with _api(db_url) as api:
        assert (await _book(api, admin, session_id, "lee@example.org")).status_code == 201
        for _ in range(ratelimit.BOOKING_FOR.count - 1):
            r = await _book(api, admin, session_id, "lee@example.org")
            assert r.status_code == 409
        assert _throttled(await _book(api, admin, session_id, "lee@example.org"))
        # A runaway loop on one learner does not stop the rest of the cohort...
        assert (await _book(api, admin, session_id, "kim@example.org")).status_code == 201
        # ... nor use up that learner's own allowance.
        lee = await _token(world, "lee@example.org")
        assert (await _book(api, lee, session_id)).status_code == 409  # already booked: counted


@sqlite_only
async def test_naming_another_learner_counts_against_the_person_acting(
    db_url: str, world: support.World
) -> None:
    session_id = await support.make_session(world)
    kim = await _token(world, "kim@example.org")
    async with _api(db_url) as api:
        # Kim may not book for Lee (403), however often she tries; her tries are hers.
        for _ in range(ratelimit.BOOKING.count):
            assert (await _book(api, kim, session_id, "lee@example.org")).status_code == 403
        assert _throttled(await _book(api, kim, session_id, "lee@example.org"))
        assert _throttled(await _book(api, kim, session_id))
        lee = await _token(world, "lee@example.org")
        assert (await _book(api, lee, session_id)).status_code == 201


def test_which_counters_a_booking_attempt_is_charged_to() -> None:
    bulk = ratelimit.bulk_booking(600)
    mine = ratelimit.booking_counters("lee@example.org", None, bulk=False, bulk_per_minute=600)
    assert mine == [(ratelimit.BOOKING, "lee@example.org")]
    named_self = ratelimit.booking_counters(
        "admin@example.org", " Admin@Example.org ", bulk=True, bulk_per_minute=600
    )
    assert named_self == [(ratelimit.BOOKING, "admin@example.org")]
    for_others = ratelimit.booking_counters(
        "admin@example.org", "Lee@example.org", bulk=True, bulk_per_minute=600
    )
    assert for_others == [
        (ratelimit.BOOKING_FOR, "admin@example.org>lee@example.org"),
        (bulk, "admin@example.org"),
    ]
    by_manager = ratelimit.booking_counters(
        "manager@example.org", "lee@example.org", bulk=False, bulk_per_minute=600
    )
    assert by_manager == [(ratelimit.BOOKING, "manager@example.org")]


@pytest.mark.skipif(not _redis_available(), reason="Redis is not answering on 127.0.0.1:6379")
async def test_the_bulk_ceiling_is_shared_through_redis() -> None:
    # Two processes' limiters on one Redis: the ceiling is over both.
    admin = f"admin-{uuid.uuid4().hex}@example.org"
    first = ratelimit.limiter_for(REDIS_URL)
    second = ratelimit.limiter_for(REDIS_URL)
    waits = []
    for i in range(6):
        limiter = first if i % 2 else second
        counters = ratelimit.booking_counters(
            admin, f"learner{i}@example.org", bulk=True, bulk_per_minute=5
        )
        waits.append(await limiter.exceeded_any(counters))
    assert waits[:5] == [None] * 5
    assert waits[5] is not None and 0 < waits[5] <= 60
    await first.reset(ratelimit.bulk_booking(5), admin)
    for i in range(6):
        await first.reset(ratelimit.BOOKING_FOR, f"{admin}>learner{i}@example.org")


def test_the_bulk_ceiling_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).bulk_bookings_per_minute == 600
    env = {"BOOKING_BULK_BOOKINGS_PER_MINUTE": "2000"}
    assert Settings.from_env(env).bulk_bookings_per_minute == 2000
    with pytest.raises(ConfigError):
        Settings.from_env({"BOOKING_BULK_BOOKINGS_PER_MINUTE": "0"})
