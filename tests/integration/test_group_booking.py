"""Group commit (bookings/group.py), on both databases: the plain bookings for one session that
arrive while one for it is being written are taken together and answered in arrival order, each
with its own outcome and the rows a booking made on its own writes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from booking import bookings
from booking.bookings import BookingRequest, group, group_statements
from booking.kernel.errors import RefusedError
from booking.models import Booking, BookingHistory
from booking.models import Session as SessionRow
from tests import support
from tests.integration.test_lean_booking import as_json, book, rows_of, statements


@pytest.fixture(autouse=True)
def one_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """One booking on its own at a time (three in production), so that the second already
    waits for a group: the groups' tests below need no more learners than that."""
    monkeypatch.setattr(group.LINES, "alone_at_once", 1)


@pytest.fixture
def pg(world: support.World) -> support.World:
    if world.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite books in one hop under its write lock: no groups")
    return world


@contextlib.asynccontextmanager
async def session_row_held(world: support.World, session_id: int) -> AsyncIterator[None]:
    """The session's row locked by another transaction until the block ends (on SQLite, the
    database's write lock held): the first booking waits for it, and the ones after it queue
    up for the next group."""
    if world.db.write_lock is not None:
        async with world.db.write_lock:
            yield
        return
    async with world.db.engine.connect() as other:
        await other.execute(
            text("SELECT id FROM sessions WHERE id = :id FOR UPDATE"), {"id": session_id}
        )
        yield
        await other.rollback()


async def lock_waiters(world: support.World) -> int:
    """How many are waiting for the lock `session_row_held` holds (PostgreSQL: statements of
    this test's database waiting for a lock; SQLite: tasks waiting for its write lock)."""
    lock = world.db.write_lock
    if lock is not None:
        return len(lock._waiters or ())  # type: ignore[attr-defined]
    async with world.db.reading() as s:
        found = await s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(found or 0)


async def until(condition: Any) -> None:
    """Wait (a bounded time) for something another task is on its way to do."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def until_waiting(world: support.World, n: int) -> None:
    for _ in range(500):
        if await lock_waiters(world) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def book_at_once(
    world: support.World, session_id: int, emails: list[str], *, cancel: int | None = None
) -> list[Any]:
    """Each learner's booking, in this order, while the session's row is held: the first on its
    own (waiting for the row in its write), the second in a group of its own started at once
    (waiting behind it), the rest queued in the order they arrived (the `cancel`th given up on
    while in line), then answered: groups of 1 and len - 2."""
    actors = [await support.actor(world.db, e) for e in emails]

    def asking(actor: Any) -> asyncio.Task[Any]:
        return asyncio.create_task(
            bookings.book_place(world.db, world.clock, actor, BookingRequest(session_id))
        )

    groups = len(group.LINES.sizes)
    async with session_row_held(world, session_id):
        tasks = [asking(actors[0])]
        await until_waiting(world, 1)  # the first is at the lock
        tasks.append(asking(actors[1]))
        await until(lambda: len(group.LINES.sizes) > groups)
        await until_waiting(world, 2)  # and the second's group behind it
        tasks += [asking(a) for a in actors[2:]]
        await until(lambda: group.LINES.waiting(session_id) == len(emails) - 2)
        if cancel is not None:
            tasks[cancel].cancel()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def test_a_group_is_answered_in_arrival_order_with_the_right_outcomes(
    world: support.World,
) -> None:
    """Two seats, seven learners at once: the first in arrival order get the seats, the rest
    the waiting list in the same order (tickets, positions and ids follow arrival); the five
    that arrived while the first two were written are written together, by one statement; each
    answer equals a fresh read."""
    emails = await support.make_learners(world, 7, prefix="grp")
    session_id = await support.make_session(world, capacity=2, facilitators=["trainer@example.org"])
    group.LINES.sizes.clear()
    with statements(world) as heard:
        outcomes = await book_at_once(world, session_id, emails)
    assert list(group.LINES.sizes) == [1, 5]
    if world.db.engine.dialect.name == "postgresql":  # the first's write, then the groups'
        assert len([q for q in heard if q.lstrip().startswith("WITH place")]) == 3
    else:  # a savepoint for each booking in a group
        assert len([q for q in heard if q.startswith("SAVEPOINT")]) == 6
    answers = [o.booking for o in outcomes]
    assert [a.state for a in answers] == ["booked"] * 2 + ["waitlisted"] * 5
    assert [a.waitlist_position for a in answers] == [None, None, 1, 2, 3, 4, 5]
    assert [a.learner.email for a in answers] == emails
    assert [o.status_code for o in outcomes] == [201] * 7
    async with world.db.reading() as s:
        rows = {
            b.id: b
            for b in (
                await s.scalars(select(Booking).where(Booking.session_id == session_id))
            ).all()
        }
        held = (await s.get_one(SessionRow, session_id)).seats_held
    assert held == 2
    ids = [a.id for a in answers]
    assert ids == sorted(ids) and set(ids) == set(rows)
    tickets = [rows[i].waitlist_seq for i in ids[2:]]
    assert tickets == sorted(tickets) and len(set(tickets)) == 5
    for a in answers:
        fresh = await bookings.get_booking(world.db, world.clock, world.admin, a.id)
        assert as_json(a) == as_json(fresh)


async def test_a_group_writes_the_rows_a_booking_on_its_own_writes(world: support.World) -> None:
    """The same four bookings (two seats and two waiting places, with a trainer), the last two
    made in one group, and one by one by the full path on a session alike: the same booking
    rows, history and emails."""
    emails = await support.make_learners(world, 8, prefix="gw")
    together = await support.make_session(world, capacity=2, facilitators=["trainer@example.org"])
    alone = await support.make_session(
        world,
        capacity=2,
        facilitators=["trainer@example.org"],
        start=world.clock.now() + timedelta(days=15),
    )
    grouped = [o.booking for o in await book_at_once(world, together, emails[:4])]
    assert group.LINES.sizes[-1] == 2
    single = [await book(world, email, alone, lean=False) for email in emails[4:]]
    assert [b.state for b in grouped] == [b.state for b in single]
    for mine, theirs in zip(grouped, single, strict=True):
        assert await rows_of(world, mine.id) == await rows_of(world, theirs.id)


async def test_a_learner_asking_twice_in_one_group_is_booked_once(world: support.World) -> None:
    emails = await support.make_learners(world, 2, prefix="gt")
    session_id = await support.make_session(world, capacity=5)
    outcomes = await book_at_once(world, session_id, [emails[0], emails[1], emails[1]])
    assert outcomes[0].booking.state == outcomes[1].booking.state == "booked"
    assert isinstance(outcomes[2], RefusedError)
    assert [r.code for r in outcomes[2].reasons] == ["already_booked"]
    async with world.db.reading() as s:
        mine = (await s.scalars(select(Booking).where(Booking.session_id == session_id))).all()
    assert len(mine) == 2


async def test_a_group_that_finds_the_session_changed_is_booked_one_by_one_in_order(
    pg: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group's write finds the session not as read (here: never as read): it writes
    nothing, and its bookings are made one by one, still in arrival order."""
    world = pg
    write = group_statements.PLACES_AND_ROWS.text
    monkeypatch.setattr(
        group_statements,
        "PLACES_AND_ROWS",
        text(write.replace("<= capacity", "<= capacity AND false")),
    )
    emails = await support.make_learners(world, 5, prefix="gc")
    session_id = await support.make_session(world, capacity=2)
    outcomes = await book_at_once(world, session_id, emails)
    answers = [o.booking for o in outcomes]
    assert [a.state for a in answers] == ["booked"] * 2 + ["waitlisted"] * 3
    assert [a.waitlist_position for a in answers[2:]] == [1, 2, 3]
    assert [a.id for a in answers] == sorted(a.id for a in answers)
    async with world.db.reading() as s:
        history = (
            await s.scalars(
                select(BookingHistory).where(BookingHistory.booking_id.in_([a.id for a in answers]))
            )
        ).all()
    assert len(history) == 5


