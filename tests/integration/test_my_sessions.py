"""My sessions: what a trainer runs, to come and past, and the attendance still to take."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking import bookings, catalogue, roster
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.kernel.errors import ForbiddenError
from tests import support

TRAINER = "trainer@example.org"


async def _book(world: support.World, session_id: int, email: str) -> int:
    who = await support.actor(world.db, email)
    outcome = await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
    return outcome.booking.id


async def _course(world: support.World) -> int:
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="RUN-1", title="Running Meetings", allow_multiple_bookings=True),
    )
    return course.id


def _ids(items: list[roster.TrainerSession]) -> list[int]:
    return [t.session.id for t in items]


async def test_a_trainer_sees_their_sessions_to_come_past_and_to_mark(
    world: support.World,
) -> None:
    course_id = await _course(world)
    t0 = world.clock.now()

    async def session(days: float, *learners: str, run: bool = True) -> int:
        session_id = await support.make_session(
            world,
            course_id=course_id,
            start=t0 + timedelta(days=days),
            facilitators=[TRAINER] if run else [],
        )
        for email in learners:
            await _book(world, session_id, email)
        return session_id

    locked = await session(2, "lee@example.org")  # ended more than 7 days before "now"
    unmarked = await session(8, "lee@example.org")
    marked = await session(7, "kim@example.org")
    running = await session(10 - 1 / 24, "kim@example.org")  # started an hour ago
    later = await session(20)
    empty_past = await session(6)
    await session(9, "lee@example.org", run=False)  # someone else's

    now = FixedClock(t0 + timedelta(days=10))
    trainer = await support.actor(world.db, TRAINER)
    marked_booking = (await roster.read_roster(world.db, now, trainer, marked)).booked[0]
    await roster.mark_attendance(
        world.db, now, trainer, marked, [roster.Mark(marked_booking.booking_id, "attended")]
    )

    mine = await roster.my_sessions(world.db, now, trainer)

    assert _ids(mine.upcoming) == [running, later]
    assert _ids(mine.past) == [unmarked, marked, empty_past, locked]
    assert _ids(mine.to_take) == [running, unmarked]
    by_id = {t.session.id: t for t in [*mine.upcoming, *mine.past]}
    assert (by_id[unmarked].unmarked, by_id[unmarked].can_mark) == (1, True)
    assert by_id[marked].unmarked == 0 and by_id[marked].started
    # Past the attendance lock a trainer can no longer mark: listed, but not as one to take.
    assert (by_id[locked].unmarked, by_id[locked].can_mark) == (1, False)
    assert not by_id[later].started and by_id[later].unmarked == 0
    assert by_id[unmarked].session.seats_held == 1 and by_id[unmarked].session.capacity == 10
    assert not mine.more_past and not mine.more_upcoming


async def test_administrators_see_the_sessions_they_run_and_may_mark_them_any_time(
    world: support.World,
) -> None:
    course_id = await _course(world)
    old = await support.make_session(
        world,
        course_id=course_id,
        start=world.clock.now() + timedelta(days=2),
        facilitators=["admin@example.org"],
    )
    await _book(world, old, "lee@example.org")
    await support.make_session(world, course_id=course_id, facilitators=[TRAINER])
    admin = await support.actor(world.db, "admin@example.org")
    now = FixedClock(world.clock.now() + timedelta(days=60))

    mine = await roster.my_sessions(world.db, now, admin)

    assert _ids(mine.past) == [old] and mine.upcoming == []
    assert _ids(mine.to_take) == [old]


async def test_cancelled_and_unstarted_sessions_have_no_attendance_to_take(
    world: support.World,
) -> None:
    course_id = await _course(world)
    cancelled = await support.make_session(
        world,
        course_id=course_id,
        start=world.clock.now() + timedelta(days=2),
        facilitators=[TRAINER],
    )
    await _book(world, cancelled, "lee@example.org")
    await catalogue.cancel_session(world.db, world.clock, world.admin, cancelled, reason="Ill")
    soon = await support.make_session(
        world,
        course_id=course_id,
        start=world.clock.now() + timedelta(days=5),
        facilitators=[TRAINER],
    )
    await _book(world, soon, "kim@example.org")
    trainer = await support.actor(world.db, TRAINER)

    mine = await roster.my_sessions(
        world.db, FixedClock(world.clock.now() + timedelta(days=3)), trainer
    )

    assert mine.to_take == []
    assert _ids(mine.past) == [cancelled] and mine.past[0].unmarked == 0
    assert _ids(mine.upcoming) == [soon] and not mine.upcoming[0].started


async def test_past_sessions_come_a_page_at_a_time(world: support.World) -> None:
    course_id = await _course(world)
    made = [
        await support.make_session(
            world,
            course_id=course_id,
            start=world.clock.now() + timedelta(days=2, hours=4 * i),
            facilitators=[TRAINER],
        )
        for i in range(roster.PAST_PAGE_SIZE + 3)
    ]
    trainer = await support.actor(world.db, TRAINER)
    now = FixedClock(world.clock.now() + timedelta(days=30))

    first = await roster.my_sessions(world.db, now, trainer)
    second = await roster.my_sessions(world.db, now, trainer, past_page=2)
    beyond = await roster.my_sessions(world.db, now, trainer, past_page=10**9)

    assert _ids(first.past) == made[::-1][: roster.PAST_PAGE_SIZE] and first.more_past
    assert _ids(second.past) == made[::-1][roster.PAST_PAGE_SIZE :] and not second.more_past
    assert beyond.past == [] and beyond.past_page == roster.LAST_PAGE


async def test_only_people_have_sessions_of_their_own(world: support.World) -> None:
    service = await support.actor_for_service(world.db)
    with pytest.raises(ForbiddenError):
        await roster.my_sessions(world.db, world.clock, service)
    lee = await support.actor(world.db, "lee@example.org")
    mine = await roster.my_sessions(world.db, world.clock, lee)
    assert (mine.to_take, mine.upcoming, mine.past) == ([], [], [])
