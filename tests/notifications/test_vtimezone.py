"""The VTIMEZONE sent with invitations and feeds says what the zone database says, at every
transition in the session's years, when a client reads the component itself (not the TZID).

RFC 5545 3.6.5: an onset (DTSTART) is in the local time in force *before* the change, with
TZOFFSETFROM the offset before it ("DTSTART:19870405T020000", "TZOFFSETFROM:-0500" for New
York's spring change at 2 AM EST)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import dateutil.tz
import pytest
from icalendar import Calendar, Timezone

from booking import invitations

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere: summer time across the new year
    "Asia/Kolkata",  # no daylight saving
    "Pacific/Chatham",  # +12:45 / +13:45
    "Australia/Lord_Howe",  # half-hour daylight saving
    "America/Sao_Paulo",  # daylight saving abolished in 2019
]
YEARS = (2026, 2028)
# (zone, first year, last year, transitions in them)
CASES = [
    *((tzid, *YEARS, 0 if tzid in ("Asia/Kolkata", "America/Sao_Paulo") else 6) for tzid in ZONES),
    # Across the end of Brazil's daylight saving (its last change was February 2019).
    ("America/Sao_Paulo", 2017, 2020, 5),
]
QUARTER = timedelta(minutes=15)


def _invite(tzid: str, first: date, last: date) -> invitations.Invitation:
    tz = ZoneInfo(tzid)
    dates = [
        invitations.InviteDate(
            i,
            datetime(d.year, d.month, d.day, 9, 30, tzinfo=tz),
            datetime(d.year, d.month, d.day, 12, 30, tzinfo=tz),
            tzid,
        )
        for i, d in enumerate((first, last), 1)
    ]
    return invitations.Invitation(
        uid_prefix="booking-1",
        uid_domain="training.example.org",
        sequence=0,
        summary="Course",
        description="Course",
        location=None,
        url=None,
        organizer_email="training@example.org",
        organizer_name="Training team",
        attendee_email="lee@example.org",
        attendee_name="Lee Learner",
        dates=dates,
    )


def _our_vtimezone(tzid: str, years: tuple[int, int] = YEARS) -> Timezone:
    """The VTIMEZONE of an invitation whose dates span `years` (first to last day)."""
    raw = invitations.build(
        _invite(tzid, date(years[0], 1, 1), date(years[1], 12, 31)),
        method="REQUEST",
        stamp=datetime(2025, 12, 1, tzinfo=UTC),
    )
    [zone] = Calendar.from_ical(raw).walk("VTIMEZONE")
    assert str(zone["TZID"]) == tzid
    assert isinstance(zone, Timezone)
    return zone


def _text(value: object) -> str:
    raw = value.to_ical()  # type: ignore[attr-defined]
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def _readers(zone: Timezone) -> dict[str, tzinfo]:
    """Our VTIMEZONE as two clients read it, neither looking the TZID up in a database."""
    tzical = dateutil.tz.tzical(io.StringIO(zone.to_ical().decode("utf-8")))
    return {
        "icalendar": zone.to_tz(lookup_tzid=False),
        "dateutil.tzical": tzical.get(str(zone["TZID"])),
    }


def zone_transitions(tz: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """The instants at which zoneinfo's offset changes, found on a 15-minute UTC grid (every
    transition in these zones and years is on it: checked by the second before it)."""
    t = start
    before = t.astimezone(tz).utcoffset()
    while t < end:
        t += QUARTER
        now = t.astimezone(tz).utcoffset()
        if now != before:
            assert (t - timedelta(seconds=1)).astimezone(tz).utcoffset() == before
            yield t
        before = now


def _offset_at(tz: tzinfo) -> Callable[[datetime], timedelta | None]:
    return lambda instant: instant.astimezone(tz).utcoffset()


@pytest.mark.parametrize(("tzid", "first", "last", "count"), CASES)
def test_our_vtimezone_agrees_with_zoneinfo_around_every_transition(
    tzid: str, first: int, last: int, count: int
) -> None:
    zone = _our_vtimezone(tzid, (first, last))
    truth = ZoneInfo(tzid)
    start = datetime(first, 1, 1, tzinfo=UTC)
    end = datetime(last + 1, 1, 1, tzinfo=UTC)
    changes = list(zone_transitions(truth, start, end))
    assert len(changes) == count
    probes = [
        c + d
        for c in changes
        for d in (
            -timedelta(hours=1),
            -timedelta(seconds=1),
            timedelta(0),
            timedelta(seconds=1),
            timedelta(minutes=30),
            timedelta(hours=1),
        )
    ]
    # And twice a day across the whole span, in case of a transition that is not there.
    probes += [start + timedelta(hours=12 * i) for i in range(2 * 366 * (last - first + 1))]
    for reader, ours in _readers(zone).items():
        wrong = [
            (p.isoformat(), str(_offset_at(ours)(p)), str(_offset_at(truth)(p)))
            for p in probes
            if _offset_at(ours)(p) != _offset_at(truth)(p)
        ]
        assert wrong == [], (reader, wrong[:6])


def test_onsets_are_in_the_local_time_before_the_change() -> None:
    """The RFC's own New York example, and London: spring forward at 01:00 GMT."""
    new_york = _our_vtimezone("America/New_York")
    london = _our_vtimezone("Europe/London")

    def onsets(zone: Timezone, kind: str) -> list[tuple[str, str, str]]:
        return [
            (
                _text(c["DTSTART"]),
                _text(c["TZOFFSETFROM"]),
                _text(c["TZOFFSETTO"]),
            )
            for c in zone.walk(kind)
        ]

    assert ("20270314T020000", "-0500", "-0400") in onsets(new_york, "DAYLIGHT")
    assert ("20271107T020000", "-0400", "-0500") in onsets(new_york, "STANDARD")
    assert ("20270328T010000", "+0000", "+0100") in onsets(london, "DAYLIGHT")
    assert ("20271031T020000", "+0100", "+0000") in onsets(london, "STANDARD")


def test_the_vtimezone_covers_only_the_sessions_span() -> None:
    """A session in March 2027 carries the onset in force then and the change it spans, not
    decades of rules."""
    raw = invitations.build(
        _invite("Europe/London", date(2027, 3, 26), date(2027, 3, 30)),
        method="REQUEST",
        stamp=datetime(2027, 3, 1, tzinfo=UTC),
    )
    [zone] = Calendar.from_ical(raw).walk("VTIMEZONE")
    starts = [_text(c["DTSTART"]) for c in zone.subcomponents]
    assert starts == ["20261025T020000", "20270328T010000"]


def test_a_zone_without_changes_still_has_one_observance() -> None:
    zone = _our_vtimezone("Asia/Kolkata")
    [standard] = zone.subcomponents
    assert standard.name == "STANDARD"
    assert _text(standard["TZOFFSETFROM"]) == "+0530"
    assert _text(standard["TZOFFSETTO"]) == "+0530"
