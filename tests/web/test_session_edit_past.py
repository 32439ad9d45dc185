"""A session people have booked is not moved into the past, on the page or through the API:
the refusal names the date, nothing changes and nobody is mailed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.models import Outbox
from tests import support
from tests.web.conftest import Browser, cached_app
from tests.web.test_admin_pages import form_fields

# support.T0 is Monday 1 March 2027, 09:00 UTC.
MONDAY = support.T0 + timedelta(days=14)  # 15 March 2027, 09:00 GMT
PAST = support.T0 - timedelta(days=9)  # Saturday 20 February 2027, 09:00 GMT


async def _outbox_rows(world: support.World) -> int:
    async with world.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(Outbox)) or 0)


async def _booked_session(world: support.World) -> int:
    session_id = await support.make_session(world, start=MONDAY)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    return session_id


async def test_the_edit_page_refuses_a_booked_session_moved_into_the_past(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await _booked_session(world)
    before = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    mails = await _outbox_rows(world)
    url = f"/sessions/{session_id}/edit"
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(url)).text, url)

    refused = await browser.post(url, {**fields, "date_0": "2027-02-20"})

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert "<title>Error: " in refused.text
    assert "Sat 20 Feb 2027, 09:00–12:00 GMT is in the past" in refused.text
    assert 'id="start_0-error"' in refused.text
    after = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert [(d.start, d.end) for d in after.dates] == [(d.start, d.end) for d in before.dates]
    assert await _outbox_rows(world) == mails


async def test_the_api_refuses_a_booked_session_moved_into_the_past(
    db_url: str, world: support.World
) -> None:
    session_id = await _booked_session(world)
    before = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    mails = await _outbox_rows(world)
    body: dict[str, Any] = {
        "dates": [
            {
                "id": before.dates[0].id,
                "start": PAST.isoformat(),
                "end": (PAST + timedelta(hours=3)).isoformat(),
                "timezone": support.LONDON,
            }
        ]
    }
    async with AsyncTestClient(app=cached_app(db_url, demo=False)) as http:
        refused = await http.patch(
            f"/api/v1/sessions/{session_id}",
            json=body,
            headers={"Authorization": f"Bearer {world.admin_token}"},
        )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert "Sat 20 Feb 2027, 09:00–12:00 GMT is in the past" in problem["detail"]
    assert problem["field"] == "dates[0].start"
    after = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert [(d.start, d.end) for d in after.dates] == [(d.start, d.end) for d in before.dates]
    assert await _outbox_rows(world) == mails


async def test_a_session_nobody_booked_may_still_be_corrected_into_the_past(
    world: support.World,
) -> None:
    session_id = await support.make_session(world, start=MONDAY)
    before = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    moved = await catalogue.update_session(
        world.db,
        world.clock,
        world.admin,
        session_id,
        catalogue.SessionChanges(
            dates=[
                catalogue.DateInput(
                    PAST, PAST + timedelta(hours=3), support.LONDON, before.dates[0].id
                )
            ]
        ),
    )
    assert moved.dates[0].start == PAST
