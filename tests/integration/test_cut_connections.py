"""A booking whose connection the server cuts (a failover, an administrator, a restart) before its
COMMIT was sent is made again, once, on a new connection (`kernel.tx.with_retry`, `db.is_cut`):
the server rolled the first attempt back, so the learner is booked exactly once and hears nothing
of it. One cut while committing is not made again — it may have committed — and answers as an
unavailable database does (503). PostgreSQL only: SQLite has no connection to cut."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text

from booking import bookings
from booking.bookings import BookingRequest, group, lean, lean_writes
from booking.db import is_cut, is_unavailable
from booking.kernel import driver, tx
from booking.models import Booking, BookingHistory
from booking.models import Session as SessionRow
from tests import support
from tests.integration.test_group_booking import book_at_once


@pytest.fixture
def pg(world: support.World) -> support.World:
    if world.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: a file, no connection to cut")
    return world


async def cut(world: support.World, raw: Any) -> None:
    """End the server process behind this driver connection, and wait until it has ended."""
    async with world.db.engine.connect() as other:
        ended = await other.scalar(
            text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": raw.get_server_pid()}
        )
    assert ended


def cut_on_first_call(
    world: support.World,
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    name: str,
    *,
    after: bool = False,
    when: Callable[..., bool] = lambda *a, **k: True,
) -> list[int]:
    """`module.name` (a step taking the driver first) cuts its connection the first time it is
    called (`when` it applies) — before its statement, or `after` it; the calls are counted."""
    original: Callable[..., Awaitable[Any]] = getattr(module, name)
    calls: list[int] = []

    async def cutting(d: Any, *args: Any, **kwargs: Any) -> Any:
        first = when(d, *args, **kwargs) and not calls
        if when(d, *args, **kwargs):
            calls.append(1)
        if first and not after:
            await cut(world, d._conn)
        result = await original(d, *args, **kwargs)
        if first and after:
            await cut(world, d._conn)
        return result

    monkeypatch.setattr(module, name, cutting)
    return calls


async def written(world: support.World, session_id: int) -> tuple[int, int, int]:
    """The session's bookings, their history rows, and its seats held."""
    async with world.db.reading() as s:
        booked = await s.scalar(
            select(func.count()).select_from(Booking).where(Booking.session_id == session_id)
        )
        history = await s.scalar(
            select(func.count())
            .select_from(BookingHistory)
            .join(Booking, Booking.id == BookingHistory.booking_id)
            .where(Booking.session_id == session_id)
        )
        held = (await s.get_one(SessionRow, session_id)).seats_held
    return int(booked or 0), int(history or 0), held


async def book_one(world: support.World, email: str, session_id: int) -> Any:
    actor = await support.actor(world.db, email)
    return await bookings.book_place(world.db, world.clock, actor, BookingRequest(session_id))


