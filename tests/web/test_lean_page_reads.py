"""The catalogue search and the roster page read less than the API's full views; what they show
must be what those views would show."""

from __future__ import annotations

from datetime import timedelta

from booking import catalogue
from booking.bookings import BookingRequest, book_place
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.roster import roster_and_move_targets
from tests import support


async def test_catalogue_search_counts_the_upcoming_sessions_the_course_lists(
    world: support.World,
) -> None:
    t0 = world.clock.now()
    await support.make_session(world, start=t0 + timedelta(days=14))  # over by `later`
    await support.make_session(world, start=t0 + timedelta(days=30))
    await support.make_session(world, start=t0 + timedelta(days=20), status="draft")
    cancelled = await support.make_session(world, start=t0 + timedelta(days=25))
    await catalogue.cancel_session(world.db, world.clock, world.admin, cancelled, reason="Room")
    other = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="NONE-1", title="Safeguarding None")
    )
    later = FixedClock(t0 + timedelta(days=15))
    lee = await support.actor(world.db, "lee@example.org")

    for actor, expected in ((lee, 2), (world.admin, 3)):  # drafts only for administrators
        found = await catalogue.search_courses(world.db, later, actor, query="safeguarding")
        listed = await catalogue.list_courses(world.db, later, actor, query="safeguarding")
        counts = {c.id: c.upcoming_sessions for c in found.items}
        assert counts == {world.course_id: expected, other.id: 0}
        assert counts == {c.id: len(c.sessions) for c in listed.items}


async def test_roster_offers_the_open_and_full_upcoming_sessions_as_move_targets(
    world: support.World,
) -> None:
    t0 = world.clock.now()
    trainer = await support.actor(world.db, "trainer@example.org")
    roster_id = await support.make_session(
        world, start=t0 + timedelta(days=14), facilitators=["trainer@example.org"]
    )
    open_id = await support.make_session(world, start=t0 + timedelta(days=20))
    full_id = await support.make_session(world, start=t0 + timedelta(days=21), capacity=1)
    kim = await support.actor(world.db, "kim@example.org")
    await book_place(world.db, world.clock, kim, BookingRequest(full_id))
    await support.make_session(world, start=t0 + timedelta(days=22), status="draft")
    cancelled = await support.make_session(world, start=t0 + timedelta(days=23))
    await catalogue.cancel_session(world.db, world.clock, world.admin, cancelled, reason="Room")
    await support.make_session(
        world, start=t0 + timedelta(days=24), signup_closes=t0 + timedelta(days=1)
    )  # sign-up closed by `later`
    await support.make_session(world, start=t0 + timedelta(days=1, hours=12))  # started by then
    later = FixedClock(t0 + timedelta(days=2))

    for actor in (trainer, world.admin):
        roster, targets = await roster_and_move_targets(world.db, later, actor, roster_id)
        assert roster.session.id == roster_id
        assert [(t.id, t.booked, t.capacity) for t in targets] == [
            (open_id, 0, 10),
            (full_id, 1, 1),
        ]
        # The same sessions, dates and counts as the course's own view gives.
        course = await catalogue.get_course(
            world.db, later, actor, world.course_id, upcoming_only=True
        )
        expected = [
            (s.id, s.dates, s.booked, s.capacity)
            for s in course.sessions
            if s.id != roster_id and s.status in ("open", "full")
        ]
        assert [(t.id, t.dates, t.booked, t.capacity) for t in targets] == expected
