"""Courses for some organisation units: a learner belongs to their unit and every unit above it,
read in one recursive query, when booking and in the course page's preview. Both backends."""

from __future__ import annotations

import pytest

from booking import bookings, catalogue, eligibility, people
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.kernel.errors import RefusedError
from tests import support


async def test_a_learner_deep_in_the_chart_is_in_every_unit_above_them(
    world: support.World,
) -> None:
    await people.upsert_org_units(
        world.db,
        world.clock,
        world.admin,
        [
            people.OrgUnitInput("EAST", "Adult Services East", "ADULT"),
            people.OrgUnitInput("EAST-1", "East Team 1", "EAST"),
        ],
    )
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput("deep@example.org", "Dee Deep", None, None, "EAST-1", "Officer")],
    )
    deep = await support.actor(world.db, "deep@example.org")

    async def course_for(code: str, units: list[str], day: int) -> tuple[int, int]:
        course = await catalogue.create_course(
            world.db,
            world.clock,
            world.admin,
            CourseInput(code=code, title=f"For {code}", audience={"org_units": units}),
        )
        start = world.clock.now() + support.days(day)
        return course.id, await support.make_session(world, course_id=course.id, start=start)

    for day, (code, units) in enumerate(
        (("ALL", ["ORG"]), ("ADULTS", ["ADULT"]), ("TEAM", ["EAST-1"])), start=10
    ):
        course_id, session_id = await course_for(code, units, day)
        assert await eligibility.preview(world.db, world.clock, deep, course_id) == []
        booked = await bookings.book_place(world.db, world.clock, deep, BookingRequest(session_id))
        assert booked.booking.state == "booked"
        assert booked.booking.learner.org_unit == "EAST-1"

    course_id, session_id = await course_for("KIDS", ["CHILD"], 20)
    reasons = await eligibility.preview(world.db, world.clock, deep, course_id)
    assert [r.code for r in reasons] == ["audience_org_unit"]
    with pytest.raises(RefusedError) as refused:
        await bookings.book_place(world.db, world.clock, deep, BookingRequest(session_id))
    assert [r.code for r in refused.value.reasons] == ["audience_org_unit"]
