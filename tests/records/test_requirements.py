"""Requirements (issue 18), with a fixed clock: the set-based sweep opens and closes rows, the due
rule (start date against the day it applied), which completions meet a requirement, the
reminder schedule and the escalation, renewal re-assignment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from booking import jobs, people, records
from booking.config import Settings
from booking.domain import requirements as req_rules
from booking.models import Outbox, Person, Requirement
from tests import support
from tests.records.conftest import course

DAY = timedelta(days=1)
# Lee Learner alone (Mo Manager is in ADULT too, as a team manager).
LEE_ONLY = {"org_units": ["ADULT"], "job_roles": ["Social Worker"]}


@pytest.fixture
def settings(db_url: str) -> Settings:
    return support.settings_for(db_url)


async def make_mandatory(
    world: support.World, course_id: int, *, due: int | None = 30, **extra: Any
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
        **extra,
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


# --- reminders and escalation ------------------------------------------------------------------


async def test_reminders_on_days_1_7_14_21_then_the_manager_once_on_day_28(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    code = await course(world, "GDPR", "Data protection", audience={"org_units": ["ADULT"]})
    await make_mandatory(world, code)
    start = world.clock.now()
    sent: dict[int, list[tuple[str, str]]] = {}
    for day in range(1, 36):
        world.clock.set(start + (day - 1) * DAY)
        before = len(await emails(world))
        await tick(world, settings)
        await tick(world, settings)  # twice in a row: nothing twice
        # Mo Manager is in ADULT too: their own reminders are left out here.
        sent[day] = [
            e
            for e in (await emails(world))[before:]
            if e[1] != "manager@example.org" or e[0].endswith("escalation")
        ]
    reminder = ("requirement.reminder", "lee@example.org")
    escalation = ("requirement.escalation", "manager@example.org")
    assert {d: e for d, e in sent.items() if e} == {
        1: [reminder],
        7: [reminder],
        14: [reminder],
        21: [reminder],
        28: [escalation],
    }
    async with world.db.reading() as s:
        subjects = [
            (o.payload["course_title"], o.payload["reason"])
            for o in await s.scalars(select(Outbox).where(Outbox.topic.startswith("requirement.")))
        ]
    assert all(title == "Data protection" for title, _ in subjects)
    assert "Lee Learner" in subjects[-1][1]


async def test_completion_stops_the_reminders_and_accepted_courses_count(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    code = await course(world, "GDPR", "Data protection", audience=LEE_ONLY)
    await course(world, "GDPR-OLD", "Data protection (2019)")
    await course(world, "OTHER", "Something else")
    await make_mandatory(world, code)
    await tick(world, settings)
    assert await emails(world) == [("requirement.reminder", "lee@example.org")]
    lms = await support.actor_for_service(world.db)
    # A completion of another course: still required.
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput("OTHER", world.clock.now(), learner_email="lee@example.org")],
    )
    world.clock.advance(6 * DAY)
    await tick(world, settings)
    assert len(await emails(world)) == 2, "day 7's reminder"
    # The older version, which the course accepts: met, no more reminders nor escalation.
    await set_accepted(world, code, ["GDPR-OLD"])
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput("GDPR-OLD", world.clock.now(), learner_email="lee@example.org")],
    )
    for _ in range(30):
        world.clock.advance(DAY)
        await tick(world, settings)
    assert len(await emails(world)) == 2


async def test_a_worker_down_for_days_sends_only_the_latest_missed_reminder(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    code = await course(world, "GDPR", "Data protection", audience=LEE_ONLY)
    await make_mandatory(world, code)
    await tick(world, settings)
    world.clock.advance(15 * DAY)  # day 16: days 7 and 14 missed
    await tick(world, settings)
    async with world.db.reading() as s:
        days = [
            o.payload["day"]
            for o in await s.scalars(
                select(Outbox).where(Outbox.topic == "requirement.reminder").order_by(Outbox.id)
            )
        ]
    assert days == [1, 14]


async def test_no_escalation_when_never_or_no_manager(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    code = await course(world, "GDPR", "Data protection")
    await make_mandatory(world, code, reminder_days=[1], escalate_after_days=None)
    await tick(world, settings)
    world.clock.advance(60 * DAY)
    await tick(world, settings)
    topics = {t for t, _ in await emails(world)}
    assert topics == {"requirement.reminder"}


async def set_accepted(world: support.World, course_id: int, codes: list[str]) -> None:
    await make_mandatory(world, course_id, accepted_courses=codes)


async def test_a_moved_start_date_moves_the_due_date(rworld: support.World) -> None:
    world = rworld
    code = await course(world, "GDPR", "Data protection")
    await make_mandatory(world, code)
    lee = "lee@example.org"
    for days_ahead in (20, 40):
        starts = (world.clock.now() + days_ahead * DAY).date()
        async with world.db.transaction() as s:
            await s.execute(update(Person).where(Person.email == lee).values(start_date=starts))
        await records.sweep_requirements(world.db, world.clock)
        (row,) = await open_rows(world, lee)
        assert row.due_at == datetime.combine(starts, datetime.min.time(), UTC) + 30 * DAY
