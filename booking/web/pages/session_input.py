"""Reading the session form into what the catalogue takes (`SessionInput`, `SessionChanges`),
a message per field instead of stopping at the first; and placing the catalogue's refusals back
on the field at fault."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from booking.catalogue import DateInput, RoomInput, SessionChanges, SessionInput
from booking.kernel.errors import ConflictError, InvalidError
from booking.kernel.views import SessionDateView, SessionView
from booking.web.pages.session_form import (
    WAITLIST_MODES,
    DateRow,
    SessionForm,
    first_zone,
    known_zones,
    row_of,
    with_another_row,
)

T = TypeVar("T")
MAX_TEXT = 2000
MAX_OVERRIDE_REASON = 500
CLASH_MARK = "override reason"  # the clash refusal ends by naming the way round it


class FormReader:
    """Turns the typed strings into values, collecting a message per field (keyed by the id of
    the input at fault) instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        # Position in the list of dates sent to the service → row of the form.
        self.rows_sent: list[int] = []

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def whole(
        self, key: str, value: str, label: str, *, default: int | None = None, minimum: int = 0
    ) -> int | None:
        if not value:
            if default is None:
                self.fail(key, f"Enter {label}.")
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(key, f"Enter {label} as a whole number, such as 12.")
            return None
        if number < minimum:
            self.fail(key, f"Enter {label} of {minimum} or more.")
            return None
        return number

    def text(self, key: str, value: str, label: str, limit: int = MAX_TEXT) -> str | None:
        if len(value) > limit:
            self.fail(key, f"{label} is limited to {limit:,} characters.")
        return value or None

    def dates(
        self, rows: list[DateRow], originals: dict[str, SessionDateView] | None = None
    ) -> list[DateInput]:
        """Filled rows, in form order; blank rows are ignored. A kept date sends its id, and an
        untouched one its exact times (even one that runs past midnight)."""
        originals = originals or {}
        found: list[DateInput] = []
        self.rows_sent = []
        for i, row in enumerate(rows):
            sent = self._date(i, row, originals.get(row.id))
            if sent is not None:
                found.append(sent)
                self.rows_sent.append(i)
        if not found and not any(
            k.startswith(("date_", "start_", "end_", "tz_")) for k in self.errors
        ):
            self.fail("dates", "Give at least one date: its day, start and end time.")
        return found

    def _date(self, i: int, row: DateRow, original: SessionDateView | None) -> DateInput | None:
        """Row `i` as the service takes it, or None (blank, removed, or at fault)."""
        n = i + 1
        if row.id and original is None:
            self.fail(f"date_{i}", f"Date {n} is not a date of this session.")
            return None
        if row.remove and original is not None:
            return None
        if row.blank:
            if original is not None:
                self.fail(f"date_{i}", f"Give the day and times of date {n}, or tick “Remove”.")
            return None
        if original is not None and row.same_time(row_of(original)):
            return DateInput(original.start, original.end, original.timezone, original.id)
        day = self._parsed(
            date.fromisoformat, row.date, f"date_{i}", f"the day of date {n}, such as 2027-03-16"
        )
        start = self._parsed(
            time.fromisoformat,
            row.start,
            f"start_{i}",
            f"the start time of date {n}, such as 09:30",
        )
        end = self._parsed(
            time.fromisoformat, row.end, f"end_{i}", f"the end time of date {n}, such as 16:30"
        )
        if row.timezone not in known_zones():
            self.fail(f"tz_{i}", f"Choose the time zone of date {n}.")
            return None
        if day is None or start is None or end is None:
            return None
        if end <= start:
            self.fail(f"end_{i}", f"Date {n} must end after it starts.")
            return None
        # Naive: wall-clock time in the row's zone (the service resolves it).
        return DateInput(
            datetime.combine(day, start),
            datetime.combine(day, end),
            row.timezone,
            original.id if original else None,
        )

    def _parsed(self, parse: Callable[[str], T], value: str, key: str, what: str) -> T | None:
        try:
            return parse(value)
        except ValueError:
            self.fail(key, f"Enter {what}.")
            return None

    def moment(self, key: str, value: str, zone: str, label: str) -> datetime | None:
        if not value:
            return None
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            self.fail(key, f"Enter when {label} as a date and time, such as 2027-03-01T09:00.")
            return None
        return local.replace(tzinfo=ZoneInfo(zone))

    def room(self, f: SessionForm) -> RoomInput | None:
        if f.room_pick:
            return self._picked_room(f)
        capacity = self.whole("room_capacity", f.room_capacity, "the room's capacity", default=-1)
        address = self.text("room_address", f.room_address, "The address", 500)
        details = self.text("room_details", f.room_details, "The room details")
        if not f.room_name:
            if f.room_address or f.room_capacity or f.room_details:
                self.fail("room_name", "Give the room's name, or leave all the room fields empty.")
            return None
        if len(f.room_name) > 200:
            self.fail("room_name", "The room's name is limited to 200 characters.")
        return RoomInput(
            f.room_name, address, None if capacity is None or capacity < 0 else capacity, details
        )

    def _picked_room(self, f: SessionForm) -> RoomInput | None:
        if f.room_name or f.room_address or f.room_capacity or f.room_details:
            self.fail("room_pick", "Choose a room from the list or type a new one, not both.")
        if not (f.room_pick.isascii() and f.room_pick.isdigit()) or len(f.room_pick) > 18:
            self.fail("room_pick", "Choose a room from the list.")
            return None
        return RoomInput("", id=int(f.room_pick))

    def choice(self, key: str, value: str, options: tuple[str, ...], message: str) -> str:
        if value not in options:
            self.fail(key, message)
        return value

    def override(self, f: SessionForm) -> str | None:
        return self.text(
            "override_reason", f.override_reason, "The override reason", MAX_OVERRIDE_REASON
        )


