"""The lean booking path (bookings/lean.py) against the full one, on both databases: the same
decision, rows and answer; declined (to the full path) where it does not apply; the driver's
errors as SQLAlchemy's."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import event, select

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.bookings.idempotency import IdempotencyClaim
from booking.catalogue import CourseInput
from booking.db import is_retryable, is_unavailable
from booking.kernel import driver
from booking.kernel.errors import RefusedError
from booking.models import Booking, BookingHistory, Outbox
from tests import support

LEAN_MARK = "AS s_id"  # a label only the lean path's session read carries


@contextlib.contextmanager
def statements(world: support.World) -> Iterator[list[str]]:
    heard: list[str] = []

    def on_execute(*args: Any) -> None:
        heard.append(args[2])

    engine = world.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield heard
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


async def book(world: support.World, email: str, session_id: int, *, lean: bool) -> Any:
    """Book through `book_place`: a plain request takes the lean path; the same request with an
    idempotency key takes the full one."""
    who = await support.actor(world.db, email)
    key = None if lean else IdempotencyClaim.of(email, f"k-{session_id}", "book", {})
    with statements(world) as heard:
        outcome = await bookings.book_place(
            world.db, world.clock, who, BookingRequest(session_id), idempotency=key
        )
    assert any(LEAN_MARK in q for q in heard) == lean
    return outcome.booking


async def rows_of(world: support.World, booking_id: int) -> dict[str, Any]:
    """What a booking wrote, with its own ids and its learner's taken out."""
    async with world.db.reading() as s:
        b = await s.get_one(Booking, booking_id)
        history = (
            await s.scalars(select(BookingHistory).where(BookingHistory.booking_id == booking_id))
        ).all()
        emails = (
            await s.scalars(
                select(Outbox).where(Outbox.booking_id == booking_id).order_by(Outbox.id)
            )
        ).all()
    learner = b.learner_id

    def who(person_id: int | None) -> Any:
        return "learner" if person_id == learner else person_id

    return {
        "booking": {
            c: getattr(b, c)
            for c in (
                "state", "waitlist_seq", "cost_code", "special_requirements", "answers",
                "terms_version_accepted", "price_amount", "override_reason", "sequence",
                "offer_expires_at", "created_at", "updated_at",
            )
        },
        "history": [
            (h.at, who(h.actor_id), h.from_state, h.to_state, h.reason) for h in history
        ],
        "outbox": [
            (
                o.channel, o.topic, who(o.recipient_id), o.status, o.attempts,
                o.dedupe_key.replace(str(b.id), "B").replace(str(history[0].id), "H"),
                {k: v for k, v in o.payload.items() if k not in ("booking_id", "session_id")}
                if o.channel == "email" else o.payload["type"],
                (o.payload["booking_id"], o.payload["session_id"], o.session_id)
                == (b.id, b.session_id, b.session_id) if o.channel == "email" else None,
                o.created_at, o.available_at,
            )
            for o in emails
        ],
    }  # fmt: skip


def as_json(view: Any) -> Any:
    return msgspec.to_builtins(view)


async def test_the_lean_path_writes_and_answers_as_the_full_path_does(
    world: support.World,
) -> None:
    """Two sessions alike, with a trainer and one seat: the same booking and waiting place made
    through each path write the same rows (history, the learner's and the trainer's emails) and
    give the same answer, which equals a fresh read."""
    await support.make_learners(world, 2, prefix="lp")
    lean_session = await support.make_session(
        world, capacity=1, facilitators=["trainer@example.org"]
    )
    full_session = await support.make_session(
        world,
        capacity=1,
        facilitators=["trainer@example.org"],
        start=world.clock.now() + timedelta(days=15),
    )
    booked = [
        await book(world, "lee@example.org", lean_session, lean=True),
        await book(world, "kim@example.org", full_session, lean=False),
    ]
    waiting = [
        await book(world, "lp0000@example.org", lean_session, lean=True),
        await book(world, "lp0001@example.org", full_session, lean=False),
    ]
    for lean_one, full_one in (booked, waiting):
        assert lean_one.state == full_one.state
        assert await rows_of(world, lean_one.id) == await rows_of(world, full_one.id)
        fresh = await bookings.get_booking(world.db, world.clock, world.admin, lean_one.id)
        assert as_json(lean_one) == as_json(fresh)
    assert [b.state for b in booked] == ["booked", "booked"]
    assert [b.waitlist_position for b in waiting] == [1, 1]


