"""xAPI statements end to end, against a real learning record store (ralph-malph): attendance
marked → statements queued in the outbox → delivered by the worker → read back from the LRS
with the right actor, verb, object and result; a resend leaves one statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from booking import bookings, jobs, records, roster, xapi
from booking.clock import FixedClock
from booking.db import Database
from booking.models import Outbox
from tests import support
from tests.records.conftest import attended_session, book
from tests.records.lrs import Lrs

VERSION = {"X-Experience-API-Version": "1.0.3"}
_servers = 0


@pytest.fixture
async def sworld(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[support.World]:
    """The small organisation on SQLite only (the LRS is what this test is about)."""
    db = Database(support.settings_for(support.fresh_sqlite(sqlite_template, tmp_path / "x.db")))
    try:
        yield await support.make_world(db, FixedClock(support.T0))
    finally:
        await db.dispose()


def settings_for(world: support.World, lrs: Lrs) -> Any:
    """Each test is a server of its own (its base URL is in its statement ids and activity
    ids), as the LRS lives for the whole session."""
    global _servers
    _servers += 1
    return replace(
        world.db.settings,
        lrs_url=lrs.url,
        lrs_username=lrs.username,
        lrs_password=lrs.password,
        base_url=f"https://training{_servers}.example.org",
    )


async def lrs_statements(lrs: Lrs, email: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(auth=(lrs.username, lrs.password), headers=VERSION) as client:
        r = await client.get(
            f"{lrs.url}/xAPI/statements",
            params={"agent": f'{{"mbox": "mailto:{email}"}}', "limit": 500},
        )
    assert r.status_code == 200, r.text
    return list(r.json()["statements"])


async def outbox_rows(world: support.World) -> list[Outbox]:
    async with world.db.reading() as s:
        return list(
            (
                await s.scalars(select(Outbox).where(Outbox.channel == "xapi").order_by(Outbox.id))
            ).all()
        )


async def test_attendance_reaches_the_lrs_once_with_actor_verb_object_and_result(
    sworld: support.World, lrs: Lrs
) -> None:
    world = sworld
    settings = settings_for(world, lrs)
    session_id, (booking_id,) = await attended_session(world, world.course_id, "lee@example.org")

    # The worker's tick queues the statements and delivers them.
    await jobs.tick(world.db, world.clock, settings)
    rows = await outbox_rows(world)
    assert [r.topic for r in rows] == ["xapi.attended", "xapi.completed", "xapi.registered"]
    assert all(r.status == "sent" for r in rows), [r.last_error for r in rows]

    stored = {s["id"]: s for s in await lrs_statements(lrs, "lee@example.org")}
    attended = stored[rows[0].payload["statement"]["id"]]
    assert attended["actor"]["mbox"] == "mailto:lee@example.org"
    assert attended["actor"]["name"] == "Lee Learner"
    assert attended["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attended"
    assert attended["object"]["id"] == f"{settings.base_url}/sessions/{session_id}"
    assert attended["object"]["definition"]["name"] == {"en-GB": "Safeguarding Adults"}
    assert attended["result"] == {"completion": True, "duration": "PT3H"}
    parent = attended["context"]["contextActivities"]["parent"][0]["id"]
    assert parent == f"{settings.base_url}/courses/{world.course_id}"
    completed = stored[rows[1].payload["statement"]["id"]]
    assert completed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert completed["result"] == {"completion": True, "success": True}
    registered = stored[xapi.statement_id(settings.base_url, "booking", booking_id, "registered")]
    assert registered["verb"]["id"] == "http://adlnet.gov/expapi/verbs/registered"

    # A resend (a worker that died after sending, before marking) is harmless: same id, same
    # statement, the LRS answers 204 and still holds one.
    async with world.db.transaction() as s:
        await s.execute(
            update(Outbox)
            .where(Outbox.channel == "xapi")
            .values(status="pending", sent_at=None, available_at=world.clock.now())
        )
    report = await records.deliver_xapi(world.db, world.clock, settings)
    assert (report.sent, report.failed) == (3, 0)
    again = await lrs_statements(lrs, "lee@example.org")
    ids = [s["id"] for s in again]
    assert len(ids) == len(set(ids)) == 3
    # Ticking again queues nothing new.
    await jobs.tick(world.db, world.clock, settings)
    assert len(await outbox_rows(world)) == 3


async def test_no_show_voids_attendance_and_cancelling_is_withdrew(
    sworld: support.World, lrs: Lrs
) -> None:
    world = sworld
    settings = settings_for(world, lrs)
    session_id, (kim_booking,) = await attended_session(world, world.course_id, "kim@example.org")
    await records.sync_xapi(world.db, world.clock, settings)
    trainer = await support.actor(world.db, "trainer@example.org")
    await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(kim_booking, "no_show")]
    )
    later = await support.make_session(world, start=world.clock.now() + timedelta(days=10))
    (booking_id,) = await book(world, later, "kim@example.org")
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.cancel_booking(world.db, world.clock, kim, booking_id, reason="Illness")
    # Statements from booking history wait until their rows have settled: move past that.
    world.clock.advance(records.HISTORY_SETTLE + timedelta(seconds=1))
    report = await records.sync_xapi(world.db, world.clock, settings)
    assert report.failed == 0, [r.last_error for r in await outbox_rows(world) if r.last_error]
    topics = [r.topic for r in await outbox_rows(world)]
    assert topics.count("xapi.voided") == 2  # the attendance and the completion
    assert topics.count("xapi.withdrew") == 1 and topics.count("xapi.registered") == 2
    verbs = [s["verb"]["display"]["en-GB"] for s in await lrs_statements(lrs, "kim@example.org")]
    assert "withdrew" in verbs


async def test_a_conflicting_statement_fails_the_row_instead_of_retrying(
    sworld: support.World, lrs: Lrs
) -> None:
    world = sworld
    settings = settings_for(world, lrs)
    await attended_session(world, world.course_id, "lee@example.org")
    await records.queue_xapi_statements(world.db, world.clock, settings)
    # Another system already stored a different statement under the first id.
    first = (await outbox_rows(world))[0].payload["statement"]
    other = {**first, "result": {"completion": False}}
    async with httpx.AsyncClient(auth=(lrs.username, lrs.password), headers=VERSION) as client:
        r = await client.put(
            f"{lrs.url}/xAPI/statements", params={"statementId": first["id"]}, json=other
        )
        assert r.status_code in (200, 204)
    report = await records.deliver_xapi(world.db, world.clock, settings)
    assert report.failed == 1
    row = (await outbox_rows(world))[0]
    assert row.status == "failed" and "409" in (row.last_error or "")