def emails(value: str) -> list[str]:
    return sorted({e.lower() for e in re.split(r"[\s,;]+", value) if e})


_MODES = tuple(m for m, _ in WAITLIST_MODES)
_MODE_MESSAGE = "Choose what happens when the session is full."
_STATUS_MESSAGE = "Choose whether the session is open for sign-up or a draft."


def session_input(f: SessionForm, r: FormReader) -> SessionInput:
    zone = first_zone(f.dates)
    dates = r.dates(f.dates)
    capacity = r.whole("capacity", f.capacity, "the number of places")
    room = r.room(f)
    link = r.text("virtual_link", f.virtual_link, "The joining link")
    # A radio group always sends one value; an absent one (a hand-made post) takes the default.
    mode = r.choice("waitlist_mode", f.waitlist_mode or "auto", _MODES, _MODE_MESSAGE)
    offer_hours = r.whole("offer_hours", f.offer_hours, "the hours an offer is held", default=24)
    opens = r.moment("signup_opens", f.signup_opens, zone, "sign-up opens")
    closes = r.moment("signup_closes", f.signup_closes, zone, "sign-up closes")
    minimum = r.whole("min_bookings", f.min_bookings, "the minimum bookings", default=0)
    status = r.choice("status", f.status or "open", ("open", "draft"), _STATUS_MESSAGE)
    if f.invite and status == "draft":
        r.fail("invite", "Learners can only be invited to an open session: choose “Open”.")
    return SessionInput(
        dates=dates,
        capacity=capacity or 0,
        room=room,
        virtual_link=link,
        facilitators=emails(f.facilitators),
        waitlist_mode=mode,
        offer_hours=offer_hours or 24,
        signup_opens=opens,
        signup_closes=closes,
        min_bookings=minimum or 0,
        status=status,
        auto_cancel_below_min=f.auto_cancel == "yes",
        override_reason=r.override(f),
    )


