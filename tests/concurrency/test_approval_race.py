"""An approval racing a direct sign-up for the last seat never overbooks (PostgreSQL)."""

from __future__ import annotations

import asyncio
import functools

import pytest
from sqlalchemy import event

from booking import approvals, bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.db import Database
from tests import support

pytestmark = pytest.mark.postgres

ROUNDS = 15


async def test_approval_and_direct_booking_race_for_the_last_seat(
    pg_only_url: str, clock: FixedClock
) -> None:
    db = Database(support.settings_for(pg_only_url, db_pool_size=10))
    try:
        world = await support.make_world(db, clock)
        gated = await catalogue.create_course(
            db, clock, world.admin, CourseInput(code="GATED", title="Gated", approval=["manager"])
        )
        manager = await support.actor(db, "manager@example.org")
        emails = await support.make_learners(world, ROUNDS, prefix="direct")
        # Each learner in the race is one of Mo's reports.
        lee = await support.actor(db, "lee@example.org")
        outcomes = []
        for n in range(ROUNDS):
            # A session of the gated course with one seat; Lee waits for approval on it...
            gated_session = await support.make_session(
                world, capacity=1, course_id=gated.id, start=clock.now() + support.days(10 + n)
            )
            pending = await bookings.book_place(db, clock, lee, BookingRequest(gated_session))
            request = (await approvals.list_waiting(db, clock, manager))[0]
            assert request.booking_id == pending.booking.id
            # ...while an administrator books another learner onto the same seat directly (an
            # administrator's booking on someone's behalf needs no further approval).
            approve = functools.partial(
                approvals.decide, db, clock, manager, request.id, decision="approve"
            )
            direct = functools.partial(
                bookings.book_place,
                db,
                clock,
                world.admin,
                BookingRequest(gated_session, learner_email=emails[n]),
            )
            # Which one starts first alternates; the other starts the moment the first's seat
            # UPDATE has run, so it reads the session while the first holds the seat
            # uncommitted (the committed row still shows it free), and must not take it too.
            first, second = (approve, direct) if n % 2 == 0 else (direct, approve)
            seat_taken = asyncio.Event()

            def on_execute(*args: object, sent: asyncio.Event = seat_taken) -> None:
                if str(args[2]).startswith("UPDATE sessions SET seats_held"):
                    sent.set()

            event.listen(db.engine.sync_engine, "after_cursor_execute", on_execute)
            try:
                first_task = asyncio.create_task(first())
                await seat_taken.wait()
                event.remove(db.engine.sync_engine, "after_cursor_execute", on_execute)
                second_outcome = await second()
                first_outcome = await first_task
            finally:
                if event.contains(db.engine.sync_engine, "after_cursor_execute", on_execute):
                    event.remove(db.engine.sync_engine, "after_cursor_execute", on_execute)
            approved, booked = (
                (first_outcome, second_outcome) if n % 2 == 0 else (second_outcome, first_outcome)
            )
            states = sorted([approved.booking.state, booked.booking.state])
            assert states == ["booked", "waitlisted"], states
            # The one whose UPDATE ran first holds the seat.
            assert first_outcome.booking.state == "booked", (n, first_outcome.booking.state)
            session = await catalogue.get_session(db, clock, world.admin, gated_session)
            assert (session.seats_held, session.booked, session.waitlisted) == (1, 1, 1)
            outcomes.append(approved.booking.state)
            # Lee leaves so the next round starts clean.
            await bookings.cancel_booking(db, clock, lee, pending.booking.id, reason="Next round")
        # Both orders happened.
        assert set(outcomes) == {"booked", "waitlisted"}, outcomes
    finally:
        await db.dispose()
