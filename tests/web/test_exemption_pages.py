"""Exemption pages: the line manager's request form (errors in place, one request per course),
the queue, and the emailed one-click link (read from the outbox) that opens a confirmation for
the person it was sent to, and only for them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from booking import notifications
from booking.clock import FixedClock
from booking.db import Database
from booking.models import ExemptionRequest, Outbox
from tests import support
from tests.records.exemption_world import ExWorld, client_for, make_ex_world

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
LINK = re.compile(r"https://training\.example\.org(/exemptions/\d+/approve\?t=[^\s\"<]+)")


@pytest.fixture
async def ex(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[ExWorld]:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "pages.db")
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
        yield await make_ex_world(world, url)
    finally:
        await db.dispose()


async def sign_in(http: AsyncTestClient[Any], ex: ExWorld, who: str) -> str:
    """Signs in; answers the CSRF token for the forms."""
    http.cookies.clear()
    page = await http.get("/login")
    match = CSRF.search(page.text)
    assert match
    r = await http.post(
        "/login",
        data={"person_id": str(ex.ids[who]), "_csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return http.cookies.get("csrftoken") or match.group(1)


async def _rows(ex: ExWorld) -> list[ExemptionRequest]:
    async with ex.world.db.reading() as s:
        return list(await s.scalars(select(ExemptionRequest).order_by(ExemptionRequest.id)))


async def test_request_form_keeps_values_and_ties_errors_to_fields(ex: ExWorld) -> None:
    form_url = f"/team/{ex.ids['lee']}/exemptions/new"
    async with client_for(ex) as http:
        csrf = await sign_in(http, ex, "manager")
        team = await http.get("/team")
        assert form_url in team.text and "Ask for an exemption or extension" in team.text
        page = await http.get(form_url)
        assert page.status_code == 200
        assert "Safeguarding Adults" in page.text and "Fire Safety" in page.text
        # No course, an extension without its date, and a date that is not one.
        r = await http.post(
            form_url,
            data={
                "_csrf_token": csrf,
                "kind": "extension",
                "reason": "Long-term sick leave",
                "until": "31/02/2027",
            },
        )
        assert r.status_code == 422
        assert 'class="error-summary"' in r.text and 'href="#until"' in r.text
        assert "Long-term sick leave" in r.text  # kept
        r = await http.post(
            form_url,
            data={"_csrf_token": csrf, "kind": "extension", "reason": "Sick leave"},
        )
        assert r.status_code == 422 and 'href="#courses"' in r.text
        r = await http.post(
            form_url,
            data={
                "_csrf_token": csrf,
                "kind": "extension",
                "reason": "Sick leave",
                "course": ["SAFE-1"],
            },
        )
        assert r.status_code == 422 and 'href="#due_date"' in r.text
        assert 'aria-invalid="true"' in r.text and 'value="SAFE-1" checked' in r.text
        assert await _rows(ex) == []
        # Several courses at once: one request each.
        r = await http.post(
            form_url,
            data={
                "_csrf_token": csrf,
                "kind": "exemption",
                "reason": "Registered nurse",
                "until": "2027-12-31",
                "course": ["SAFE-1", "FIRE-1"],
            },
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/team"
        rows = await _rows(ex)
        assert [(r.course_id, r.kind, r.state) for r in rows] == [
            (ex.course_id, "exemption", "pending"),
            (ex.team_course_id, "exemption", "pending"),
        ]
        # Bo manages Lee through Mo; Kim is nobody's manager.
        await sign_in(http, ex, "boss")
        assert (await http.get(form_url)).status_code == 200
        await sign_in(http, ex, "kim")
        assert (await http.get(form_url)).status_code == 404
        await sign_in(http, ex, "lee")
        assert (await http.get(form_url)).status_code == 404


async def _emailed_link(ex: ExWorld, recipient: str) -> str:
    settings = support.settings_for(ex.url, base_url="https://training.example.org")
    async with ex.world.db.reading() as s:
        row = await s.scalar(
            select(Outbox).where(
                Outbox.topic == "exemption.requested", Outbox.recipient_id == ex.ids[recipient]
            )
        )
        assert row is not None
        rendered = await notifications.render_row(s, row, settings, ex.world.clock.now())
    assert "Safeguarding Adults" in rendered.subject
    match = LINK.search(rendered.text)
    assert match, rendered.text
    assert match.group(1) in rendered.html.replace("&amp;", "&")
    return match.group(1)


async def test_owner_decides_by_the_emailed_link_and_in_the_queue(ex: ExWorld) -> None:
    async with client_for(ex) as http:
        csrf = await sign_in(http, ex, "manager")
        r = await http.post(
            f"/team/{ex.ids['lee']}/exemptions/new",
            data={
                "_csrf_token": csrf,
                "kind": "exemption",
                "reason": "Registered nurse",
                "course": ["SAFE-1"],
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        link = await _emailed_link(ex, "owner")
        # Not for the administrator (it was sent to Olive), nor forged.
        await sign_in(http, ex, "admin")
        assert (await http.get(link)).status_code == 403
        csrf = await sign_in(http, ex, "owner")
        assert (await http.get(link.replace("?t=", "?t=x"))).status_code == 403
        assert (await http.get(link.replace("approve", "decline"))).status_code == 403
        queue = await http.get("/exemptions")
        assert queue.status_code == 200 and "Lee Learner" in queue.text
        assert 'href="/exemptions"' in queue.text  # the owner's navigation entry
        page = await http.get(link)
        assert page.status_code == 200, page.text
        assert "Approve the exemption for Lee Learner?" in page.text
        (row,) = await _rows(ex)
        r = await http.post(
            f"/exemptions/{row.id}/decide",
            data={"_csrf_token": csrf, "decision": "approve", "comment": "Agreed"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/exemptions"
        done = await http.get("/exemptions")
        assert "Approved: exemption for Lee Learner" in done.text
        # Deciding twice is refused in place.
        again = await http.post(
            f"/exemptions/{row.id}/decide", data={"_csrf_token": csrf, "decision": "decline"}
        )
        assert again.status_code == 409 and "already been decided" in again.text
        # The record says so.
        await sign_in(http, ex, "lee")
        record = await http.get("/me/record")
        assert "Exempt (no end date)" in record.text
        assert "Exempt from 1 course" in record.text


async def test_queue_for_people_who_may_not_decide(ex: ExWorld) -> None:
    async with client_for(ex) as http:
        csrf = await sign_in(http, ex, "manager")
        await http.post(
            f"/team/{ex.ids['lee']}/exemptions/new",
            data={
                "_csrf_token": csrf,
                "kind": "exemption",
                "reason": "Registered nurse",
                "course": ["SAFE-1"],
            },
        )
        queue = await http.get("/exemptions")
        # The requester sees what they asked, without the decision buttons.
        assert "Lee Learner" in queue.text and "Waiting for owner@example.org" in queue.text
        assert "/decide" not in queue.text
        (row,) = await _rows(ex)
        r = await http.post(
            f"/exemptions/{row.id}/decide", data={"_csrf_token": csrf, "decision": "approve"}
        )
        assert r.status_code == 403
        await sign_in(http, ex, "kim")
        assert "Lee Learner" not in (await http.get("/exemptions")).text