def session_changes(
    sent: SessionForm, initial: SessionForm, s: SessionView, r: FormReader
) -> tuple[SessionChanges, list[str]]:
    """Only the fields that differ from the session as it is now: an unchanged date keeps its
    exact times, and a change of capacity alone does not resend everyone's invitation."""
    changes: dict[str, Any] = {}
    originals = {str(d.id): d for d in s.dates}
    zone = first_zone(sent.dates)
    kept = {row.id: row for row in sent.dates if row.id}
    dates_changed = (
        set(kept) != set(originals)
        or any(
            row.remove or not row.same_time(row_of(originals[i]))
            for i, row in kept.items()
            if i in originals
        )
        or any(not row.blank for row in sent.dates if not row.id)
    )
    if dates_changed:
        changes["dates"] = r.dates(sent.dates, originals)
    if sent.capacity != initial.capacity:
        changes["capacity"] = r.whole("capacity", sent.capacity, "the number of places")
    room_fields = ("room_pick", "room_name", "room_address", "room_capacity", "room_details")
    if any(getattr(sent, a) != getattr(initial, a) for a in room_fields):
        changes["room"] = r.room(sent)
    if sent.virtual_link != initial.virtual_link:
        changes["virtual_link"] = r.text("virtual_link", sent.virtual_link, "The joining link")
    if emails(sent.facilitators) != emails(initial.facilitators):
        changes["facilitators"] = emails(sent.facilitators)
    if sent.waitlist_mode and sent.waitlist_mode != initial.waitlist_mode:
        changes["waitlist_mode"] = r.choice(
            "waitlist_mode", sent.waitlist_mode, _MODES, _MODE_MESSAGE
        )
    if sent.offer_hours != initial.offer_hours:
        changes["offer_hours"] = r.whole(
            "offer_hours", sent.offer_hours, "the hours an offer is held"
        )
    if sent.signup_opens != initial.signup_opens:
        changes["signup_opens"] = r.moment("signup_opens", sent.signup_opens, zone, "sign-up opens")
    # New dates recompute the default close unless a close is given: always say which.
    if sent.signup_closes != initial.signup_closes or dates_changed:
        changes["signup_closes"] = r.moment(
            "signup_closes", sent.signup_closes, zone, "sign-up closes"
        )
    if sent.min_bookings != initial.min_bookings:
        changes["min_bookings"] = r.whole("min_bookings", sent.min_bookings, "the minimum bookings")
    if sent.auto_cancel in ("yes", "no"):
        changes["auto_cancel_below_min"] = sent.auto_cancel == "yes"
    if sent.status and sent.status != initial.status:
        changes["status"] = r.choice("status", sent.status, ("open", "draft"), _STATUS_MESSAGE)
    override = r.override(sent)
    return SessionChanges(**changes, override_reason=override), list(changes)


# ---------------------------------------------------------------------------------------------
# Refusals from the services, placed on the form

_SERVICE_FIELDS = {
    "capacity": "capacity",
    "waitlist_mode": "waitlist_mode",
    "offer_hours": "offer_hours",
    "min_bookings": "min_bookings",
    "status": "status",
    "signup_opens": "signup_opens",
    "signup_closes": "signup_closes",
    "facilitators": "facilitators",
    "room": "room_name",
    "room_id": "room_pick",
    "dates": "dates",
}
_DATE_FIELD = re.compile(r"dates\[(\d+)\]\.(start|end)")


def place_invalid(exc: InvalidError, rows_sent: list[int]) -> dict[str, str]:
    name = exc.field or ""
    match = _DATE_FIELD.fullmatch(name)
    if match and int(match.group(1)) < len(rows_sent):
        return {f"{match.group(2)}_{rows_sent[int(match.group(1))]}": exc.detail}
    return {_SERVICE_FIELDS.get(name, "form"): exc.detail}


def place_conflict(exc: ConflictError) -> dict[str, str]:
    if CLASH_MARK in exc.detail:
        return {"override_reason": exc.detail}
    if exc.detail.startswith("Capacity"):
        return {"capacity": exc.detail}
    return {"form": exc.detail}


@dataclass(slots=True)
class FormAgain:
    """The form shown again as sent: `status` 200 with one more date row (`focus_row`), 422 for
    input refused, 409 for a clash; `errors` keyed by the input at fault."""

    status: int
    errors: dict[str, str]
    rows: list[DateRow]
    focus_row: int | None = None


def shown_again(again: FormAgain | None) -> dict[str, Any]:
    """The form page's status, errors and focused row: a first showing, or shown `again`."""
    if again is None:
        return {"status_code": 200, "errors": {}, "focus_row": None}
    return {"status_code": again.status, "errors": again.errors, "focus_row": again.focus_row}


async def submit(
    raw: dict[str, str], rows: list[DateRow], reader: FormReader, save: Callable[[], Awaitable[T]]
) -> T | FormAgain:
    """A sent session form: another date row asked for, the reader's refusals, or `save`'s
    answer, its refusals placed back on the field at fault."""
    if "add_date" in raw:
        rows, focus_row = with_another_row(rows)
        return FormAgain(200, {}, rows, focus_row)
    if reader.errors:
        return FormAgain(422, reader.errors, rows)
    try:
        return await save()
    except InvalidError as exc:
        return FormAgain(422, place_invalid(exc, reader.rows_sent), rows)
    except ConflictError as exc:
        return FormAgain(409, place_conflict(exc), rows)
