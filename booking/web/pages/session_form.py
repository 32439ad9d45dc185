"""The administrators' session form as typed: its date rows and fields (strings), read from a
post or filled in from an existing session, and the "Add a date row" button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from booking.catalogue import RoomChoice
from booking.domain.schedule import DEFAULT_SIGNUP_CLOSES_BEFORE
from booking.kernel.views import SessionDateView, SessionView

DEFAULT_ZONE = "Europe/London"
# The zones offered first; any other IANA zone a session already uses is added to its select.
TIMEZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Athens",
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
FIRST_ROWS = 3  # date rows a new form shows
MAX_NEW_ROWS = 5  # rows the "Add a date row" button goes up to (beyond a session's own dates)
MAX_ROWS_READ = 50  # a hand-made post cannot make the server read more
WAITLIST_MODES = (
    ("auto", "Book the next person automatically"),
    ("offer", "Offer the place to the next person for a set time"),
    ("off", "No waiting list"),
)


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@dataclass(slots=True)
class DateRow:
    """One date row as the form shows it. An existing date keeps its id, so its calendar
    invitations are updated rather than cancelled and sent again."""

    date: str = ""
    start: str = ""
    end: str = ""
    timezone: str = DEFAULT_ZONE
    id: str = ""
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not (self.date or self.start or self.end)

    def same_time(self, other: DateRow) -> bool:
        return (self.date, self.start, self.end, self.timezone) == (
            other.date,
            other.start,
            other.end,
            other.timezone,
        )


@dataclass(slots=True)
class SessionForm:
    dates: list[DateRow]
    capacity: str = ""
    # A room picked from those on file (its id), or "" for none or one typed in the fields below.
    room_pick: str = ""
    room_name: str = ""
    room_address: str = ""
    room_capacity: str = ""
    room_details: str = ""
    virtual_link: str = ""
    facilitators: str = ""
    waitlist_mode: str = "auto"
    offer_hours: str = "24"
    signup_opens: str = ""
    signup_closes: str = ""
    min_bookings: str = "0"
    # New session: "yes" or "". Changing one: "" leaves the setting as it is, "yes" or "no".
    auto_cancel: str = ""
    status: str = "open"
    override_reason: str = ""
    invite: bool = False

    @property
    def zones(self) -> list[str]:
        """The zones each date row offers: the usual ones, and any other a date already has."""
        return [*TIMEZONES, *sorted({r.timezone for r in self.dates} - set(TIMEZONES))]


def blank_rows(n: int, zone: str = DEFAULT_ZONE) -> list[DateRow]:
    return [DateRow(timezone=zone) for _ in range(n)]


def read_rows(form: dict[str, str]) -> list[DateRow]:
    try:
        count = int(form.get("date_rows", ""))
    except ValueError:
        count = FIRST_ROWS
    rows = []
    for i in range(max(1, min(count, MAX_ROWS_READ))):
        rows.append(
            DateRow(
                date=form.get(f"date_{i}", "").strip(),
                start=form.get(f"start_{i}", "").strip(),
                end=form.get(f"end_{i}", "").strip(),
                timezone=form.get(f"tz_{i}", "").strip() or DEFAULT_ZONE,
                id=form.get(f"date_id_{i}", "").strip(),
                remove=form.get(f"remove_{i}") == "yes",
            )
        )
    return rows


def read_form(form: dict[str, str]) -> SessionForm:
    def text(name: str, default: str = "") -> str:
        return form.get(name, default).strip()

    return SessionForm(
        dates=read_rows(form),
        capacity=text("capacity"),
        room_pick=text("room_pick"),
        room_name=text("room_name"),
        room_address=text("room_address"),
        room_capacity=text("room_capacity"),
        room_details=text("room_details"),
        virtual_link=text("virtual_link"),
        facilitators=text("facilitators"),
        waitlist_mode=text("waitlist_mode"),
        offer_hours=text("offer_hours"),
        signup_opens=text("signup_opens"),
        signup_closes=text("signup_closes"),
        min_bookings=text("min_bookings"),
        auto_cancel=text("auto_cancel"),
        status=text("status"),
        override_reason=text("override_reason"),
        invite=form.get("invite") == "yes",
    )


def _local_input(value: datetime | None, zone: str) -> str:
    """An instant as a datetime-local field shows it, in the session's zone."""
    return "" if value is None else value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def row_of(d: SessionDateView) -> DateRow:
    return DateRow(
        date=d.start.date().isoformat(),
        start=f"{d.start:%H:%M}",
        end=f"{d.end:%H:%M}",
        timezone=d.timezone,
        id=str(d.id),
    )


def form_of(s: SessionView) -> SessionForm:
    """An existing session, as its edit form starts."""
    zone = s.dates[0].timezone if s.dates else DEFAULT_ZONE
    rows = [row_of(d) for d in s.dates]
    rows += blank_rows(max(1, FIRST_ROWS - len(rows)), zone)
    # Left empty when it is the default, so that moving the dates moves it too.
    default_closes = s.dates[0].start - DEFAULT_SIGNUP_CLOSES_BEFORE if s.dates else None
    closes = "" if s.signup_closes == default_closes else _local_input(s.signup_closes, zone)
    room = s.room
    return SessionForm(
        dates=rows,
        capacity=str(s.capacity),
        room_name=room.name if room else "",
        room_address=(room.address or "") if room else "",
        room_capacity=str(room.capacity) if room and room.capacity is not None else "",
        room_details=(room.details or "") if room else "",
        virtual_link=s.virtual_link or "",
        facilitators=", ".join(s.facilitators),
        waitlist_mode=s.waitlist_mode,
        offer_hours=str(s.offer_hours),
        signup_opens=_local_input(s.signup_opens, zone),
        signup_closes=closes,
        min_bookings=str(s.min_bookings),
        auto_cancel="",
        status="draft" if s.status == "draft" else "open",
    )


def with_picked_room(form: SessionForm, rooms: list[RoomChoice]) -> SessionForm:
    """A session's form shows its room picked in the list (when the list has it) rather than
    typed: its details are changed on the room's own page."""
    picked = next((r for r in rooms if r.name == form.room_name), None)
    if picked is not None:
        form.room_pick = str(picked.id)
        form.room_name = form.room_address = form.room_capacity = form.room_details = ""
    return form


def first_zone(rows: list[DateRow]) -> str:
    for row in rows:
        if not row.blank and not row.remove and row.timezone in known_zones():
            return row.timezone
    return DEFAULT_ZONE


def row_limit(rows: list[DateRow]) -> int:
    return max(MAX_NEW_ROWS, sum(1 for r in rows if r.id) + 1)


def with_another_row(rows: list[DateRow]) -> tuple[list[DateRow], int | None]:
    """The "Add a date row" button: the form comes back as sent, with one more empty row."""
    if len(rows) >= row_limit(rows):
        return rows, None
    return [*rows, DateRow(timezone=first_zone(rows))], len(rows)
