"""Learning programs: writing them (service and API), who they apply to (the sweep), and the
record's `programs` and program-required items."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from booking import jobs, records
from booking.clock import FixedClock
from booking.db import Database
from booking.kernel.errors import ConflictError, InvalidError
from booking.models import Course, ProgramAssignment
from booking.records import ProgramInput, ProgramSetInput, program_sweep
from tests import support
from tests.records.conftest import course
from tests.records.test_http import client_for, token


async def three_courses(world: support.World) -> None:
    await course(world, "FIRE-1", "Fire Safety")
    await course(world, "DP-1", "Data Protection")
    await course(world, "DP-2", "Data Protection (short)")


def induction(**kw: Any) -> ProgramInput:
    fields: dict[str, Any] = {
        "code": "IND",
        "title": "Induction",
        "due_within_days": 30,
        "sets": [
            ProgramSetInput("Core", "all", ["SAFE-1", "FIRE-1"]),
            ProgramSetInput("Data", "any", ["DP-1", "DP-2"]),
        ],
    }
    fields.update(kw)
    return ProgramInput(**fields)


async def complete(world: support.World, email: str, *codes: str) -> None:
    service = await support.actor_for_service(world.db)
    accepted, results = await records.record_completions(
        world.db,
        world.clock,
        service,
        [
            records.CompletionInput(code, world.clock.now() - timedelta(hours=1), email)
            for code in codes
        ],
    )
    assert accepted == len(codes), results


async def lee_record(world: support.World) -> records.RecordView:
    lee = await support.actor(world.db, "lee@example.org")
    return await records.my_record(world.db, world.clock, lee)


async def test_create_refuses_unknown_courses_bad_rules_and_taken_codes(
    world: support.World,
) -> None:
    await three_courses(world)
    view = await records.create_program(world.db, world.clock, world.admin, induction())
    assert [(s.rule, s.course_codes) for s in view.sets] == [
        ("all", ["SAFE-1", "FIRE-1"]),
        ("any", ["DP-1", "DP-2"]),
    ]
    with pytest.raises(ConflictError):
        await records.create_program(world.db, world.clock, world.admin, induction())
    bad = induction(code="X", sets=[ProgramSetInput("Core", "all", ["NOPE"])])
    with pytest.raises(InvalidError) as err:
        await records.create_program(world.db, world.clock, world.admin, bad)
    assert err.value.field == "sets[0].course_codes"
    bad = induction(code="X", sets=[ProgramSetInput("Core", "most", ["SAFE-1"])])
    with pytest.raises(InvalidError) as err:
        await records.create_program(world.db, world.clock, world.admin, bad)
    assert err.value.field == "sets[0].rule"
    got = await records.get_program(
        world.db, await support.actor(world.db, "lee@example.org"), view.id
    )
    assert got.code == "IND" and got.due_within_days == 30


async def test_the_record_shows_progress_and_what_the_program_requires(
    world: support.World,
) -> None:
    await three_courses(world)
    start = world.clock.now()
    await records.create_program(world.db, world.clock, world.admin, induction())
    record = await lee_record(world)
    (program,) = record.programs
    assert (program.status, program.progress_percent) == ("not_started", 0)
    assert program.due_at == start + timedelta(days=30)
    required = {r.course_code: r for r in record.required}
    assert set(required) == {"SAFE-1", "FIRE-1", "DP-1", "DP-2"}
    assert all(r.via == {"program": "IND"} for r in required.values())  # type: ignore[attr-defined]

    world.clock.advance(timedelta(days=2))
    await complete(world, "lee@example.org", "SAFE-1", "DP-2")
    record = await lee_record(world)
    (program,) = record.programs
    # 3 units (two courses of the all set, one for the any set), 2 done: 66 rounded down.
    assert (program.status, program.progress_percent) == ("in_progress", 66)
    assert [s.complete for s in program.sets] == [False, True]
    assert [(c.course_code, c.status) for c in program.sets[1].courses] == [
        ("DP-1", "not_started"),
        ("DP-2", "complete"),
    ]
    assert [r.course_code for r in record.required] == ["FIRE-1"]

    await complete(world, "lee@example.org", "FIRE-1")
    record = await lee_record(world)
    assert (record.programs[0].status, record.programs[0].progress_percent) == ("complete", 100)
    assert record.required == []


async def test_audience_and_the_sweep_with_the_due_date(world: support.World) -> None:
    await three_courses(world)
    view = await records.create_program(
        world.db, world.clock, world.admin, induction(audience={"org_units": ["ORG"]})
    )
    assert (await jobs.tick(world.db, world.clock)).programs_synced == 4  # sub-units count
    async with world.db.reading() as s:
        rows = list(await s.scalars(select(ProgramAssignment)))
    assert len(rows) == 4 and all(r.applied_at == world.clock.now() for r in rows)
    assert (await jobs.tick(world.db, world.clock)).programs_synced == 0

    # Narrowed to children's services: the others' assignments close; the due date of one
    # who joins later runs from the day it applied to them.
    world.clock.advance(timedelta(days=10))
    await records.update_program(
        world.db, world.clock, world.admin, view.id, induction(audience={"org_units": ["CHILD"]})
    )
    assert (await jobs.tick(world.db, world.clock)).programs_synced == 3
    assert (await lee_record(world)).programs == []
    kim = await support.actor(world.db, "kim@example.org")
    (program,) = (await records.my_record(world.db, world.clock, kim)).programs
    assert program.due_at == support.T0 + timedelta(days=30)


@pytest.fixture
async def site(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[support.World, str]]:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "programs.db")
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
        await three_courses(world)
        yield world, url
    finally:
        await db.dispose()


async def test_programs_over_the_api(site: tuple[support.World, str]) -> None:
    world, url = site
    admin = {"Authorization": f"Bearer {world.admin_token}"}
    body = {
        "code": "IND",
        "title": "Induction",
        "summary": "Your first month",
        "audience": {"org_units": ["ADULT"]},
        "due_within_days": 30,
        "sets": [
            {"title": "Core", "rule": "all", "course_codes": ["SAFE-1", "FIRE-1"]},
            {"title": "Data", "rule": "any", "course_codes": ["DP-1", "DP-2"]},
            {"title": "Extra", "rule": "optional", "course_codes": ["DP-2"]},
        ],
    }
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        assert (await http.post("/api/v1/programs", json=body, headers=lee)).status_code == 403
        r = await http.post("/api/v1/programs", json=body, headers=admin)
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["code"] == "IND" and made["audience"] == {"org_units": ["ADULT"]}
        assert made["sets"][2] == {"title": "Extra", "rule": "optional", "course_codes": ["DP-2"]}
        assert (await http.post("/api/v1/programs", json=body, headers=admin)).status_code == 409
        bad = {**body, "code": "B", "sets": [{"title": "S", "rule": "all", "course_codes": ["Q"]}]}
        r = await http.post("/api/v1/programs", json=bad, headers=admin)
        assert r.status_code == 422 and "course_codes" in r.json()["field"]
        bad["sets"] = [{"title": "S", "rule": "every", "course_codes": ["SAFE-1"]}]
        r = await http.post("/api/v1/programs", json=bad, headers=admin)
        assert r.status_code == 422 and "rule" in r.json()["field"]
        r = await http.get(f"/api/v1/programs/{made['id']}", headers=lee)
        assert r.status_code == 200 and r.json()["sets"] == made["sets"]
        assert (await http.get("/api/v1/programs/999999", headers=lee)).status_code == 404

        r = await http.get("/api/v1/me/record", headers=lee)
        (program,) = r.json()["programs"]
        assert set(program) >= {
            "id",
            "code",
            "title",
            "status",
            "progress_percent",
            "due_at",
            "sets",
        }
        assert program["status"] == "not_started" and program["progress_percent"] == 0
        assert program["sets"][0]["courses"][0] == {
            **program["sets"][0]["courses"][0],
            "course_code": "SAFE-1",
            "status": "not_started",
        }
        assert set(program["sets"][0]) >= {"title", "rule", "complete", "courses"}
        vias = [i["via"] for i in r.json()["required"]]
        assert vias and all(v == {"program": "IND"} for v in vias)


async def test_a_course_s_accepted_courses_complete_it_in_a_program(
    world: support.World,
) -> None:
    await three_courses(world)
    await course(world, "FIRE-0", "Fire Safety (old version)")
    fire_1 = await _course_id(world, "FIRE-1")
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        fire_1,
        completion_mode=None,
        criteria=[],
        mandatory=False,
        due_within_days=None,
        accepted_courses=["FIRE-0"],
    )
    await records.create_program(world.db, world.clock, world.admin, induction())
    await complete(world, "lee@example.org", "FIRE-0")
    (program,) = (await lee_record(world)).programs
    assert [(c.course_code, c.status) for c in program.sets[0].courses] == [
        ("SAFE-1", "not_started"),
        ("FIRE-1", "complete"),
    ]
    assert program.progress_percent == 33


async def _course_id(world: support.World, code: str) -> int:
    async with world.db.reading() as s:
        found = await s.scalar(select(Course.id).where(Course.code == code))
    assert found is not None
    return found


async def test_two_workers_sweeping_at_once_assign_each_person_once(
    pg_only_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(support.settings_for(pg_only_url, db_pool_size=10))
    try:
        world = await support.make_world(db, clock)
        await support.make_learners(world, 30)
        await records.create_program(
            world.db, world.clock, world.admin, ProgramInput(code="ALL", title="For everyone")
        )
        # Each sweep lingers before it commits, so the other runs meanwhile.
        record = program_sweep.audit.record

        async def slow_record(*args: Any, **kw: Any) -> Any:
            await asyncio.sleep(0.5)
            return await record(*args, **kw)

        monkeypatch.setattr(program_sweep.audit, "record", slow_record)
        first, second = await asyncio.gather(
            records.sync_program_assignments(db, clock),
            records.sync_program_assignments(db, clock),
        )
        async with db.reading() as s:
            rows = list(await s.scalars(select(ProgramAssignment)))
        assert first + second == len(rows) == 35 and 0 in (first, second)
    finally:
        await db.dispose()