async def test_a_refusal_on_the_lean_path_writes_nothing(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=5)
    await book(world, "lee@example.org", session_id, lean=True)
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(RefusedError) as refused:
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    assert [r.code for r in refused.value.reasons] == ["already_booked"]
    async with world.db.reading() as s:
        mine = (await s.scalars(select(Booking).where(Booking.session_id == session_id))).all()
    assert len(mine) == 1


async def test_a_course_with_an_approval_chain_is_declined_to_the_full_path(
    world: support.World,
) -> None:
    """The lean path reads the course, sees what it does not do (an approval to ask for) and
    rolls back; the full path makes the booking, waiting for the manager."""
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="GATED", title="Leading Teams", approval=["manager"]),
    )
    session_id = await support.make_session(world, capacity=5, course_id=course.id)
    lee = await support.actor(world.db, "lee@example.org")
    with statements(world) as heard:
        outcome = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    assert outcome.booking.state == "pending_approval"
    assert any(LEAN_MARK in q for q in heard)  # tried, and declined before writing
    assert not any(q.lstrip().startswith("UPDATE sessions") for q in heard if LEAN_MARK in q)


def test_the_drivers_errors_come_out_as_sqlalchemys() -> None:
    import asyncpg

    cut = asyncpg.exceptions.AdminShutdownError("terminating connection")
    mid_statement = asyncpg.exceptions.InternalClientError("another operation is in progress")
    locked = sqlite3.OperationalError("database is locked")
    for error in (cut, mid_statement, locked, ConnectionResetError()):
        assert is_unavailable(driver._translated(error)), error
    deadlock = driver._translated(asyncpg.exceptions.DeadlockDetectedError("deadlock"))
    assert is_retryable(deadlock) and not is_unavailable(deadlock)
    duplicate = driver._translated(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert type(duplicate).__name__ == "IntegrityError"
    ours = RefusedError([])
    assert driver._translated(ours) is ours


async def test_a_seat_gone_between_the_read_and_the_write_is_left_to_the_full_path(
    world: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lean path's conditional seat finds the session changed (here: never matches): it
    declines before writing anything — on SQLite from inside its thread — and the full path
    books the place, once."""
    from sqlalchemy import false, text

    from booking.bookings import lean_statements as sql
    from booking.models import Session as SessionRow

    monkeypatch.setattr(sql, "TAKE_SEAT", sql.TAKE_SEAT.where(false()))
    monkeypatch.setattr(
        sql,
        "SEAT_AND_ROWS",
        text(
            sql.SEAT_AND_ROWS.text.replace(
                "seats_held < capacity", "seats_held < capacity AND false"
            )
        ),
    )
    session_id = await support.make_session(world, capacity=5)
    with statements(world) as heard:
        booked = await book(world, "lee@example.org", session_id, lean=True)
    assert booked.state == "booked"
    tried = [q for q in heard if q.startswith(("UPDATE sessions", "WITH place"))]
    assert len(tried) == 2  # the lean path's seat, which missed, then the full path's
    async with world.db.reading() as s:
        rows = (await s.scalars(select(Booking).where(Booking.session_id == session_id))).all()
        history = (
            await s.scalars(select(BookingHistory).where(BookingHistory.booking_id == booked.id))
        ).all()
        held = (await s.get_one(SessionRow, session_id)).seats_held
    assert (len(rows), len(history), held) == (1, 1, 1)


async def test_bookings_the_learner_made_while_this_one_waited_are_checked_again(
    world: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads the learner's other bookings in the statement that takes their lock,
    in a snapshot that may be older than the lock; the write compares them again under it.
    Here the read misses the learner's place on this very session (as if it had been booked
    while this request waited for the lock): the write finds them changed, writes nothing, and
    the full path refuses the second place."""
    if world.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite holds the whole database from the read on")
    from booking.bookings import lean

    session_id = await support.make_session(world, capacity=5)
    first = await book(world, "lee@example.org", session_id, lean=True)
    assert first.state == "booked"
    real = lean._dates_and_bookings
    monkeypatch.setattr(lean, "_dates_and_bookings", lambda rows, sid: (real(rows, sid)[0], []))
    who = await support.actor(world.db, "lee@example.org")
    with pytest.raises(RefusedError):
        await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
    async with world.db.reading() as s:
        rows = (await s.scalars(select(Booking).where(Booking.session_id == session_id))).all()
    assert len(rows) == 1
