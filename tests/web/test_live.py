"""Live updates over server-sent events: a booking on a session reaches pages following it,
in one process (memory channels) and across processes (Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from booking import people
from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from tests import support

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    """A Redis that answers PING without a password (anything else on the port does not count)."""
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", 6379), timeout=1) as conn,
    ):
        conn.sendall(b"PING\r\n")
        return conn.recv(64).startswith(b"+PONG")
    return False


@contextlib.asynccontextmanager
async def signed_in(base: str, person_id: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        page = await http.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await http.post("/login", data={"person_id": str(person_id), "_csrf_token": token})
        assert r.status_code == 303
        yield http


async def next_event(lines: AsyncIterator[str]) -> str:
    async for line in lines:
        if line.startswith("event:"):
            return line.partition(":")[2].strip()
    raise AssertionError("stream ended")


async def _seed(url: str) -> tuple[int, int, str]:
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
        session_id = await support.make_session(world, capacity=5)
        lee = await support.actor(db, "lee@example.org")
        token = await people.create_token(db, FixedClock(support.T0), email="kim@example.org")
        assert lee.person_id is not None
        return session_id, lee.person_id, token
    finally:
        await db.dispose()


async def _follow_and_book(watch_base: str, book_base: str, url: str) -> None:
    session_id, lee_id, kim_token = await _seed(url)
    async with (
        signed_in(watch_base, lee_id) as http,
        http.stream("GET", f"/live?sessions={session_id}") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert await asyncio.wait_for(next_event(lines), 5) == "ready"
        async with httpx.AsyncClient(base_url=book_base, timeout=10) as api:
            booked = await api.post(
                f"/api/v1/sessions/{session_id}/bookings",
                json={},
                headers={"Authorization": f"Bearer {kim_token}"},
            )
            assert booked.status_code == 201
        assert await asyncio.wait_for(next_event(lines), 5) == f"session-{session_id}"


async def test_a_booking_reaches_a_page_following_the_session(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "live.db")
    settings = support.settings_for(url, demo=True)
    app = create_app(settings, clock=FixedClock(support.T0), run_worker=False)
    async with support.live_server(app) as base:
        await _follow_and_book(base, base, url)


@pytest.mark.skipif(
    not redis_available(),
    reason="Redis is not answering on 127.0.0.1:6379 (apt-get install redis-server)",
)
async def test_across_two_app_processes_through_redis(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "live2.db")
    settings = replace(support.settings_for(url, demo=True), redis_url=REDIS_URL)
    one = create_app(settings, clock=FixedClock(support.T0), run_worker=False)
    two = create_app(settings, clock=FixedClock(support.T0), run_worker=False)
    async with support.live_server(one) as base_one, support.live_server(two) as base_two:
        # Watch on one app, book on the other: only the shared channel can carry the news.
        await _follow_and_book(base_one, base_two, url)


async def test_live_needs_a_sign_in_and_sane_ids(sqlite_template: Path, tmp_path: Path) -> None:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "live3.db")
    app = create_app(
        support.settings_for(url, demo=True), clock=FixedClock(support.T0), run_worker=False
    )
    _, lee_id, _ = await _seed(url)
    async with support.live_server(app) as base:
        async with httpx.AsyncClient(base_url=base) as anonymous:
            assert (await anonymous.get("/live?sessions=1")).status_code == 303
        async with signed_in(base, lee_id) as http:
            assert (await http.get("/live?sessions=abc")).status_code == 422
            assert (await http.get("/live")).status_code == 422
