"""Required learning, as pure rules: when a requirement is due, which reminder day it has
reached, when the line manager is told. Standard library only; callers pass `now`.

**Due rule.** A requirement is due `due_within_days` after the later of the person's start (their
`start_date`, at the start of that day in UTC; without one, the moment their record was created)
and the moment the requirement applied to them (the course became mandatory for them, they
joined its audience, a certification's renewal window opened). No due period: no due date.

**Reminder days** are numbered from 1, the day it applied: day d begins `d - 1` whole days after
`applied_at`, so day 1's reminder goes at once (within one worker tick). Escalation to the line
manager is on day `escalate_after_days` by the same numbering (day 28 by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

DEFAULT_REMINDER_DAYS = (1, 7, 14, 21)
DEFAULT_ESCALATE_AFTER_DAYS = 28
VIAS = ("course", "renewal", "program")


def start_moment(start_date: date | None, created_at: datetime) -> datetime:
    """When the person starts: their start date's midnight (UTC), else their record's creation."""
    if start_date is None:
        return created_at
    return datetime.combine(start_date, time(0), tzinfo=UTC)


def due_at(start: datetime, applied_at: datetime, due_within_days: int | None) -> datetime | None:
    """The later of the person's start and the day it applied, plus the due period."""
    if due_within_days is None:
        return None
    return max(start, applied_at) + timedelta(days=due_within_days)


def day_begins(applied_at: datetime, day: int) -> datetime:
    """When reminder day `day` (1 = the day it applied) begins."""
    return applied_at + timedelta(days=max(1, day) - 1)


def reminder_days(days: Sequence[int] | None) -> tuple[int, ...]:
    """The reminder days, cleaned: positive, distinct, ascending; None: the defaults."""
    if days is None:
        return DEFAULT_REMINDER_DAYS
    return tuple(sorted({int(d) for d in days if int(d) >= 1}))


def latest_reminder_day(applied_at: datetime, days: Sequence[int], now: datetime) -> int | None:
    """The latest reminder day that has begun by `now` (a worker down across several reminder
    days sends only this one), or None before the first."""
    begun = [d for d in days if day_begins(applied_at, d) <= now]
    return max(begun) if begun else None


def escalation_due(applied_at: datetime, escalate_after_days: int | None, now: datetime) -> bool:
    """Whether the line manager should have been told by `now` (never when None)."""
    return escalate_after_days is not None and day_begins(applied_at, escalate_after_days) <= now
