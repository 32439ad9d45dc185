"""The driver's connections (kernel/driver.py `_checked_out`): taken from the engine's pool
without SQLAlchemy's `Connection`, and handed back without the pool's reset when the block ended
cleanly. What must hold, on both databases: nothing is left checked out, a block that raises
leaves nothing written and no transaction open on the connection the next request gets, and a
connection the driver itself failed on is closed, not pooled."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from booking.kernel import driver
from booking.models import Person
from tests import support

_NAME = select(Person.name).where(Person.email == "lee@example.org")
_RENAME = text("UPDATE people SET name = 'Renamed' WHERE email = 'lee@example.org'")


class _Ours(Exception):
    pass


async def _name(world: support.World) -> str:
    async with driver.reading(world.db) as d:
        return str(await d.value(_NAME))


async def test_a_clean_block_gives_its_connection_back(world: support.World) -> None:
    pool = world.db.engine.sync_engine.pool
    before = await _name(world)
    for _ in range(3):
        async with driver.transaction(world.db) as d:
            await d.execute(_RENAME)
        assert await _name(world) == "Renamed"
    assert before != "Renamed"
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_block_that_raises_leaves_no_transaction_behind(world: support.World) -> None:
    before = await _name(world)
    with pytest.raises(_Ours):
        async with driver.transaction(world.db) as d:
            await d.execute(_RENAME)
            raise _Ours
    # The next blocks (on the same pooled connection) see nothing of it, and can write.
    assert await _name(world) == before
    async with driver.transaction(world.db) as d:
        await d.execute(_RENAME)
    assert await _name(world) == "Renamed"
    assert world.db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_connection_the_driver_failed_on_is_not_pooled(world: support.World) -> None:
    failed = []
    with pytest.raises(DBAPIError):
        async with driver.transaction(world.db) as d:
            failed.append(d._conn)
            await d.execute(_RENAME)
            await d.execute(text("SELECT no_such_column FROM people"))
    pool = world.db.engine.sync_engine.pool
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    pooled = [await world.db.engine.raw_connection() for _ in range(pool.checkedin())]  # type: ignore[attr-defined]
    assert pooled and all(p.driver_connection is not failed[0] for p in pooled)
    for p in pooled:
        p.close()
    assert await _name(world) != "Renamed"
    async with driver.reading(world.db) as d:
        assert await d.value(select(Person.id).where(Person.email == "lee@example.org"))


async def test_sqlite_holds_the_database_from_the_first_statement(world: support.World) -> None:
    """On SQLite `BEGIN IMMEDIATE` goes with the first statements (one hop fewer): from the
    first read on, no other connection can write; a block with no statement begins nothing."""
    if world.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own locking")
    path = world.db.engine.url.database
    assert path

    def another_writer() -> str:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return "wrote"
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            other.close()

    async with driver.transaction(world.db) as d:
        assert another_writer() == "wrote"  # nothing sent yet
        await d.value(_NAME)
        assert another_writer() == "database is locked"
    assert another_writer() == "wrote"
    assert d.begun
    async with driver.transaction(world.db) as empty:
        pass
    assert not empty.begun