async def test_a_request_given_up_on_while_in_line_is_not_booked(world: support.World) -> None:
    emails = await support.make_learners(world, 4, prefix="gg")
    session_id = await support.make_session(world, capacity=5)
    done = await book_at_once(world, session_id, emails, cancel=2)
    assert isinstance(done[2], asyncio.CancelledError)
    async with world.db.reading() as s:
        learners = (
            await s.scalars(select(Booking.learner_id).where(Booking.session_id == session_id))
        ).all()
    assert len(learners) == 3
    assert (await support.actor(world.db, emails[2])).person_id not in learners


async def test_three_at_once_on_their_own_then_the_rest_together(
    world: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in production: three bookings for one session run on their own at once; the three
    that arrive while they are under way go to a group. (Here every one of them reads the
    session before any has its seat, so the group's write finds the seats gone and its
    bookings are made one by one, and a lean booking that finds the seat gone takes the full
    path, as before groups: the order among those is the order they reach the row, which is
    why this test counts places rather than comparing positions.)"""
    monkeypatch.setattr(group.LINES, "alone_at_once", group.ALONE_AT_ONCE)
    assert group.ALONE_AT_ONCE == 3
    emails = await support.make_learners(world, 6, prefix="g3")
    session_id = await support.make_session(world, capacity=2)
    actors = [await support.actor(world.db, e) for e in emails]
    groups = len(group.LINES.sizes)
    async with session_row_held(world, session_id):
        tasks = [
            asyncio.create_task(
                bookings.book_place(world.db, world.clock, a, BookingRequest(session_id))
            )
            for a in actors
        ]
        await until(lambda: len(group.LINES.sizes) > groups)
    answers = [o.booking for o in await asyncio.gather(*tasks)]
    assert group.LINES.sizes[-1] == 3
    assert sorted(a.state for a in answers) == ["booked"] * 2 + ["waitlisted"] * 4
    positions = [a.waitlist_position for a in answers if a.waitlist_position]
    assert sorted(positions) == [1, 2, 3, 4]
    async with world.db.reading() as s:
        held = (await s.get_one(SessionRow, session_id)).seats_held
        rows = (await s.scalars(select(Booking).where(Booking.session_id == session_id))).all()
    assert held == 2 and len(rows) == 6
