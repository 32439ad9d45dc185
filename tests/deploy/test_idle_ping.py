"""Pooled PostgreSQL connections are pinged at checkout only after sitting idle (booking/db.py):
a connection the server cut while it sat in the pool is replaced before a request uses it, and
a connection back a moment ago costs no round trip. The control shows the cut connection failing
the request when nothing pings it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from booking import db as db_module
from booking.db import Database
from tests import support

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres]
APP = "booking-idle-ping-test"


@pytest.fixture
async def database(pg_only_url: str) -> AsyncIterator[tuple[Database, list[int]]]:
    """One pooled connection at most, and a count of the pings it gets."""
    settings = support.settings_for(pg_only_url, db_pool_size=1, db_max_overflow=0)
    database = Database(settings, application_name=APP)
    dialect = database.engine.sync_engine.dialect
    pings: list[int] = []
    ping: Callable[[Any], bool] = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    yield database, pings
    await database.dispose()


async def backend_pid(database: Database) -> int:
    async with database.reading() as s:
        return int((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def cut(pg_url: str) -> int:
    conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            APP,
        )
    finally:
        await conn.close()
    return sum(1 for r in rows if r[0])


async def test_a_busy_connection_is_not_pinged(database: tuple[Database, list[int]]) -> None:
    db, pings = database
    first = await backend_pid(db)
    for _ in range(5):
        assert await backend_pid(db) == first  # the same pooled connection every time
    assert pings == []


async def test_an_idle_connection_cut_by_the_server_is_replaced_before_use(
    database: tuple[Database, list[int]], pg_only_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, pings = database
    first = await backend_pid(db)
    assert await cut(pg_only_url) == 1
    # Every returned connection counts as idle now (no sleeping in tests).
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    second = await backend_pid(db)
    assert second != first
    assert len(pings) >= 1


async def test_control_without_the_ping_the_cut_connection_fails_the_request(
    database: tuple[Database, list[int]], pg_only_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, pings = database
    await backend_pid(db)
    assert await cut(pg_only_url) == 1
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", float("inf"))
    with pytest.raises(DBAPIError):
        await backend_pid(db)
    assert pings == []
    # The pool threw the dead connection away: the next request gets a fresh one.
    assert await backend_pid(db) > 0
