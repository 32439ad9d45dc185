"""Records over HTTP: the feed and a person's record through the API (tokens), and the pages
with their downloads (signed in through the demo's pick-a-person form)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from booking import people
from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from tests import support
from tests.records.conftest import attended_session

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
async def site(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[support.World, str]]:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "http.db")
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
        await attended_session(world, world.course_id, "lee@example.org")
        yield world, url
    finally:
        await db.dispose()


def client_for(url: str, world: support.World) -> AsyncTestClient[Any]:
    app = create_app(support.settings_for(url, demo=True), clock=world.clock, run_worker=False)
    return AsyncTestClient(app=app, base_url="http://testserver.local")


async def token(world: support.World, email: str) -> dict[str, str]:
    value = await people.create_token(world.db, world.clock, email=email)
    return {"Authorization": f"Bearer {value}"}


async def test_feed_and_records_over_the_api(site: tuple[support.World, str]) -> None:
    world, url = site
    service = await people.create_token(world.db, world.clock, service="lms", scope="records")
    lms = {"Authorization": f"Bearer {service}"}
    ids = {p.email: p.id for p in await people.list_people(world.db)}
    async with client_for(url, world) as http:
        r = await http.get("/api/v1/records", headers=lms)
        assert r.status_code == 200
        body = r.json()
        assert [(i["type"], i["status"]) for i in body["items"]] == [
            ("attendance", "attended"),
            ("completion", "completed"),
        ]
        item = body["items"][1]
        assert item["learner"] == {
            "id": ids["lee@example.org"],
            "email": "lee@example.org",
            "personnel_number": "P003",
        }
        assert item["course_code"] == "SAFE-1" and item["source"] == "workshop"
        r = await http.get("/api/v1/records", params={"since": body["next_cursor"]}, headers=lms)
        assert r.json() == {"items": [], "next_cursor": body["next_cursor"]}
        assert (await http.get("/api/v1/records")).status_code == 401
        lee = await token(world, "lee@example.org")
        assert (await http.get("/api/v1/records", headers=lee)).status_code == 403

        lee_record = f"/api/v1/people/{ids['lee@example.org']}/record"
        kim_record = f"/api/v1/people/{ids['kim@example.org']}/record"
        r = await http.get(lee_record, headers=lee)
        assert r.status_code == 200 and r.json()["courses"][0]["status"] == "complete"
        assert (await http.get(kim_record, headers=lee)).status_code == 404
        assert (await http.get(lee_record, headers=lms)).status_code == 404
        manager = await token(world, "manager@example.org")
        assert (await http.get(kim_record, headers=manager)).status_code == 200
        trainer = await token(world, "trainer@example.org")
        assert (await http.get(kim_record, headers=trainer)).status_code == 404
        admin = {"Authorization": f"Bearer {world.admin_token}"}
        assert (await http.get(kim_record, headers=admin)).status_code == 200
        team = (await http.get("/api/v1/me/team", headers=manager)).json()
        assert [m["record"]["person"]["email"] for m in team["members"]] == [
            "kim@example.org",
            "lee@example.org",
        ]
        r = await http.put(
            f"/api/v1/courses/{world.course_id}/record-rules",
            json={"mandatory": True, "due_within_days": 30},
            headers=admin,
        )
        assert r.status_code == 200 and r.json()["mandatory"] is True
        report = (await http.get("/api/v1/reports/compliance", headers=admin)).json()["items"]
        assert {(r["org_unit"], r["percent"]) for r in report} >= {("CHILD", 0)}


async def sign_in(http: AsyncTestClient[Any], person_id: int) -> None:
    page = await http.get("/login")
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    r = await http.post(
        "/login",
        data={"person_id": str(person_id), "next": "/me/record", "_csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


async def test_record_team_and_compliance_pages_with_downloads(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    ids = {p.email: p.id for p in await people.list_people(world.db)}
    async with client_for(url, world) as http:
        await sign_in(http, ids["lee@example.org"])
        page = await http.get("/me/record")
        assert page.status_code == 200 and "Safeguarding Adults" in page.text
        assert (await http.get("/me/required-learning")).status_code == 200
        csv_file = await http.get("/me/record.csv")
        assert csv_file.headers["content-type"].startswith("text/csv")
        assert "Safeguarding Adults" in csv_file.text
        xlsx = await http.get("/me/record.xlsx")
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None and sheet["B2"].value == "Safeguarding Adults"
        assert (await http.get(f"/people/{ids['kim@example.org']}/record")).status_code == 404
        assert (await http.get("/admin/compliance")).status_code == 403
    async with client_for(url, world) as http:
        await sign_in(http, ids["manager@example.org"])
        team = await http.get("/team")
        assert team.status_code == 200 and "Kim Learner" in team.text
        assert "Lee Learner" in (await http.get("/team.csv")).text
        assert (await http.get(f"/people/{ids['lee@example.org']}/record")).status_code == 200
    async with client_for(url, world) as http:
        await sign_in(http, ids["admin@example.org"])
        report = await http.get("/admin/compliance")
        assert report.status_code == 200 and "Adult Services" in report.text
        assert (await http.get("/admin/compliance.xlsx")).status_code == 200
        form = await http.get("/admin/records/import")
        csrf = CSRF.search(form.text)
        assert csrf
        r = await http.post(
            "/admin/records/import",
            data={"_csrf_token": csrf.group(1)},
            files={
                "file": (
                    "c.csv",
                    b"learner_email,course_code,completed_at\nkim@example.org,SAFE-1,2027-02-01\n",
                    "text/csv",
                )
            },
        )
        assert r.status_code == 200 and "1 completions recorded" in r.text
