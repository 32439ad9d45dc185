"""An approval racing a direct sign-up for the last seat never overbooks (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from booking.clock import FixedClock
from booking.db import Database
from booking.services import approvals, bookings, catalogue
from booking.services.bookings import BookingRequest
from booking.services.catalogue import CourseInput
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
            approval_task = approvals.decide(db, clock, manager, request.id, decision="approve")
            direct_task = bookings.book_place(
                db, clock, world.admin, BookingRequest(gated_session, learner_email=emails[n])
            )
            approved, booked = await asyncio.gather(approval_task, direct_task)
            states = sorted([approved.booking.state, booked.booking.state])
            assert states == ["booked", "waitlisted"], states
            session = await catalogue.get_session(db, clock, world.admin, gated_session)
            assert (session.seats_held, session.booked, session.waitlisted) == (1, 1, 1)
            outcomes.append(approved.booking.state)
            # Lee leaves so the next round starts clean.
            await bookings.cancel_booking(db, clock, lee, pending.booking.id, reason="Next round")
        # Both orders happened at least once, or the race was never really run.
        assert set(outcomes) == {"booked", "waitlisted"}, outcomes
    finally:
        await db.dispose()
