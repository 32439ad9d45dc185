"""One real outgoing invitation, loaded into a real CalDAV server (radicale on loopback): it is
accepted, and what comes back means the same as what was sent."""

from __future__ import annotations

import uuid

import httpx
import pytest
from icalendar import Calendar, Event

from booking import bookings
from booking.bookings import BookingRequest
from booking.config import Settings
from booking.mailer import SmtpMailer
from tests import support
from tests.notifications.conftest import Inbox
from tests.notifications.mail import deliver, invite_of

COMPARED = ("UID", "SEQUENCE", "SUMMARY", "STATUS")


def _essentials(event: Event) -> dict[str, object]:
    return {
        **{name: str(event[name]) for name in COMPARED},
        "DTSTART": (event.start, event["DTSTART"].params.get("TZID")),
        "DTEND": (event.end, event["DTEND"].params.get("TZID")),
        "ORGANIZER": str(event["ORGANIZER"]),
        "ORGANIZER_CN": str(event["ORGANIZER"].params.get("CN")),
        "ATTENDEES": sorted(str(a) for a in event.attendees),
        "ATTENDEE_CN": [str(a.params.get("CN")) for a in event.attendees],
        "DESCRIPTION": str(event["DESCRIPTION"]),
        "URL": str(event["URL"]),
    }


# The database plays no part in what the CalDAV server sees: one backend is enough here.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_radicale_accepts_the_invitation_and_returns_it_unchanged_in_meaning(
    world: support.World,
    settings: Settings,
    mailer: SmtpMailer,
    inbox: Inbox,
    radicale_url: str,
) -> None:
    session_id = await support.make_session(world)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    await deliver(world.db, world.clock, settings, mailer)
    [msg] = inbox.to("lee@example.org")
    invite = invite_of(msg)
    [sent] = invite.events

    # With --auth-type none any name signs in; signing in creates the principal /user/, which
    # MKCALENDAR needs as its parent. One calendar per test run and backend.
    collection = f"/user/cal-{uuid.uuid4().hex[:12]}/"
    async with httpx.AsyncClient(
        base_url=radicale_url, auth=("user", "unused"), timeout=10
    ) as client:
        created = await client.request("MKCALENDAR", collection)
        assert created.status_code == 201, created.text
        put = await client.put(
            collection + "booking.ics",
            content=invite.raw,
            headers={"Content-Type": "text/calendar; charset=utf-8"},
        )
        assert put.status_code in (201, 204), put.text
        got = await client.get(collection + "booking.ics")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/calendar")

    stored = Calendar.from_ical(got.content)
    [back] = stored.walk("VEVENT")
    assert _essentials(back) == _essentials(sent)
    assert back["DTSTART"].params["TZID"] == "Europe/London"
    assert [str(z["TZID"]) for z in stored.walk("VTIMEZONE")] == ["Europe/London"]
