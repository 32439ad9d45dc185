"""The lean cancellation (bookings/lean_cancel.py) against the full one, on both databases: the
same rows for the cancelled booking and the learner promoted in its place (a blocked learner
passed over), the same answer; declined (to the full path) where it does not apply."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import false, select

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.bookings import lean_statements as sql
from booking.bookings.idempotency import IdempotencyClaim
from booking.catalogue import CourseInput
from booking.models import Booking, BookingHistory, Outbox
from booking.models import Session as SessionRow
from tests import support
from tests.integration.test_lean_booking import as_json, statements

LEAN_MARK = "AS b_id"  # a label only the lean cancellation's read carries


async def cancel(world: support.World, email: str, booking_id: int, *, lean: bool) -> Any:
    """Cancel through `cancel_booking`: a plain request takes the lean path; the same request
    with an idempotency key takes the full one."""
    who = await support.actor(world.db, email)
    key = None if lean else IdempotencyClaim.of(email, f"c-{booking_id}", "cancel", {})
    with statements(world) as heard:
        outcome = await bookings.cancel_booking(
            world.db, world.clock, who, booking_id, reason="Ill", idempotency=key
        )
    assert any(LEAN_MARK in q for q in heard) == lean
    return outcome


async def book(world: support.World, email: str, session_id: int) -> int:
    who = await support.actor(world.db, email)
    outcome = await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
    return outcome.booking.id


async def rows_of(world: support.World, booking_id: int) -> dict[str, Any]:
    """What a booking holds and wrote, with its own ids (and its history's) taken out."""
    async with world.db.reading() as s:
        b = await s.get_one(Booking, booking_id)
        history = (
            await s.scalars(
                select(BookingHistory)
                .where(BookingHistory.booking_id == booking_id)
                .order_by(BookingHistory.id)
            )
        ).all()
        emails = (
            await s.scalars(
                select(Outbox).where(Outbox.booking_id == booking_id).order_by(Outbox.id)
            )
        ).all()
    names = {str(b.id): "B"} | {str(h.id): f"H{n}" for n, h in enumerate(history)}

    def plain(o: Outbox) -> str:
        """The dedupe key with the booking's and its history's ids named: `topic:booking:history`
        for the learner's email, `topic:history:person` for a trainer's (the same trainer)."""
        topic, first, second = o.dedupe_key.split(":")
        if o.recipient_id == b.learner_id:
            return f"{topic}:{names[first]}:{names[second]}"
        return f"{topic}:{names[first]}:{second}"

    return {
        "booking": {
            c: getattr(b, c)
            for c in (
                "state", "waitlist_seq", "cost_code", "cancel_reason", "cancel_details",
                "price_amount", "sequence", "offer_expires_at", "updated_at",
            )
        },
        "history": [
            (h.at, "learner" if h.actor_id == b.learner_id else (h.actor_id, h.actor),
             h.from_state, h.to_state, h.reason)
            for h in history
        ],
        "outbox": [
            (
                o.channel, o.topic, o.recipient_id == b.learner_id, plain(o),
                {k: v for k, v in o.payload.items() if k not in ("booking_id", "session_id")},
                (o.payload["booking_id"], o.payload["session_id"]) == (b.id, b.session_id),
                o.created_at,
            )
            for o in emails
        ],
    }  # fmt: skip


@pytest.mark.parametrize("mode", ["auto", "offer"])
async def test_the_lean_cancellation_writes_and_answers_as_the_full_one_does(
    world: support.World, mode: str
) -> None:
    """Two sessions alike (one seat, a trainer, two waiting): the first in line has since
    booked a session at the same time, so the second is promoted (booked, or offered). Cancelled
    through each path, the same rows for all three bookings, and an answer equal to a fresh read."""
    other_course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="CLASH", title="Clashing")
    )
    people = await support.make_learners(world, 6, prefix="lc")
    pairs = []
    for n, day in enumerate((14, 21)):
        start = world.clock.now() + timedelta(days=day)
        session_id = await support.make_session(
            world, capacity=1, start=start, waitlist_mode=mode, facilitators=["trainer@example.org"]
        )
        clash = await support.make_session(
            world, capacity=5, start=start, course_id=other_course.id
        )
        first, blocked, next_in_line = people[3 * n : 3 * n + 3]
        held = await book(world, first, session_id)
        passed_over = await book(world, blocked, session_id)
        promoted = await book(world, next_in_line, session_id)
        await book(world, blocked, clash)
        pairs.append((first, session_id, held, passed_over, promoted))
    for (first, _, held, _, _), lean in zip(pairs, (True, False), strict=True):
        outcome = await cancel(world, first, held, lean=lean)
        assert outcome.promoted == [pairs[0 if lean else 1][4]]
        fresh = await bookings.get_booking(world.db, world.clock, world.admin, held)
        assert as_json(outcome.booking) == as_json(fresh)
        assert (outcome.booking.state, outcome.booking.fee) == ("cancelled", fresh.fee)
    (_, lean_session, *lean_rows), (_, full_session, *full_rows) = pairs
    for lean_one, full_one in zip(lean_rows, full_rows, strict=True):
        assert await rows_of(world, lean_one) == await rows_of(world, full_one)
    promoted = await rows_of(world, lean_rows[2])
    assert promoted["booking"]["state"] == ("booked" if mode == "auto" else "offered")
    assert (await rows_of(world, lean_rows[1]))["booking"]["state"] == "waitlisted"
    async with world.db.reading() as s:
        held_seats = [
            (await s.get_one(SessionRow, i)).seats_held for i in (lean_session, full_session)
        ]
    assert held_seats == [1, 1]


async def test_someone_elses_booking_is_declined_to_the_full_path(world: support.World) -> None:
    """An administrator cancelling a learner's place: the lean path reads it, sees it is not the
    learner's own (the full path audits it) and rolls back; the full path cancels it."""
    session_id = await support.make_session(world, capacity=5)
    held = await book(world, "lee@example.org", session_id)
    with statements(world) as heard:
        outcome = await bookings.cancel_booking(
            world.db, world.clock, world.admin, held, reason="Duplicate"
        )
    assert outcome.booking.state == "cancelled"
    lean = [q for q in heard if LEAN_MARK in q]
    assert len(lean) == 1  # tried, declined before writing
    after = [q for q in heard[heard.index(lean[0]) + 1 :] if not q.startswith("BEGIN")]
    assert after[0].startswith("SELECT")  # nothing written: the full path starts over


async def test_a_booking_changed_between_the_read_and_the_write_is_left_to_the_full_path(
    world: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lean path's conditional UPDATE finds the booking changed (here: never matches): it
    declines, the transaction rolls back, and the full path cancels and promotes, once."""
    monkeypatch.setattr(sql, "CANCEL_BOOKING", sql.CANCEL_BOOKING.where(false()))
    session_id = await support.make_session(world, capacity=1)
    held = await book(world, "lee@example.org", session_id)
    waiting = await book(world, "kim@example.org", session_id)
    lee = await support.actor(world.db, "lee@example.org")
    outcome = await bookings.cancel_booking(world.db, world.clock, lee, held, reason="Ill")
    assert (outcome.booking.state, outcome.promoted) == ("cancelled", [waiting])
    async with world.db.reading() as s:
        history = (
            await s.scalars(select(BookingHistory).where(BookingHistory.booking_id == held))
        ).all()
        seats = (await s.get_one(SessionRow, session_id)).seats_held
    assert ([h.to_state for h in history], seats) == (["booked", "cancelled"], 1)
