"""Waitlist behaviour on both databases: FIFO promotion, offers, expiry, skipping, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking import bookings, catalogue, jobs
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, SessionChanges
from booking.kernel.errors import ConflictError, InvalidError, RefusedError
from booking.models import Outbox
from tests import support


async def place(world: support.World, email: str, session_id: int):
    who = await support.actor(world.db, email)
    return who, (
        await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
    ).booking


async def test_cancel_promotes_first_in_line_in_the_same_call(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=1)
    await support.make_learners(world, 3, prefix="w")
    lee, held = await place(world, "lee@example.org", session_id)
    _, first = await place(world, "w0000@example.org", session_id)
    _, second = await place(world, "w0001@example.org", session_id)
    assert (first.waitlist_position, second.waitlist_position) == (1, 2)

    outcome = await bookings.cancel_booking(world.db, world.clock, lee, held.id, reason="Illness")
    assert outcome.promoted == [first.id]
    after = await bookings.get_booking(world.db, world.clock, world.admin, second.id)
    assert after.waitlist_position == 1
    promoted = await bookings.get_booking(world.db, world.clock, world.admin, first.id)
    assert promoted.state == "booked"
    async with world.db.reading() as s:
        topics = (await s.scalars(select(Outbox.topic).where(Outbox.booking_id == first.id))).all()
    assert list(topics) == ["booking.waitlisted", "booking.promoted"]


async def test_promotion_skips_learner_who_since_booked_a_clash(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=1)
    other_course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="FIRE", title="Fire Marshal")
    )
    # Same time as the first session, another course.
    clashing = await support.make_session(world, capacity=5, course_id=other_course.id)
    lee, held = await place(world, "lee@example.org", session_id)
    kim, kim_wait = await place(world, "kim@example.org", session_id)
    _, mo_wait = await place(world, "manager@example.org", session_id)
    # Waiting places do not block the calendar, so Kim may book the clashing session...
    _, kim_fire = await place(world, "kim@example.org", clashing)
    assert kim_fire.state == "booked"
    # ...and so, when the seat frees, she is skipped (and stays in line) for the next learner.
    outcome = await bookings.cancel_booking(world.db, world.clock, lee, held.id, reason="Illness")
    assert outcome.promoted == [mo_wait.id]
    still = await bookings.get_booking(world.db, world.clock, kim, kim_wait.id)
    assert (still.state, still.waitlist_position) == ("waitlisted", 1)


async def test_waitlisted_place_counts_as_the_one_place_on_a_course(world: support.World) -> None:
    first = await support.make_session(world, capacity=0)
    later = await support.make_session(
        world, capacity=5, start=world.clock.now() + timedelta(days=30)
    )
    kim, waiting = await place(world, "kim@example.org", first)
    with pytest.raises(RefusedError) as refused:
        await bookings.book_place(world.db, world.clock, kim, BookingRequest(later))
    reason = refused.value.reasons[0]
    assert reason.code == "already_on_course"
    assert reason.extra["booking_id"] == waiting.id
    assert refused.value.status == 409


async def test_offer_mode_accept_decline_and_expiry(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=1, waitlist_mode="offer", offer_hours=6)
    await support.make_learners(world, 3, prefix="o")
    lee, held = await place(world, "lee@example.org", session_id)
    a, a_wait = await place(world, "o0000@example.org", session_id)
    b, b_wait = await place(world, "o0001@example.org", session_id)
    c, c_wait = await place(world, "o0002@example.org", session_id)

    await bookings.cancel_booking(world.db, world.clock, lee, held.id, reason="Illness")
    offered = await bookings.get_booking(world.db, world.clock, a, a_wait.id)
    assert offered.state == "offered"
    assert offered.offer_expires_at == world.clock.now() + timedelta(hours=6)
    session = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert (session.offered, session.seats_held, session.status) == (1, 1, "full")

    # A declines: the offer passes to B.
    declined = await bookings.decline_offer(world.db, world.clock, a, a_wait.id)
    assert declined.state == "cancelled"
    assert (await bookings.get_booking(world.db, world.clock, b, b_wait.id)).state == "offered"

    # B lets it expire: the sweep passes it to C, who accepts.
    world.clock.advance(timedelta(hours=6, minutes=1))
    report = await jobs.tick(world.db, world.clock)
    assert report.offers_expired == 1
    assert (await bookings.get_booking(world.db, world.clock, b, b_wait.id)).state == "cancelled"
    with pytest.raises(ConflictError):
        await bookings.accept_offer(world.db, world.clock, b, b_wait.id)
    accepted = await bookings.accept_offer(world.db, world.clock, c, c_wait.id)
    assert accepted.state == "booked"
    # A second tick finds nothing more to do.
    assert (await jobs.tick(world.db, world.clock)).offers_expired == 0


async def test_waitlist_closes_at_start(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=0)
    _, waiting = await place(world, "lee@example.org", session_id)
    world.clock.advance(timedelta(days=15))
    report = await jobs.tick(world.db, world.clock)
    assert report.waitlists_closed == 1
    closed = await bookings.get_booking(world.db, world.clock, world.admin, waiting.id)
    assert closed.state == "cancelled"
    assert "waiting list is closed" in (closed.cancel_reason or "")


async def test_dates_patch_keeps_ids_and_notifies(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=2)
    lee, held = await place(world, "lee@example.org", session_id)
    session = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    date = session.dates[0]
    moved = await catalogue.update_session(
        world.db,
        world.clock,
        world.admin,
        session_id,
        SessionChanges(
            dates=[
                catalogue.DateInput(
                    date.start + timedelta(hours=1),
                    date.end + timedelta(hours=1),
                    date.timezone,
                    id=date.id,
                )
            ]
        ),
    )
    assert moved.dates[0].id == date.id
    assert moved.dates[0].start == date.start + timedelta(hours=1)
    async with world.db.reading() as s:
        changed = (await s.scalars(select(Outbox).where(Outbox.topic == "session.changed"))).all()
    assert [o.booking_id for o in changed] == [held.id]
    assert changed[0].payload["sequence"] == 1


async def test_allow_multiple_bookings_course(world: support.World) -> None:
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="DROPIN", title="Drop-in clinic", allow_multiple_bookings=True),
    )
    one = await support.make_session(world, course_id=course.id)
    two = await support.make_session(
        world, course_id=course.id, start=world.clock.now() + timedelta(days=20)
    )
    _, first = await place(world, "lee@example.org", one)
    _, second = await place(world, "lee@example.org", two)
    assert first.state == second.state == "booked"


async def test_learner_moves_their_place_to_another_date(world: support.World) -> None:
    full = await support.make_session(world, capacity=1)
    later = await support.make_session(
        world, capacity=5, start=world.clock.now() + timedelta(days=30)
    )
    lee, held = await place(world, "lee@example.org", full)
    kim, kim_wait = await place(world, "kim@example.org", full)
    # Kim is refused the other date while waiting here, and told which booking to move.
    with pytest.raises(RefusedError) as refused:
        await bookings.book_place(world.db, world.clock, kim, BookingRequest(later))
    assert refused.value.reasons[0].extra["booking_id"] == kim_wait.id
    moved = await bookings.book_place(
        world.db, world.clock, kim, BookingRequest(later, move_from=kim_wait.id)
    )
    assert moved.booking.state == "booked"
    old = await bookings.get_booking(world.db, world.clock, kim, kim_wait.id)
    assert (old.state, old.cancel_reason) == ("cancelled", f"Moved to session {later}")
    # Lee moves too: the seat he leaves goes to whoever is next in line (nobody now).
    moved_lee = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(later, move_from=held.id)
    )
    assert moved_lee.booking.state == "booked"
    session = await catalogue.get_session(world.db, world.clock, world.admin, full)
    assert (session.seats_held, session.waitlisted) == (0, 0)
    # Somebody else's booking cannot be "moved" by you.
    mo = await support.actor(world.db, "manager@example.org")
    _, mo_booking = await place(world, "manager@example.org", full)
    with pytest.raises(InvalidError):
        await bookings.book_place(
            world.db, world.clock, kim, BookingRequest(full, move_from=mo_booking.id)
        )
    assert mo is not None
