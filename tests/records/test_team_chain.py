"""Line management as a chain: a manager's manager sees the team below them (directly or
indirectly) and their records; the chain reads stop on a loop in bad data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking import people, records
from tests import support
from tests.web.conftest import Browser, cached_app, person_id_of


async def add_boss(world: support.World) -> None:
    """Bo Boss manages Mo Manager, who manages Lee and Kim."""
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput("boss@example.org", "Bo Boss", "P010", None, "ORG", "Director"),
            people.PersonInput(
                "manager@example.org",
                "Mo Manager",
                "P001",
                "boss@example.org",
                "ADULT",
                "Team Manager",
            ),
        ],
    )


@pytest.fixture
async def http(world: support.World, db_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=cached_app(db_url, demo=True)) as client:
        yield client


async def test_the_chain_up_and_down_and_a_loop(world: support.World) -> None:
    await add_boss(world)
    ids = {p.email: p.id for p in await people.list_people(world.db)}
    async with world.db.reading() as s:
        assert await people.managers_above(s, ids["lee@example.org"]) == [
            ids["manager@example.org"],
            ids["boss@example.org"],
        ]
        below = await people.reports_below(s, ids["boss@example.org"])
        assert below == {
            ids["manager@example.org"]: 1,
            ids["lee@example.org"]: 2,
            ids["kim@example.org"]: 2,
        }
        assert await people.manages(s, ids["boss@example.org"], ids["kim@example.org"])
        assert not await people.manages(s, ids["lee@example.org"], ids["kim@example.org"])
    # A loop in the data (Bo reports to Lee, who reports to Mo, who reports to Bo) still ends.
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput("boss@example.org", "Bo Boss", "P010", "lee@example.org", "ORG")],
    )
    async with world.db.reading() as s:
        above = await people.managers_above(s, ids["lee@example.org"])
        assert set(above) == {ids["manager@example.org"], ids["boss@example.org"]}
        assert ids["lee@example.org"] not in await people.reports_below(s, ids["lee@example.org"])


async def test_a_managers_manager_sees_the_team_below_and_their_records(
    world: support.World, http: AsyncTestClient[Any]
) -> None:
    await add_boss(world)
    boss = await support.actor(world.db, "boss@example.org")
    direct = await records.my_team(world.db, world.clock, boss)
    assert [m.record.person.email for m in direct.members] == ["manager@example.org"]
    everyone = await records.my_team(world.db, world.clock, boss, indirect=True)
    assert [(m.record.person.email, m.reports_to) for m in everyone.members] == [
        ("kim@example.org", "Mo Manager"),
        ("lee@example.org", "Mo Manager"),
        ("manager@example.org", None),
    ]
    kim_id = await person_id_of(world, "kim@example.org")
    shown = await records.learner_record(world.db, world.clock, boss, kim_id)
    assert shown.person.email == "kim@example.org"

    token = await people.create_token(world.db, world.clock, email="boss@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    r = await http.get("/api/v1/me/team", params={"indirect": "true"}, headers=headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["members"]) == 3 and r.json()["indirect"] is True
    assert (await http.get(f"/api/v1/people/{kim_id}/record", headers=headers)).status_code == 200
    # Lee is not Kim's manager at any level.
    lee = await people.create_token(world.db, world.clock, email="lee@example.org")
    r = await http.get(
        f"/api/v1/people/{kim_id}/record", headers={"Authorization": f"Bearer {lee}"}
    )
    assert r.status_code == 404

    browser = Browser(http, world)
    await browser.sign_in("boss@example.org")
    page = await browser.get("/team?indirect=1")
    assert page.status_code == 200
    assert "Reports to Mo Manager" in page.text and "Show my direct reports only" in page.text
    download = await browser.get("/team.csv?indirect=1")
    assert download.status_code == 200 and "kim@example.org" in download.text
