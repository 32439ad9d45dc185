"""Fixtures for the learner records tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.models import RecordSweepMark
from tests import support
from tests.records.lrs import Lrs, LrsUnavailable, running_lrs


@pytest.fixture
async def rworld(world: support.World) -> support.World:
    """The usual small organisation; the worker's sweep marks start from the beginning (the
    PostgreSQL tests truncate the tables they use, not this one)."""
    async with world.db.transaction() as s:
        await s.execute(delete(RecordSweepMark))
    return world


async def book(world: support.World, session_id: int, *emails: str) -> list[int]:
    ids = []
    for email in emails:
        who = await support.actor(world.db, email)
        outcome = await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
        ids.append(outcome.booking.id)
    return ids


async def course(world: support.World, code: str, title: str, **kw: object) -> int:
    view = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code=code, title=title, **kw),  # type: ignore[arg-type]
    )
    return view.id


async def attended_session(
    world: support.World, course_id: int, *emails: str, start: datetime | None = None
) -> tuple[int, list[int]]:
    """A session of the course run (from `start`, default now + 3 days), with the learners
    booked and marked attended by the trainer; the clock ends after the session."""
    start = start or world.clock.now() + timedelta(days=3)
    session_id = await support.make_session(
        world, course_id=course_id, start=start, facilitators=["trainer@example.org"]
    )
    ids = await book(world, session_id, *emails)
    world.clock.set(start + timedelta(hours=4))
    from booking import roster

    trainer = await support.actor(world.db, "trainer@example.org")
    await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(i, "attended") for i in ids]
    )
    return session_id, ids


@pytest.fixture(scope="session")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lrs]:
    """ralph-malph on loopback for the whole session, started a second time if the first did
    not come up (under the loaded suite it once missed its start). If it still cannot be
    installed or started, the tests are skipped with the reason — except in CI, which fails
    instead, as for PostgreSQL: a skip there would hide the record store's tests
    (`BOOKING_REQUIRE_LRS=0` allows it)."""
    reasons = []
    for _ in range(2):
        try:
            with running_lrs(tmp_path_factory.mktemp("lrs")) as running:
                yield running
            return
        except LrsUnavailable as exc:
            reasons.append(str(exc))
    reason = "no learning record store: " + "; then: ".join(reasons)
    if os.environ.get("CI") and os.environ.get("BOOKING_REQUIRE_LRS", "1") == "1":
        pytest.fail(f"CI must run the learning record store's tests: {reason}")
    pytest.skip(reason)
