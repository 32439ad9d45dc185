"""A session's dates as an administrator changes them: kept, moved, added or removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.catalogue.inputs import DateInput
from booking.catalogue.validation import slots_of
from booking.domain.schedule import DateSlot, make_slot
from booking.domain.states import ACTIVE
from booking.kernel.dates import local
from booking.kernel.errors import InvalidError
from booking.models import Booking, SessionDate
from booking.models import Session as SessionRow


def format_when(start: datetime, end: datetime, tz: str) -> str:
    """A date as refusals name it: "Tue 3 Mar 2026, 09:30–12:00 GMT"."""
    a, b = local(start, tz), local(end, tz)
    return f"{a:%a %-d %b %Y}, {a:%H:%M}–{b:%H:%M} {a:%Z}"


async def replace_dates(
    s: AsyncSession, session: SessionRow, dates: list[DateInput], *, now: datetime
) -> tuple[bool, list[int]]:
    """Keep the dates whose id is repeated (their invitation UIDs stay), add new ones, remove
    the rest. Returns whether anything changed and the ids of the dates removed."""
    current = {
        d.id: d
        for d in await s.scalars(
            select(SessionDate).where(
                SessionDate.session_id == session.id, SessionDate.removed_at.is_(None)
            )
        )
    }
    for d in dates:
        if d.id is not None and d.id not in current:
            raise InvalidError(f"Date {d.id} is not a date of this session.", "dates")
    new_slots = slots_of(dates)  # validates all, in order
    by_input = sorted(
        zip(
            dates,
            [make_slot(d.start, d.end, d.timezone, index=i) for i, d in enumerate(dates)],
            strict=True,
        ),
        key=lambda pair: pair[1].start,
    )
    await _refuse_dates_in_the_past(s, session, current, by_input, dates, now=now)
    removed = _remove_dates_not_kept(current, dates, now=now)
    changed = _write_dates(s, session, current, by_input) or bool(removed)
    session.starts_at = new_slots[0].start
    session.ends_at = max(x.end for x in new_slots)
    return changed, removed


def _remove_dates_not_kept(
    current: dict[int, SessionDate], dates: list[DateInput], *, now: datetime
) -> list[int]:
    kept = {d.id for d in dates if d.id is not None}
    removed: list[int] = []
    for date_id, row in current.items():
        if date_id not in kept:
            row.removed_at = now
            removed.append(date_id)
    return removed


def _write_dates(
    s: AsyncSession,
    session: SessionRow,
    current: dict[int, SessionDate],
    by_input: list[tuple[DateInput, DateSlot]],
) -> bool:
    """Move the kept dates that changed and add the new ones; whether any did."""
    changed = False
    for given, slot in by_input:
        if given.id is not None:
            row = current[given.id]
            if (row.start_at, row.end_at, row.timezone) != (slot.start, slot.end, slot.timezone):
                row.start_at, row.end_at, row.timezone = slot.start, slot.end, slot.timezone
                changed = True
        else:
            s.add(
                SessionDate(
                    session_id=session.id,
                    start_at=slot.start,
                    end_at=slot.end,
                    timezone=slot.timezone,
                )
            )
            changed = True
    return changed


async def _refuse_dates_in_the_past(
    s: AsyncSession,
    session: SessionRow,
    current: dict[int, SessionDate],
    by_input: list[tuple[DateInput, DateSlot]],
    dates: list[DateInput],
    *,
    now: datetime,
) -> None:
    """A session that people hold or wait for a place on is not moved into the past: they would
    be sent an invitation for a time that has gone. Dates already past and kept as they are do
    not count. A session run elsewhere is recorded as a new session (sign-up closed), not by
    moving one that people booked."""
    for given, slot in by_input:
        if slot.start >= now:
            continue
        if given.id is not None:
            row = current[given.id]
            if (row.start_at, row.end_at, row.timezone) == (slot.start, slot.end, slot.timezone):
                continue
        holders = await s.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.session_id == session.id, Booking.state.in_(ACTIVE))
        )
        if not holders:
            return
        index = dates.index(given)
        people = "person holds or waits for" if holders == 1 else "people hold or wait for"
        raise InvalidError(
            f"{format_when(slot.start, slot.end, slot.timezone)} is in the past, and {holders} "
            f"{people} a place on this session: choose a date still to come. To record a "
            "session run elsewhere, schedule a new one with sign-up closed.",
            f"dates[{index}].start",
        )
