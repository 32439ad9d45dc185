"""Requirements (issue 18), with a fixed clock: the set-based sweep opens and closes rows, the due
rule (start date against the day it applied), which completions meet a requirement, the
reminder schedule and the escalation, renewal re-assignment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from booking import jobs, people, records
from booking.config import Settings
from booking.domain import requirements as req_rules
from booking.models import Outbox, Person, Requirement
from tests import support
from tests.records.conftest import course

DAY = timedelta(days=1)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return support.settings_for(db_url)


async def make_mandatory(
    world: support.World, course_id: int, *, due: int | None = 30, **extra: object
) -> None:
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        course_id,
        completion_mode=None,
        criteria=[],
        mandatory=True,
        due_within_days=due,
    )
    if extra:
        async with world.db.transaction() as s:
            from booking.models import CourseRecordRule

            await s.execute(
                update(CourseRecordRule)
                .where(CourseRecordRule.course_id == course_id)
                .values(**extra)
            )


async def open_rows(world: support.World, email: str) -> list[Requirement]:
    async with world.db.reading() as s:
        return list(
            await s.scalars(
                select(Requirement)
                .join(Person, Person.id == Requirement.person_id)
                .where(Person.email == email, Requirement.closed_at.is_(None))
                .order_by(Requirement.id)
            )
        )


async def emails(world: support.World, topic_prefix: str = "requirement.") -> list[tuple[str, str]]:
    """(topic, recipient email) of each queued requirement email, oldest first."""
    async with world.db.reading() as s:
        rows = await s.execute(
            select(Outbox.topic, Person.email)
            .join(Person, Person.id == Outbox.recipient_id)
            .where(Outbox.topic.startswith(topic_prefix))
            .order_by(Outbox.id)
        )
        return [(t, e) for t, e in rows.all()]


async def tick(world: support.World, settings: Settings) -> None:
    await jobs.tick(world.db, world.clock, settings)


# --- the due rule (pure) ---------------------------------------------------------------------


def test_due_rule_takes_the_later_of_start_and_applied() -> None:
    applied = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    created = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    # Started long ago: due from the day it applied.
    start = req_rules.start_moment(date(2026, 6, 1), created)
    assert req_rules.due_at(start, applied, 30) == applied + 30 * DAY
    # Starts later: due from the start date (midnight UTC).
    start = req_rules.start_moment(date(2027, 4, 1), created)
    assert req_rules.due_at(start, applied, 30) == datetime(2027, 5, 1, tzinfo=UTC)
    # No start date: the day the person was created.
    assert req_rules.start_moment(None, created) == created
    assert req_rules.due_at(created, applied, None) is None


def test_reminder_days_are_numbered_from_the_day_it_applied() -> None:
    applied = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    days = req_rules.DEFAULT_REMINDER_DAYS
    assert req_rules.latest_reminder_day(applied, days, applied) == 1
    assert req_rules.latest_reminder_day(applied, days, applied + 6 * DAY - timedelta(1)) == 1
    assert req_rules.latest_reminder_day(applied, days, applied + 6 * DAY) == 7
    # A worker down from day 5 to day 16 sends only day 14's.
    assert req_rules.latest_reminder_day(applied, days, applied + 15 * DAY) == 14
    assert not req_rules.escalation_due(applied, 28, applied + 26 * DAY)
    assert req_rules.escalation_due(applied, 28, applied + 27 * DAY)
    assert not req_rules.escalation_due(applied, None, applied + 999 * DAY)


# --- the sweep ---------------------------------------------------------------------------------


async def test_the_sweep_opens_a_row_for_each_audience_member_and_closes_leavers(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    code = await course(world, "GDPR", "Data protection", audience={"org_units": ["ADULT"]})
    await make_mandatory(world, code)
    await records.sweep_requirements(world.db, world.clock)
    (row,) = await open_rows(world, "lee@example.org")
    assert (row.via, row.applied_at, row.due_at) == (
        "course",
        world.clock.now(),
        world.clock.now() + 30 * DAY,
    )
    assert await open_rows(world, "kim@example.org") == []  # CHILD: not in the audience
    # Twice: nothing new.
    assert await records.sweep_requirements(world.db, world.clock) == 0

    # Kim joins ADULT ten days later: the requirement applies that day, due 30 days on.
    world.clock.advance(10 * DAY)
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput("kim@example.org", "Kim Learner", "P004", None, "ADULT", "SW")],
    )
    await records.sweep_requirements(world.db, world.clock)
    (kim,) = await open_rows(world, "kim@example.org")
    assert kim.applied_at == world.clock.now()
    assert kim.due_at == world.clock.now() + 30 * DAY

    # Lee moves to CHILD: Lee's row closes.
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput("lee@example.org", "Lee Learner", "P003", None, "CHILD", "SW")],
    )
    await records.sweep_requirements(world.db, world.clock)
    assert await open_rows(world, "lee@example.org") == []

    # The course is no longer mandatory: every row closes.
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        code,
        completion_mode=None,
        criteria=[],
        mandatory=False,
        due_within_days=None,
    )
    await records.sweep_requirements(world.db, world.clock)
    assert await open_rows(world, "kim@example.org") == []


async def test_a_later_start_date_sets_the_due_date(rworld: support.World) -> None:
    world = rworld
    code = await course(world, "GDPR", "Data protection")
    starts = (world.clock.now() + 20 * DAY).date()
    async with world.db.transaction() as s:
        await s.execute(
            update(Person).where(Person.email == "lee@example.org").values(start_date=starts)
        )
    await make_mandatory(world, code)
    await records.sweep_requirements(world.db, world.clock)
    (lee,) = await open_rows(world, "lee@example.org")
    assert lee.due_at == datetime.combine(starts, datetime.min.time(), UTC) + 30 * DAY
    (kim,) = await open_rows(world, "kim@example.org")
    assert kim.due_at == world.clock.now() + 30 * DAY
