"""Laying the demo sessions out on working days from today, in London time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.catalogue import DateInput
from booking.demo.sessions import PlannedSession

TIMEZONE = "Europe/London"
LONDON = ZoneInfo(TIMEZONE)
# Sessions are laid out over about three months of working days.
HORIZON_DAYS = 92


def plan_dates(today: date, sessions: Sequence[PlannedSession]) -> list[list[DateInput]]:
    """Each session's dates, in London time. No two sessions overlap at all, so no learner,
    room or trainer is ever in two places at once; a session that would overlap an earlier one
    moves on a working day until it fits."""
    days = working_days(today, HORIZON_DAYS + 60)
    taken: list[tuple[datetime, datetime]] = []
    planned: dict[int, list[DateInput]] = {}
    # Sessions placed around the clock change choose their dates first; the rest fit around them.
    order = sorted(range(len(sessions)), key=lambda n: not sessions[n].across_clock_change)
    for n in order:
        session = sessions[n]
        indices = list(session.days)
        if session.across_clock_change:
            indices = _across_clock_change(today, days) or indices
        while True:
            dates = [_date_input(days[i - 1], session.hours) for i in indices]
            if not any(_overlaps(d, t) for d in dates for t in taken):
                break
            indices = [i + 1 for i in indices]
        taken.extend((d.start, d.end) for d in dates)
        planned[n] = dates
    return [planned[n] for n in range(len(sessions))]


def working_days(today: date, within: int) -> list[date]:
    """The working days after today, up to `within` days ahead: no weekends, no bank holidays,
    and no training between Christmas Eve and New Year, when the council's offices close."""
    last = today + timedelta(days=within)
    holidays = {d for year in range(today.year, last.year + 1) for d in bank_holidays(year)}
    found = []
    for n in range(1, within + 1):
        day = today + timedelta(days=n)
        christmas_closure = day.month == 12 and day.day >= 24
        if day.weekday() < 5 and day not in holidays and not christmas_closure:
            found.append(day)
    return found


def bank_holidays(year: int) -> set[date]:
    """England and Wales bank holidays by the usual rules (one-off extra days aside)."""
    easter = _easter_sunday(year)
    may = date(year, 5, 1)
    early_may = may + timedelta(days=(7 - may.weekday()) % 7)
    spring = date(year, 5, 31) - timedelta(days=date(year, 5, 31).weekday())
    summer = date(year, 8, 31) - timedelta(days=date(year, 8, 31).weekday())
    days = {easter - timedelta(days=2), easter + timedelta(days=1), early_may, spring, summer}
    # New Year's Day, Christmas Day and Boxing Day move to the next free weekday at a weekend.
    for fixed in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
        day = fixed
        while day.weekday() >= 5 or day in days:
            day += timedelta(days=1)
        days.add(day)
    return days


def _easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def next_clock_change(today: date, within: int) -> date | None:
    """The first day within `within` days whose UTC offset in London differs from the day
    before (the last Sunday of March or of October)."""
    for n in range(1, within + 1):
        day = today + timedelta(days=n)
        if _offset(day) != _offset(day - timedelta(days=1)):
            return day
    return None


def _across_clock_change(today: date, days: list[date]) -> list[int] | None:
    """Three weekly dates, the first on the Tuesday before the clock change, if all three fall
    within the horizon (and not before the second working day)."""
    change = next_clock_change(today, HORIZON_DAYS)
    if change is None:
        return None
    wanted = [change - timedelta(days=5 - 7 * week) for week in range(3)]
    if wanted[-1] > today + timedelta(days=HORIZON_DAYS):
        return None
    indices = [_first_index_on_or_after(days, day) for day in wanted]
    found = [i for i in indices if i is not None]
    if len(found) != len(wanted) or found[0] < 2:
        return None
    return found


def _first_index_on_or_after(days: list[date], wanted: date) -> int | None:
    for i, day in enumerate(days, start=1):
        if day >= wanted:
            return i
    return None


def _offset(day: date) -> timedelta | None:
    return datetime.combine(day, time(12), tzinfo=LONDON).utcoffset()


def _date_input(day: date, hours: tuple[time, time]) -> DateInput:
    start, end = hours
    return DateInput(
        datetime.combine(day, start, tzinfo=LONDON),
        datetime.combine(day, end, tzinfo=LONDON),
        TIMEZONE,
    )


def _overlaps(d: DateInput, taken: tuple[datetime, datetime]) -> bool:
    return d.start < taken[1] and taken[0] < d.end
