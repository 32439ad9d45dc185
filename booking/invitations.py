"""iCalendar invitations and feeds (RFC 5545 / 5546), built with `icalendar`.

One VEVENT per session date. The UID is stable per (booking, date), so calendars update the entry
they already have instead of adding another; SEQUENCE comes from the booking and rises on every
change sent; times carry the date's own TZID with its VTIMEZONE. Cancelling sends METHOD:CANCEL
with the same UIDs. Escaping and line folding are icalendar's.

VTIMEZONEs are built here from `zoneinfo` (`vtimezone`), not by icalendar's
`add_missing_timezones`: icalendar 7.3 writes each spring onset in the local time *after* the
change (London 02:00, New York 03:00), an hour late by RFC 5545 3.6.5, so a client reading the
component itself puts the hour after the change at the wrong offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vText,
)
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


def feed(
    name: str, invites: Sequence[Invitation], *, uid: str, stamp: datetime, refresh: timedelta
) -> bytes:
    """A subscription feed (no METHOD): every current booking's dates, same UIDs as the mail.
    The same `uid`, `stamp` and invitations give the same bytes (clients poll it by ETag)."""
    events = [_event(i, d, stamp=stamp, cancelled=False) for i in invites for d in i.dates]
    cal = Calendar.new(
        uid=uid, prodid=PRODID, name=name, refresh_interval=refresh, subcomponents=events
    )
    _add_zones(cal, [d for i in invites for d in i.dates])
    return cal.to_ical()


def _add_zones(cal: Calendar, dates: Sequence[InviteDate]) -> None:
    """One VTIMEZONE per zone the dates use, covering only those dates (plus a day each side)."""
    spans: dict[str, tuple[date, date]] = {}
    for d in dates:
        first, last = d.start.date(), d.end.date()
        if d.timezone in spans:
            first, last = min(first, spans[d.timezone][0]), max(last, spans[d.timezone][1])
        spans[d.timezone] = (first, last)
    # Before the events that refer to them, as icalendar's add_missing_timezones puts them.
    cal.subcomponents[0:0] = [
        vtimezone(tzid, first - timedelta(days=1), last + timedelta(days=1))
        for tzid, (first, last) in sorted(spans.items())
    ]


# ---------------------------------------------------------------------------------------------
# VTIMEZONE from zoneinfo

_SCAN_STEP = timedelta(days=1)
# How far before the range to look for the onset of the rules in force when it starts: a zone
# with daylight saving changes at least once a year.
_LOOK_BACK = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of UTC offset (or of daylight saving or abbreviation) at an instant."""

    at: datetime  # UTC
    offset_before: timedelta
    offset_after: timedelta
    name: str  # the abbreviation after it ("BST", "-03")
    is_dst: bool  # daylight saving time after it

    @property
    def onset(self) -> datetime:
        """RFC 5545 3.6.5 DTSTART: the instant in the local time in force *before* it."""
        return (self.at + self.offset_before).replace(tzinfo=None)


def _state(tz: ZoneInfo, at: datetime) -> tuple[timedelta | None, timedelta | None, str | None]:
    local = at.astimezone(tz)
    return local.utcoffset(), local.dst(), local.tzname()


def transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[Transition]:
    """Every transition of `tz` in (start, end], UTC instants to the second.

    zoneinfo does not list its transitions, so they are found from what it answers: a day at a
    time, and where the answer changes, by bisection to the second (transitions fall on whole
    seconds; zones change at most twice a day)."""
    found: list[Transition] = []
    t = start
    state = _state(tz, t)
    while t < end:
        step = min(t + _SCAN_STEP, end)
        if _state(tz, step) == state:
            t = step
            continue
        lo, hi = int(t.timestamp()), int(step.timestamp())  # state(lo) == state != state(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _state(tz, datetime.fromtimestamp(mid, UTC)) == state:
                lo = mid
            else:
                hi = mid
        t = datetime.fromtimestamp(hi, UTC)
        new = _state(tz, t)
        found.append(
            Transition(
                at=t,
                offset_before=state[0] or timedelta(0),
                offset_after=new[0] or timedelta(0),
                name=new[2] or "",
                is_dst=bool(new[1]),
            )
        )
        state = new
    return found


def vtimezone(tzid: str, first: date, last: date) -> Timezone:
    """The VTIMEZONE of `tzid` for local times from `first` to `last`: the onset of the rules in
    force at `first` and every transition up to `last`, one STANDARD or DAYLIGHT each, with
    DTSTART in the local time before the change (RFC 5545 3.6.5)."""
    tz = ZoneInfo(tzid)
    # Local dates are within a day of UTC dates (offsets are under 24 hours).
    start = datetime.combine(first, time(), UTC) - timedelta(days=1)
    end = datetime.combine(last, time(), UTC) + timedelta(days=2)
    found = transitions(tz, start - _LOOK_BACK, end)
    earlier = [x for x in found if x.at <= start]
    onsets = earlier[-1:] + [x for x in found if x.at > start]
    if not earlier:
        # No change for a year before (a zone without daylight saving): the offset in force
        # at the start, as an onset there that changes nothing.
        offset, dst, name = _state(tz, start)
        held = Transition(
            start, offset or timedelta(0), offset or timedelta(0), name or "", bool(dst)
        )
        onsets.insert(0, held)
    zone = Timezone()
    zone.add("TZID", tzid)
    for x in onsets:
        part = TimezoneDaylight() if x.is_dst else TimezoneStandard()
        part.add("DTSTART", x.onset)
        part.add("TZOFFSETFROM", x.offset_before)
        part.add("TZOFFSETTO", x.offset_after)
        if x.name:
            part.add("TZNAME", x.name)
        zone.add_component(part)
    return zone
