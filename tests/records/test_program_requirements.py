"""A program's courses are chased like mandatory courses (issue 18), with a fixed clock: the
requirements sweep keeps rows via "program", reminders name the program and escalate on day 28,
a completion or archiving the program stops them, and a course also mandatory on its own (or
asked for by two programs) is chased once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from booking import jobs, records
from booking.config import Settings
from booking.models import Outbox, Person, Requirement
from tests import support
from tests.records.conftest import course
from tests.records.test_programs import complete
from tests.records.test_requirements import LEE_ONLY, make_mandatory, open_rows

DAY = timedelta(days=1)
LEE = "lee@example.org"
REMINDER = ("requirement.reminder", LEE)
ESCALATION = ("requirement.escalation", "manager@example.org")


@pytest.fixture
def settings(db_url: str) -> Settings:
    return support.settings_for(db_url)


def program(code: str = "IND", title: str = "Induction", **kw: Any) -> records.ProgramInput:
    fields: dict[str, Any] = {
        "code": code,
        "title": title,
        "audience": LEE_ONLY,
        "due_within_days": 30,
        "sets": [
            records.ProgramSetInput("Core", "all", ["FIRE-1"]),
            records.ProgramSetInput("Data", "any", ["DP-1", "DP-2"]),
            records.ProgramSetInput("Extra", "optional", ["EXTRA"]),
        ],
    }
    fields.update(kw)
    return records.ProgramInput(**fields)


async def courses(world: support.World) -> dict[str, int]:
    titles = {"FIRE-1": "Fire Safety", "DP-1": "Data Protection", "DP-2": "Data (short)"}
    titles["EXTRA"] = "Extra"
    return {code: await course(world, code, title) for code, title in titles.items()}


async def sent(world: support.World, course_id: int | None = None) -> list[dict[str, Any]]:
    """Each requirement email queued (oldest first): topic, recipient, payload."""
    async with world.db.reading() as s:
        rows = await s.execute(
            select(Outbox.topic, Person.email, Outbox.payload)
            .join(Person, Person.id == Outbox.recipient_id)
            .where(Outbox.topic.startswith("requirement."))
            .order_by(Outbox.id)
        )
        out = [{"topic": t, "to": e, "payload": p} for t, e, p in rows.all()]
    return [o for o in out if course_id is None or o["payload"]["course_id"] == course_id]


async def tick(world: support.World, settings: Settings) -> None:
    await jobs.tick(world.db, world.clock, settings)


async def test_a_program_s_courses_are_chased_and_escalated_naming_the_program(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    ids = await courses(world)
    await records.create_program(world.db, world.clock, world.admin, program())
    start = world.clock.now()
    await tick(world, settings)
    rows = await open_rows(world, LEE)
    # FIRE-1 (all) and both ways to finish the any set; the optional set asks for nothing.
    assert sorted(r.course_id for r in rows) == sorted([ids["FIRE-1"], ids["DP-1"], ids["DP-2"]])
    assert {(r.via, r.applied_at, r.due_at) for r in rows} == {("program", start, start + 30 * DAY)}
    assert len({r.program_id for r in rows}) == 1 and rows[0].program_id is not None
    # The record's program items carry the row's due date.
    lee = await support.actor(world.db, LEE)
    record = await records.my_record(world.db, world.clock, lee)
    fire = next(r for r in record.required if r.course_id == ids["FIRE-1"])
    assert fire.due_at == rows[0].due_at and fire.via == {"program": "IND"}

    by_day = {1: [(e["topic"], e["to"]) for e in await sent(world, ids["FIRE-1"])]}
    for day in range(2, 36):
        world.clock.set(start + (day - 1) * DAY)
        before = len(await sent(world, ids["FIRE-1"]))
        await tick(world, settings)
        await tick(world, settings)  # twice in a row: nothing twice
        by_day[day] = [(e["topic"], e["to"]) for e in (await sent(world, ids["FIRE-1"]))[before:]]
    assert {d: e for d, e in by_day.items() if e} == {
        1: [REMINDER],
        7: [REMINDER],
        14: [REMINDER],
        21: [REMINDER],
        28: [ESCALATION],
    }
    first, *_, last = await sent(world, ids["FIRE-1"])
    assert first["payload"]["program_title"] == "Induction"
    assert first["payload"]["via"] == "program"
    assert "for the program “Induction”" in first["payload"]["reason"]
    assert "Lee Learner" in last["payload"]["reason"] and "Induction" in last["payload"]["reason"]


async def test_a_completion_stops_the_chase_and_an_any_set_needs_one_course(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    ids = await courses(world)
    await records.create_program(world.db, world.clock, world.admin, program())
    await tick(world, settings)
    assert len(await sent(world)) == 3  # day 1: FIRE-1, DP-1, DP-2
    await complete(world, LEE, "FIRE-1", "DP-2")
    await tick(world, settings)
    assert await open_rows(world, LEE) == []  # done, and the any set is finished by DP-2
    for _ in range(40):
        world.clock.advance(DAY)
        await tick(world, settings)
    assert len(await sent(world)) == 3
    assert ids


async def test_a_course_also_mandatory_on_its_own_is_chased_once(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    ids = await courses(world)
    await make_mandatory(world, ids["FIRE-1"], due=10)
    await records.create_program(world.db, world.clock, world.admin, program())
    # A second program asking for the same course: still one chase (the first by title).
    await records.create_program(
        world.db,
        world.clock,
        world.admin,
        program("ZZ", "Zoo keeping", sets=[records.ProgramSetInput("A", "all", ["DP-1"])]),
    )
    start = world.clock.now()
    for day in range(1, 9):
        world.clock.set(start + (day - 1) * DAY)
        await tick(world, settings)
        await tick(world, settings)
    rows = {r.course_id: r for r in await open_rows(world, LEE)}
    assert rows[ids["FIRE-1"]].via == "course"
    assert rows[ids["DP-1"]].via == "program" and len(await open_rows(world, LEE)) == 3
    for code in ("FIRE-1", "DP-1", "DP-2"):
        # (FIRE-1 is mandatory for everyone: Lee's emails only.)
        got = [(e["topic"], e["to"]) for e in await sent(world, ids[code]) if e["to"] == LEE]
        assert got == [REMINDER, REMINDER], code  # days 1 and 7, once each
    fire, _ = [e for e in await sent(world, ids["FIRE-1"]) if e["to"] == LEE]
    assert fire["payload"]["via"] == "course" and "program" not in fire["payload"]["reason"]
    dp, _ = await sent(world, ids["DP-1"])
    assert dp["payload"]["program_title"] == "Induction"


async def test_archiving_the_program_stops_the_reminders(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    await courses(world)
    view = await records.create_program(world.db, world.clock, world.admin, program())
    await tick(world, settings)
    assert len(await sent(world)) == 3
    world.clock.advance(DAY)
    await records.update_program(
        world.db, world.clock, world.admin, view.id, program(archived=True)
    )
    for _ in range(40):
        world.clock.advance(DAY)
        await tick(world, settings)
    assert len(await sent(world)) == 3
    assert await open_rows(world, LEE) == []
    async with world.db.reading() as s:
        closed = list(await s.scalars(select(Requirement).where(Requirement.via == "program")))
    assert closed and all(r.closed_at is not None for r in closed)


async def test_a_later_start_date_moves_the_row_s_due_date_and_the_record_s(
    rworld: support.World, settings: Settings
) -> None:
    world = rworld
    ids = await courses(world)
    await records.create_program(world.db, world.clock, world.admin, program())
    await tick(world, settings)
    starts = (world.clock.now() + 10 * DAY).date()
    async with world.db.transaction() as s:
        await s.execute(update(Person).where(Person.email == LEE).values(start_date=starts))
    await tick(world, settings)
    rows = await open_rows(world, LEE)
    expected = datetime.combine(starts, time(0), tzinfo=UTC) + 30 * DAY
    assert {r.due_at for r in rows} == {expected}
    lee = await support.actor(world.db, LEE)
    record = await records.my_record(world.db, world.clock, lee)
    fire = next(r for r in record.required if r.course_id == ids["FIRE-1"])
    assert fire.due_at == expected
