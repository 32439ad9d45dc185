"""An administrator (or an HR feed acting with an administrator's token) enrols a cohort of 200
at once through the real HTTP stack (uvicorn + Litestar + the database): every request is
answered 201 — booked up to capacity, waitlisted after — on SQLite and on PostgreSQL, with the
rate limits counted in process memory and in Redis. The booking rate limit counts the learners
booked, and gives the administrator a ceiling of its own, so legitimate bulk work is not
throttled as one runaway person would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from booking import ratelimit
from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from booking.models import Booking
from tests import support

COHORT = 200
SEATS = 120
REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=1):
        return True
    return False


async def _prepare(url: str, clock: FixedClock) -> tuple[int, str, list[str]]:
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, clock)
        session_id = await support.make_session(world, capacity=SEATS)
        emails = await support.make_learners(world, COHORT, prefix="cohort")
        return session_id, world.admin_token, emails
    finally:
        await db.dispose()


async def _enrol_at_once(
    base_url: str, session_id: int, token: str, emails: list[str]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=COHORT, max_keepalive_connections=COHORT)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base_url, timeout=120, limits=limits, headers=headers
    ) as http:
        start = asyncio.Event()

        async def one(email: str) -> httpx.Response:
            await start.wait()
            return await http.post(
                f"/api/v1/sessions/{session_id}/bookings", json={"learner_email": email}
            )

        tasks = [asyncio.create_task(one(e)) for e in emails]
        await asyncio.sleep(0)  # every task is parked on the event: release them together
        start.set()
        return list(await asyncio.gather(*tasks))


async def _states(url: str, session_id: int) -> dict[str, int]:
    db = Database(support.settings_for(url))
    try:
        async with db.reading() as s:
            rows = await s.execute(
                select(Booking.state, func.count())
                .where(Booking.session_id == session_id)
                .group_by(Booking.state)
            )
            return {state: n for state, n in rows}
    finally:
        await db.dispose()


async def _clear_redis_counts(admin_email: str, emails: list[str]) -> None:
    """The Redis counts outlive the app: start from nothing, as a fresh minute would."""
    store = ratelimit.RedisStore(REDIS_URL)
    for limit, key in [(ratelimit.bulk_booking(1), admin_email)] + [
        (ratelimit.BOOKING_FOR, f"{admin_email}>{e}") for e in emails
    ]:
        await store.clear(f"{limit.name}:{key}")


async def _run_cohort(url: str, clock: FixedClock, *, redis: bool) -> None:
    session_id, token, emails = await _prepare(url, clock)
    settings = replace(support.settings_for(url), db_pool_size=20)
    if redis:
        await _clear_redis_counts("admin@example.org", emails)
        settings = replace(settings, redis_url=REDIS_URL)
    async with support.live_server(create_app(settings, clock=clock, run_worker=False)) as base:
        responses = await _enrol_at_once(base, session_id, token, emails)

    refused = [r for r in responses if r.status_code != 201]
    assert not refused, [(r.status_code, r.text[:200]) for r in refused[:5]]
    states = [r.json()["state"] for r in responses]
    assert states.count("booked") == SEATS
    assert states.count("waitlisted") == COHORT - SEATS
    assert await _states(url, session_id) == {"booked": SEATS, "waitlisted": COHORT - SEATS}


async def test_an_admin_enrols_a_cohort_of_200_at_once_on_sqlite(
    sqlite_template: Path, tmp_path: Path, clock: FixedClock
) -> None:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "cohort.db")
    await _run_cohort(url, clock, redis=False)


@pytest.mark.postgres
async def test_an_admin_enrols_a_cohort_of_200_at_once_on_postgres(
    pg_only_url: str, clock: FixedClock
) -> None:
    await _run_cohort(pg_only_url, clock, redis=False)


@pytest.mark.postgres
@pytest.mark.skipif(not _redis_available(), reason="Redis is not answering on 127.0.0.1:6379")
async def test_an_admin_enrols_a_cohort_of_200_at_once_with_limits_in_redis(
    pg_only_url: str, clock: FixedClock
) -> None:
    await _run_cohort(pg_only_url, clock, redis=True)
