"""A rush through the real HTTP stack (uvicorn + Litestar + the database).

200 learners ask for 20 seats at once: exactly 20 are booked and 180 waitlisted with positions
1..180, with no errors — on PostgreSQL (row lock + conditional UPDATE) and on SQLite (IMMEDIATE
writers). The control test switches the seat guard off and shows the same rush oversells on
PostgreSQL, so these tests can catch the race they claim to prevent.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from booking import people
from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from booking.models import Booking, BookingHistory, Outbox
from booking.models import Session as SessionRow
from tests import support

LEARNERS = 200
SEATS = 20


async def _prepare(url: str, clock: FixedClock) -> tuple[int, list[str]]:
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, clock)
        session_id = await support.make_session(world, capacity=SEATS)
        emails = await support.make_learners(world, LEARNERS)
        tokens = [await people.create_token(db, clock, email=e) for e in emails]
        return session_id, tokens
    finally:
        await db.dispose()


async def _rush(base_url: str, session_id: int, tokens: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=LEARNERS, max_keepalive_connections=LEARNERS)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as http:
        start = asyncio.Event()

        async def one(token: str) -> httpx.Response:
            await start.wait()
            return await http.post(
                f"/api/v1/sessions/{session_id}/bookings",
                json={},
                headers={"Authorization": f"Bearer {token}"},
            )

        tasks = [asyncio.create_task(one(t)) for t in tokens]
        await asyncio.sleep(0)  # every task is parked on the event: release them together
        start.set()
        return list(await asyncio.gather(*tasks))


async def _state_counts(url: str, session_id: int) -> dict[str, int]:
    db = Database(support.settings_for(url))
    try:
        async with db.reading() as s:
            rows = await s.execute(
                select(Booking.state, func.count())
                .where(Booking.session_id == session_id)
                .group_by(Booking.state)
            )
            counts = {state: n for state, n in rows}
            counts["seats_held"] = (await s.get_one(SessionRow, session_id)).seats_held
            counts["history"] = await s.scalar(select(func.count()).select_from(BookingHistory))
            counts["outbox"] = await s.scalar(select(func.count()).select_from(Outbox))
            return counts
    finally:
        await db.dispose()


async def _run(url: str, clock: FixedClock, *, seat_guard: bool = True):
    session_id, tokens = await _prepare(url, clock)
    settings = replace(support.settings_for(url), seat_guard=seat_guard, db_pool_size=20)
    async with support.live_server(create_app(settings, clock=clock, run_worker=False)) as base:
        responses = await _rush(base, session_id, tokens)
    return session_id, responses


def _assert_exact(responses: list[httpx.Response], counts: dict[str, int]) -> None:
    errors = [r for r in responses if r.status_code != 201]
    assert not errors, [(r.status_code, r.text[:200]) for r in errors[:5]]
    states = [r.json()["state"] for r in responses]
    assert states.count("booked") == SEATS
    assert states.count("waitlisted") == LEARNERS - SEATS
    positions = sorted(
        r.json()["waitlist_position"] for r in responses if r.json()["state"] == "waitlisted"
    )
    assert positions == list(range(1, LEARNERS - SEATS + 1))
    assert counts["booked"] == SEATS
    assert counts["waitlisted"] == LEARNERS - SEATS
    assert counts["seats_held"] == SEATS
    # One history row and one queued notification per booking: nothing lost, nothing doubled.
    assert counts["history"] == LEARNERS
    assert counts["outbox"] == LEARNERS


@pytest.mark.postgres
async def test_rush_on_postgres_books_exactly_the_seats(
    pg_only_url: str, clock: FixedClock
) -> None:
    session_id, responses = await _run(pg_only_url, clock)
    _assert_exact(responses, await _state_counts(pg_only_url, session_id))


async def test_rush_on_sqlite_books_exactly_the_seats(
    sqlite_template: Path, tmp_path: Path, clock: FixedClock
) -> None:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "rush.db")
    session_id, responses = await _run(url, clock)
    _assert_exact(responses, await _state_counts(url, session_id))


@pytest.mark.postgres
async def test_control_without_seat_guard_the_rush_oversells(
    pg_only_url: str, clock: FixedClock
) -> None:
    """The same rush with the guard off must oversell, or the tests above prove nothing."""
    session_id, responses = await _run(pg_only_url, clock, seat_guard=False)
    counts = await _state_counts(pg_only_url, session_id)
    assert counts.get("booked", 0) > SEATS, counts
