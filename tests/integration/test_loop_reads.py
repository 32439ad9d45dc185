"""SQLite: a read on the event loop's own thread (`kernel.driver.read_row`,
`Database.loop_reader`) — the token read every API request makes — instead of a hop to
aiosqlite's thread; where SQLite would have it wait, the hop after all, waiting there."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from booking import people
from booking.kernel import driver
from booking.people.actors import _TOKEN_ROW
from booking.people.tokens import hash_token
from tests import support


@pytest.fixture
def sqlite_world(world: support.World) -> support.World:
    if world.db.loop_reader() is None:
        pytest.skip("PostgreSQL: every read is a statement to the server")
    return world


async def test_the_token_read_runs_on_the_loop_thread(sqlite_world: support.World) -> None:
    reader = sqlite_world.db.loop_reader()
    assert reader is not None
    threads: list[int] = []
    reader.set_trace_callback(lambda _: threads.append(threading.get_ident()))
    try:
        actor = await people.actor_for_token(sqlite_world.db, sqlite_world.admin_token)
    finally:
        reader.set_trace_callback(None)
    assert actor is not None and actor.email == "admin@example.org"
    assert threads == [threading.get_ident()]


async def test_a_read_that_would_wait_waits_in_aiosqlites_thread(
    sqlite_world: support.World,
) -> None:
    """Another connection holds the database exclusively: the read on the loop's thread does
    not wait for it (the loop goes on), the read in aiosqlite's thread does, and answers once
    the database is free."""
    path = sqlite_world.db.settings.sqlite_path()
    # Nobody else connected (the pool and the reader are opened again at their next use), so
    # that the holder can take the database for itself.
    await sqlite_world.db.dispose()
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE people SET name = name WHERE id < 0")
    released = False
    try:
        reader = sqlite_world.db.loop_reader()
        assert reader is not None
        with pytest.raises(sqlite3.OperationalError):  # the loop's read would have to wait
            reader.execute("SELECT count(*) FROM people").fetchone()
        read = asyncio.create_task(
            support_read_row(sqlite_world, hash_token(sqlite_world.admin_token))
        )
        for _ in range(20):  # the loop is not held up: other tasks run while the read waits
            await asyncio.sleep(0.005)
        assert not read.done()
        holder.execute("ROLLBACK")
        holder.execute("PRAGMA locking_mode=NORMAL")
        holder.execute("SELECT count(*) FROM people").fetchone()  # gives the lock up
        holder.close()
        released = True
        found = await asyncio.wait_for(read, 30)
    finally:
        if not released:
            holder.close()
    assert found is not None and found["p_email"] == "admin@example.org"


async def support_read_row(world: support.World, token_hash: str) -> object:
    return await driver.read_row(world.db, _TOKEN_ROW, token_hash=token_hash)
