"""iCalendar invitations and feeds (RFC 5545 / 5546), built with `icalendar`.

One VEVENT per session date. The UID is stable per (booking, date), so calendars update the entry
they already have instead of adding another; SEQUENCE comes from the booking and rises on every
change sent; times carry the date's own TZID with its VTIMEZONE. Cancelling sends METHOD:CANCEL
with the same UIDs. Escaping and line folding are icalendar's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText
from icalendar.enums import STATUS, TRANSP

PRODID = "-//Workshop Booking//Invitations 1.0//EN"


@dataclass(frozen=True, slots=True)
class InviteDate:
    id: int
    start: datetime  # aware
    end: datetime
    timezone: str


@dataclass(frozen=True, slots=True)
class Invitation:
    """What one learner's calendar should hold for one booking."""

    uid_prefix: str  # e.g. "booking-42"
    uid_domain: str  # e.g. "training.example.org"
    sequence: int
    summary: str
    description: str
    location: str | None
    url: str | None
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    dates: Sequence[InviteDate]

    def uid(self, date_id: int) -> str:
        return f"{self.uid_prefix}-date-{date_id}@{self.uid_domain}"


def _event(invite: Invitation, date: InviteDate, *, stamp: datetime, cancelled: bool) -> Event:
    tz = ZoneInfo(date.timezone)
    organizer = vCalAddress(f"mailto:{invite.organizer_email}")
    organizer.params["CN"] = vText(invite.organizer_name)
    attendee = vCalAddress(f"mailto:{invite.attendee_email}")
    attendee.params["CN"] = vText(invite.attendee_name)
    attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
    attendee.params["PARTSTAT"] = vText("DECLINED" if cancelled else "ACCEPTED")
    attendee.params["RSVP"] = vText("FALSE")
    event = Event.new(
        uid=invite.uid(date.id),
        sequence=invite.sequence,
        stamp=stamp,
        start=date.start.astimezone(tz),
        end=date.end.astimezone(tz),
        summary=invite.summary,
        description=invite.description,
        location=invite.location,
        url=invite.url,
        organizer=organizer,
        attendees=[attendee],
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
    )
    return event


def build(
    invite: Invitation, *, method: str, stamp: datetime, only_dates: Sequence[int] | None = None
) -> bytes:
    """The VCALENDAR for `method` REQUEST (add or update) or CANCEL (remove), every date or
    `only_dates`."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    dates = [d for d in invite.dates if only_dates is None or d.id in only_dates]
    if not dates:
        raise ValueError("an invitation needs at least one date")
    cal = Calendar.new(
        method=method,
        prodid=PRODID,
        subcomponents=[_event(invite, d, stamp=stamp, cancelled=method == "CANCEL") for d in dates],
    )
    _add_zones(cal, dates)
    return cal.to_ical()


def feed(name: str, invites: Sequence[Invitation], *, stamp: datetime, refresh: timedelta) -> bytes:
    """A subscription feed (no METHOD): every current booking's dates, same UIDs as the mail."""
    events = [_event(i, d, stamp=stamp, cancelled=False) for i in invites for d in i.dates]
    cal = Calendar.new(prodid=PRODID, name=name, refresh_interval=refresh, subcomponents=events)
    _add_zones(cal, [d for i in invites for d in i.dates])
    return cal.to_ical()


def _add_zones(cal: Calendar, dates: Sequence[InviteDate]) -> None:
    if not dates:
        return
    # Only the span of these dates: the default range (1970–2038) makes a huge VTIMEZONE.
    first = min(d.start for d in dates).date() - timedelta(days=1)
    last = max(d.end for d in dates).date() + timedelta(days=1)
    cal.add_missing_timezones(first, last)
