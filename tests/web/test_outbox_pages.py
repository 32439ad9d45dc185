"""The administrators' outbox page and the private calendar feed, over HTTP."""

from __future__ import annotations

import re

from icalendar import Calendar
from sqlalchemy import update

from booking import bookings
from booking.bookings import BookingRequest
from booking.catalogue import RoomInput
from booking.models import Outbox
from tests import support
from tests.web.conftest import Browser


async def test_outbox_shows_what_would_be_sent_and_requeues_failures(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=3)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))

    await browser.sign_in("lee@example.org")
    assert (await browser.get("/admin/outbox")).status_code == 403

    await browser.sign_in("admin@example.org")
    listing = await browser.get("/admin/outbox")
    assert listing.status_code == 200
    assert "booking.booked" in listing.text
    assert "No SMTP server is configured" in listing.text
    outbox_id = int(re.search(r'href="/admin/outbox/(\d+)"', listing.text).group(1))  # type: ignore[union-attr]

    message = await browser.get(f"/admin/outbox/{outbox_id}")
    assert message.status_code == 200
    assert "You&#39;re booked: Safeguarding Adults" in message.text
    assert "METHOD:REQUEST" in message.text

    async with world.db.transaction() as s:
        await s.execute(
            update(Outbox).where(Outbox.id == outbox_id).values(status="failed", attempts=8)
        )
    failed = await browser.get("/admin/outbox?status=failed")
    assert f"/admin/outbox/{outbox_id}/requeue" in failed.text
    again = await browser.post(f"/admin/outbox/{outbox_id}/requeue")
    assert again.status_code == 303
    pending = await browser.get("/admin/outbox?status=pending")
    assert f'href="/admin/outbox/{outbox_id}"' in pending.text


async def test_calendar_feed_link_on_my_bookings_and_reset(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(
        world, capacity=3, room=RoomInput("Room 7", address="Town Hall")
    )
    lee = await support.actor(world.db, "lee@example.org")
    booked = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))

    await browser.sign_in("lee@example.org")
    mine = await browser.get("/me/bookings")
    url = re.search(r'href="https?://[^/]+(/calendar/[^"]+\.ics)"', mine.text).group(1)  # type: ignore[union-attr]
    feed = await browser.get(url)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert [str(e["UID"]).split("-date-")[0] for e in events] == [f"booking-{booked.booking.id}"]
    # Where it is, as in the emailed invitation.
    assert str(events[0]["LOCATION"]) == "Room 7, Town Hall"

    reset = await browser.post("/me/calendar-feed/reset")
    assert reset.status_code == 303
    assert (await browser.get(url)).status_code == 404
    assert (await browser.get("/calendar/not-a-token.ics")).status_code == 404
