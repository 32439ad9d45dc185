"""Reading what the SMTP server received: MIME parts and the invitations inside them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import vobject
from icalendar import Calendar, Event

from booking import notifications
from booking.clock import FixedClock
from booking.config import Settings
from booking.db import Database
from booking.mailer import Mailer


async def deliver(
    db: Database, clock: FixedClock, settings: Settings, mailer: Mailer
) -> notifications.DeliveryReport:
    report = await notifications.deliver_due(db, clock, settings, mailer)
    assert report.failed == 0, report
    return report


def content_types(msg: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in msg.walk()]


def calendar_part(msg: EmailMessage) -> EmailMessage | None:
    """The text/calendar alternative (not the attachment)."""
    found = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(found) <= 1, content_types(msg)
    return found[0] if found else None


def ics_attachment(msg: EmailMessage) -> EmailMessage | None:
    found = [p for p in msg.iter_attachments() if p.get_filename() == "invite.ics"]
    assert len(found) <= 1
    return found[0] if found else None


def ics_bytes(msg: EmailMessage) -> bytes:
    part = calendar_part(msg)
    assert part is not None, f"no calendar part in {content_types(msg)}"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


@dataclass
class Invite:
    """One invitation, read with icalendar and cross-checked with vobject."""

    raw: bytes
    calendar: Calendar
    events: list[Event]
    vobj: Any

    @property
    def method(self) -> str:
        return str(self.calendar["METHOD"])

    def uids(self) -> list[str]:
        return [str(e["UID"]) for e in self.events]

    def sequences(self) -> list[int]:
        return [int(e["SEQUENCE"]) for e in self.events]

    def by_uid(self) -> dict[str, Event]:
        return {str(e["UID"]): e for e in self.events}


def read_invite(raw: bytes) -> Invite:
    calendar = Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    vobj = vobject.readOne(raw.decode("utf-8"))
    # The second parser must agree on the method, the events and their UIDs and sequences.
    assert vobj.method.value == str(calendar["METHOD"])
    v_events = vobj.contents.get("vevent", [])
    assert [e.uid.value for e in v_events] == [str(e["UID"]) for e in events]
    assert [int(e.sequence.value) for e in v_events] == [int(e["SEQUENCE"]) for e in events]
    for v_event, event in zip(v_events, events, strict=True):
        assert v_event.dtstart.value == event.start
        assert v_event.dtend.value == event.end
    return Invite(raw, calendar, events, vobj)


def invite_of(msg: EmailMessage) -> Invite:
    invite = read_invite(ics_bytes(msg))
    part = calendar_part(msg)
    assert part is not None
    # The MIME method parameter equals the calendar's METHOD.
    assert part.get_param("method") == invite.method
    attachment = ics_attachment(msg)
    assert attachment is not None, "no invite.ics attachment"
    assert attachment.get_payload(decode=True) == invite.raw
    return invite


def vevent_property_names(raw: bytes) -> list[list[str]]:
    """The property names of each VEVENT, read from the raw text (unfolded, repeats kept): an
    injected line would show up here as a property of its own."""
    text = raw.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    events: list[list[str]] = []
    current: list[str] | None = None
    for line in text.split("\r\n"):
        name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
        if line == "BEGIN:VEVENT":
            current = []
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is not None:
            current.append(name)
    return events