async def test_a_booking_cut_before_its_commit_is_made_once_on_a_new_connection(
    pg: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = pg
    [email] = await support.make_learners(world, 1, prefix="cut")
    session_id = await support.make_session(world, capacity=2)
    calls = cut_on_first_call(world, monkeypatch, lean_writes, "place_and_rows_at_once")
    outcome = await book_one(world, email, session_id)
    assert outcome.booking.state == "booked"
    assert len(calls) == 2  # the write cut, then made again from the start
    assert await written(world, session_id) == (1, 1, 1)


async def test_control_without_running_it_again_the_cut_booking_fails(
    pg: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same cut with the transaction's progress not followed (so no cut is known to have
    come before the COMMIT): the booking fails as an unavailable database (503), and the server
    rolled it back."""
    world = pg
    [email] = await support.make_learners(world, 1, prefix="cutc")
    session_id = await support.make_session(world, capacity=2)
    monkeypatch.setattr(tx, "reached", lambda stage: None)
    calls = cut_on_first_call(world, monkeypatch, lean_writes, "place_and_rows_at_once")
    with pytest.raises(Exception) as failed:
        await book_one(world, email, session_id)
    assert is_unavailable(failed.value)
    assert len(calls) == 1
    assert await written(world, session_id) == (0, 0, 0)


async def test_a_booking_cut_while_committing_is_not_made_again(
    pg: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut after the write, as the COMMIT goes: it may have committed (here it had not), so it
    is not run again — even with its error taken for a cut — and the request answers 503; its
    client may retry."""
    world = pg
    [email] = await support.make_learners(world, 1, prefix="cutm")
    session_id = await support.make_session(world, capacity=2)
    monkeypatch.setattr(tx, "is_cut", lambda exc: True)
    calls = cut_on_first_call(world, monkeypatch, lean, "_record", after=True)
    with pytest.raises(Exception) as failed:
        await book_one(world, email, session_id)
    assert is_unavailable(failed.value)
    assert len(calls) == 1
    assert await written(world, session_id) == (0, 0, 0)
    again = await book_one(world, email, session_id)  # the pool's next connection is sound
    assert again.booking.state == "booked"


async def test_a_group_cut_before_its_commit_is_written_again_in_arrival_order(
    pg: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five learners at once on two seats: the group of the last three is cut in its write and
    written again on a new connection — the same outcomes in arrival order, each booked once."""
    world = pg
    monkeypatch.setattr(group.LINES, "alone_at_once", 1)
    emails = await support.make_learners(world, 5, prefix="cutg")
    session_id = await support.make_session(world, capacity=2)
    calls = cut_on_first_call(
        world, monkeypatch, group, "_write", when=lambda d, decided, **k: len(decided) == 3
    )
    group.LINES.sizes.clear()
    outcomes = await book_at_once(world, session_id, emails)
    assert list(group.LINES.sizes) == [1, 3]
    assert len(calls) == 2
    answers = [o.booking for o in outcomes]
    assert [a.state for a in answers] == ["booked"] * 2 + ["waitlisted"] * 3
    assert [a.waitlist_position for a in answers] == [None, None, 1, 2, 3]
    assert [a.learner.email for a in answers] == emails
    assert await written(world, session_id) == (5, 5, 2)


async def cut_them_all(world: support.World) -> int:
    """End every server process of this test's database but the one asking (not the pool's)."""
    url = world.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    other = await asyncpg.connect(url)
    try:
        ended = await other.fetch(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await other.close()
    return sum(1 for r in ended if r[0])


async def two_used_a_moment_ago(world: support.World) -> None:
    """Two of the pool's connections, used and given back a moment ago (so not pinged idle)."""
    async with driver._checked_out(world.db) as a, driver._checked_out(world.db) as b:
        assert a is not b


async def read_one(world: support.World) -> Any:
    async with driver.reading(world.db) as d:
        return await d.value(select(text("1")))


async def test_after_a_cut_the_pools_other_connections_are_pinged_before_use(
    pg: support.World,
) -> None:
    """The server ends all of the app's connections at once: the first request to meet one
    finds it cut (503); the pool's others, given back a moment ago, are pinged at their next
    checkout and replaced, so the next request is served."""
    world = pg
    await two_used_a_moment_ago(world)
    assert await cut_them_all(world) >= 2
    with pytest.raises(Exception) as failed:
        await read_one(world)
    assert is_unavailable(failed.value)
    assert await read_one(world) == 1


async def test_control_without_noting_the_cut_the_next_request_meets_another(
    pg: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = pg
    monkeypatch.setattr(driver, "note_if_cut", lambda *args: None)
    await two_used_a_moment_ago(world)
    assert await cut_them_all(world) >= 2
    for _ in range(2):
        with pytest.raises(Exception) as failed:
            await read_one(world)
        assert is_unavailable(failed.value)


def test_a_cut_is_told_from_a_slow_full_or_read_only_database() -> None:
    """Only a lost connection is a cut, as the driver raises it and as SQLAlchemy's: not a
    statement timeout, a full server, a read-only one after a failover, or SQLite's lock."""
    from asyncpg import exceptions as pg
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    cuts = [
        pg.AdminShutdownError("terminating connection due to administrator command"),
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        pg.ConnectionFailureError("connection failure"),
        ConnectionResetError(),
    ]
    others = [
        pg.QueryCanceledError("canceling statement due to statement timeout"),
        pg.TooManyConnectionsError("sorry, too many clients already"),
        pg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
        pg.DeadlockDetectedError("deadlock detected"),
        sqlite3.OperationalError("database is locked"),
        PoolTimeoutError("QueuePool limit reached"),
    ]
    for error in cuts:
        assert is_cut(error) and is_cut(driver._translated(error)), error
    for error in others:
        assert not is_cut(error) and not is_cut(driver._translated(error)), error
