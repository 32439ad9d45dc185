"""Session dates, sign-up windows and the status a session shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_SIGNUP_CLOSES_BEFORE = timedelta(hours=24)
MAX_DATE_LENGTH = timedelta(hours=24)


class ScheduleError(ValueError):
    """A date or window that cannot be: the message is a sentence for a person."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class DateSlot:
    """One date of a session: start and end as aware datetimes, shown in `timezone`."""

    start: datetime
    end: datetime
    timezone: str

    def overlaps(self, other: DateSlot) -> bool:
        # A session ending exactly when another starts does not clash.
        return self.start < other.end and other.start < self.end


def zone(name: str) -> ZoneInfo:
    if not name or name not in _known_zones():
        raise ScheduleError(f"“{name}” is not a known IANA time zone, such as Europe/London.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - guarded above
        raise ScheduleError(f"“{name}” is not a known IANA time zone.") from exc


_ZONES: frozenset[str] | None = None


def _known_zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def make_slot(start: datetime, end: datetime, timezone: str, *, index: int = 0) -> DateSlot:
    """Validate one date. Naive datetimes are read as wall-clock time in `timezone`."""
    tz = zone(timezone)
    label = f"date {index + 1}"
    start = _aware(start, tz)
    end = _aware(end, tz)
    if end <= start:
        raise ScheduleError(f"The end of {label} must be after its start.", f"dates[{index}].end")
    if end - start > MAX_DATE_LENGTH:
        raise ScheduleError(
            f"{label.capitalize()} lasts more than 24 hours; give each day as its own date.",
            f"dates[{index}].end",
        )
    return DateSlot(start.astimezone(UTC), end.astimezone(UTC), timezone)


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        # fold=0: in the repeated autumn hour take the first (summer-time) instant.
        return value.replace(tzinfo=tz)
    return value


def validate_dates(slots: Sequence[DateSlot]) -> list[DateSlot]:
    if not slots:
        raise ScheduleError("A session needs at least one date.", "dates")
    ordered = sorted(slots, key=lambda s: s.start)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.overlaps(later):
            raise ScheduleError("Two dates of this session overlap.", "dates")
    return ordered


def validate_capacity(capacity: int) -> None:
    if capacity < 0:
        raise ScheduleError("Capacity cannot be negative.", "capacity")
    if capacity > 100_000:
        raise ScheduleError("Capacity is implausibly large (more than 100,000).", "capacity")


def signup_window(
    first_start: datetime, opens: datetime | None, closes: datetime | None
) -> tuple[datetime | None, datetime]:
    """The sign-up window; closes 24 hours before the first date unless told otherwise."""
    if closes is None:
        closes = first_start - DEFAULT_SIGNUP_CLOSES_BEFORE
    if opens is not None and closes is not None and opens >= closes:
        raise ScheduleError("Sign-up must open before it closes.", "signup_opens")
    if closes > first_start:
        raise ScheduleError("Sign-up cannot close after the session has started.", "signup_closes")
    return opens, closes


@dataclass(frozen=True, slots=True)
class SeatCounts:
    capacity: int
    held: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.held)


def session_status(
    *,
    stored: str,
    starts_at: datetime,
    ends_at: datetime,
    signup_opens: datetime | None,
    signup_closes: datetime | None,
    seats: SeatCounts,
    now: datetime,
) -> str:
    """draft, cancelled (stored); over, in_progress (clock); closed (window); full; open."""
    if stored in ("draft", "cancelled"):
        return stored
    if now >= ends_at:
        return "over"
    if now >= starts_at:
        return "in_progress"
    if (signup_closes is not None and now >= signup_closes) or (
        signup_opens is not None and now < signup_opens
    ):
        return "closed"
    if seats.free == 0:
        return "full"
    return "open"
