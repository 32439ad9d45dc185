"""The record rules' chasing fields (issue 18's contract): reminder days, when the line manager
is told, accepted courses and the certificate — their defaults, a round trip through the API
and the course form, and each refusal naming its field with nothing changed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking import catalogue, records
from booking.app import create_app
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.db import Database
from tests import support
from tests.web.conftest import Browser

RULES = "/api/v1/courses/{}/record-rules"


@pytest.fixture
async def site(
    sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[tuple[support.World, AsyncTestClient[Any]]]:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "rules.db")
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
        await catalogue.create_course(
            world.db, world.clock, world.admin, CourseInput(code="SAFE-0", title="Old version")
        )
        app = create_app(support.settings_for(url, demo=True), clock=world.clock, run_worker=False)
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as http:
            yield world, http
    finally:
        await db.dispose()


def admin(world: support.World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.admin_token}"}


async def test_defaults_and_a_round_trip_through_the_api(
    site: tuple[support.World, AsyncTestClient[Any]],
) -> None:
    world, http = site
    url = RULES.format(world.course_id)
    r = await http.put(url, json={"mandatory": True}, headers=admin(world))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["reminder_days"], body["escalate_after_days"]) == ([1, 7, 14, 21], 28)
    assert (body["accepted_courses"], body["certificate"]) == ([], False)

    wanted = {
        "mandatory": True,
        "due_within_days": 30,
        "reminder_days": [14, 1, 3, 3],
        "escalate_after_days": None,
        "accepted_courses": ["SAFE-0"],
        "certificate": True,
    }
    r = await http.put(url, json=wanted, headers=admin(world))
    assert r.status_code == 200, r.text
    got = (await http.get(url, headers=admin(world))).json()
    assert got["reminder_days"] == [1, 3, 14]
    assert got["escalate_after_days"] is None
    assert (got["accepted_courses"], got["certificate"]) == (["SAFE-0"], True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reminder_days": [0, 7]}, "reminder_days"),
        ({"reminder_days": list(range(1, 30))}, "reminder_days"),
        ({"escalate_after_days": 0}, "escalate_after_days"),
        ({"accepted_courses": ["NOPE-9"]}, "accepted_courses"),
        ({"accepted_courses": ["SAFE-1"]}, "accepted_courses"),
    ],
)
async def test_refusals_name_their_field_and_change_nothing(
    site: tuple[support.World, AsyncTestClient[Any]], change: dict[str, Any], field: str
) -> None:
    world, http = site
    url = RULES.format(world.course_id)
    r = await http.put(url, json={"mandatory": True, **change}, headers=admin(world))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.text
    rules = await records.get_course_rules(world.db, world.admin, world.course_id)
    assert rules.mandatory is False and rules.reminder_days == [1, 7, 14, 21]


async def test_the_course_form_shows_and_saves_them(
    site: tuple[support.World, AsyncTestClient[Any]],
) -> None:
    world, http = site
    browser = Browser(http, world)
    await browser.sign_in("admin@example.org")
    page = await http.get(f"/admin/courses/{world.course_id}")
    assert page.status_code == 200
    assert 'value="1, 7, 14, 21"' in page.text and 'name="certificate"' in page.text
    form = _form_fields(page.text)
    form.update(
        {
            "mandatory": "yes",
            "reminder_days": "2, 9",
            "escalate_after_days": "",
            "accepted_courses": "SAFE-0",
            "certificate": "yes",
        }
    )
    saved = await browser.post(f"/admin/courses/{world.course_id}", form)
    assert saved.status_code == 303, saved.text[:2000]
    rules = await records.get_course_rules(world.db, world.admin, world.course_id)
    assert (rules.reminder_days, rules.escalate_after_days) == ([2, 9], None)
    assert (rules.accepted_courses, rules.certificate) == (["SAFE-0"], True)

    form["reminder_days"] = "two, nine"
    refused = await browser.post(f"/admin/courses/{world.course_id}", form)
    assert refused.status_code == 422
    assert "Give day numbers separated by commas" in refused.text
    assert 'value="two, nine"' in refused.text
    rules = await records.get_course_rules(world.db, world.admin, world.course_id)
    assert rules.reminder_days == [2, 9]


def _form_fields(html: str) -> dict[str, str]:
    """The form's text inputs, selected options and checked boxes, as a browser would post."""
    fields: dict[str, str] = {}
    for m in re.finditer(r"<input([^>]*)>", html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', m.group(1)))
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind == "submit":
            continue
        if kind == "checkbox" and "checked" not in m.group(1):
            continue
        if name != "_csrf_token":
            fields[name] = attrs.get("value", "")
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', m.group(2))
        fields[m.group(1)] = chosen.group(1) if chosen else ""
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[m.group(1)] = m.group(2).strip()
    return fields
