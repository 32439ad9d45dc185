"""Administrators' session pages: schedule, change, copy and cancel sessions, and the
waiting-list demand shown on a course page.

Plain forms that work without JavaScript. A refusal shows the form again exactly as it was sent,
each message tied to its field, with nothing changed: 422 for input the rules refuse, 409 for a
clash with another session or with the places already held. Success redirects (303) to the
course page with a flash message. The services decide who may act; the pages ask the same policy
first only so that nobody but an administrator is shown a form (403, on the error page)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect

from booking import catalogue, policy, roster
from booking.catalogue import DateInput, RoomInput, SessionChanges, SessionInput
from booking.clock import Clock
from booking.db import Database
from booking.domain.schedule import DEFAULT_SIGNUP_CLOSES_BEFORE
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError
from booking.kernel.views import SessionDateView, SessionView
from booking.web.deps import provide_page_actor
from booking.web.pages import VARY_HTMX, date_range, flash, is_htmx, page, partial

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
MAX_TEXT = 2000
MAX_OVERRIDE_REASON = 500
WAITLIST_MODES = (
    ("auto", "Book the next person automatically"),
    ("offer", "Offer the place to the next person for a set time"),
    ("off", "No waiting list"),
)
CLASH_MARK = "override reason"  # the clash refusal ends by naming the way round it


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


# ---------------------------------------------------------------------------------------------
# The form as typed (strings), and reading it into service inputs


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


def _blank_rows(n: int, zone: str = DEFAULT_ZONE) -> list[DateRow]:
    return [DateRow(timezone=zone) for _ in range(n)]


def _read_rows(form: dict[str, str]) -> list[DateRow]:
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


def _read_form(form: dict[str, str]) -> SessionForm:
    def text(name: str, default: str = "") -> str:
        return form.get(name, default).strip()

    return SessionForm(
        dates=_read_rows(form),
        capacity=text("capacity"),
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


def _row_of(d: SessionDateView) -> DateRow:
    return DateRow(
        date=d.start.date().isoformat(),
        start=f"{d.start:%H:%M}",
        end=f"{d.end:%H:%M}",
        timezone=d.timezone,
        id=str(d.id),
    )


def _form_of(s: SessionView) -> SessionForm:
    """An existing session, as its edit form starts."""
    zone = s.dates[0].timezone if s.dates else DEFAULT_ZONE
    rows = [_row_of(d) for d in s.dates]
    rows += _blank_rows(max(1, FIRST_ROWS - len(rows)), zone)
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


class _Reader:
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
            n = i + 1
            original = originals.get(row.id)
            if row.id and original is None:
                self.fail(f"date_{i}", f"Date {n} is not a date of this session.")
                continue
            if row.remove and original is not None:
                continue
            if row.blank:
                if original is not None:
                    self.fail(f"date_{i}", f"Give the day and times of date {n}, or tick “Remove”.")
                continue
            if original is not None and row.same_time(_row_of(original)):
                found.append(
                    DateInput(original.start, original.end, original.timezone, original.id)
                )
                self.rows_sent.append(i)
                continue
            day = start = end = None
            try:
                day = date.fromisoformat(row.date)
            except ValueError:
                self.fail(f"date_{i}", f"Enter the day of date {n}, such as 2027-03-16.")
            try:
                start = time.fromisoformat(row.start)
            except ValueError:
                self.fail(f"start_{i}", f"Enter the start time of date {n}, such as 09:30.")
            try:
                end = time.fromisoformat(row.end)
            except ValueError:
                self.fail(f"end_{i}", f"Enter the end time of date {n}, such as 16:30.")
            if row.timezone not in _known_zones():
                self.fail(f"tz_{i}", f"Choose the time zone of date {n}.")
                continue
            if day is None or start is None or end is None:
                continue
            if end <= start:
                self.fail(f"end_{i}", f"Date {n} must end after it starts.")
                continue
            # Naive: wall-clock time in the row's zone (the service resolves it).
            found.append(
                DateInput(
                    datetime.combine(day, start),
                    datetime.combine(day, end),
                    row.timezone,
                    original.id if original else None,
                )
            )
            self.rows_sent.append(i)
        if not found and not any(
            k.startswith(("date_", "start_", "end_", "tz_")) for k in self.errors
        ):
            self.fail("dates", "Give at least one date: its day, start and end time.")
        return found

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

    def choice(self, key: str, value: str, options: tuple[str, ...], message: str) -> str:
        if value not in options:
            self.fail(key, message)
        return value

    def override(self, f: SessionForm) -> str | None:
        return self.text(
            "override_reason", f.override_reason, "The override reason", MAX_OVERRIDE_REASON
        )


def _emails(value: str) -> list[str]:
    return sorted({e.lower() for e in re.split(r"[\s,;]+", value) if e})


def _first_zone(rows: list[DateRow]) -> str:
    for row in rows:
        if not row.blank and not row.remove and row.timezone in _known_zones():
            return row.timezone
    return DEFAULT_ZONE


_MODES = tuple(m for m, _ in WAITLIST_MODES)
_MODE_MESSAGE = "Choose what happens when the session is full."
_STATUS_MESSAGE = "Choose whether the session is open for sign-up or a draft."


def _session_input(f: SessionForm, r: _Reader) -> SessionInput:
    zone = _first_zone(f.dates)
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
        facilitators=_emails(f.facilitators),
        waitlist_mode=mode,
        offer_hours=offer_hours or 24,
        signup_opens=opens,
        signup_closes=closes,
        min_bookings=minimum or 0,
        status=status,
        auto_cancel_below_min=f.auto_cancel == "yes",
        override_reason=r.override(f),
    )


def _session_changes(
    sent: SessionForm, initial: SessionForm, s: SessionView, r: _Reader
) -> tuple[SessionChanges, list[str]]:
    """Only the fields that differ from the session as it is now: an unchanged date keeps its
    exact times, and a change of capacity alone does not resend everyone's invitation."""
    changes: dict[str, Any] = {}
    originals = {str(d.id): d for d in s.dates}
    zone = _first_zone(sent.dates)
    kept = {row.id: row for row in sent.dates if row.id}
    dates_changed = (
        set(kept) != set(originals)
        or any(
            row.remove or not row.same_time(_row_of(originals[i]))
            for i, row in kept.items()
            if i in originals
        )
        or any(not row.blank for row in sent.dates if not row.id)
    )
    if dates_changed:
        changes["dates"] = r.dates(sent.dates, originals)
    if sent.capacity != initial.capacity:
        changes["capacity"] = r.whole("capacity", sent.capacity, "the number of places")
    room_fields = ("room_name", "room_address", "room_capacity", "room_details")
    if any(getattr(sent, a) != getattr(initial, a) for a in room_fields):
        changes["room"] = r.room(sent)
    if sent.virtual_link != initial.virtual_link:
        changes["virtual_link"] = r.text("virtual_link", sent.virtual_link, "The joining link")
    if _emails(sent.facilitators) != _emails(initial.facilitators):
        changes["facilitators"] = _emails(sent.facilitators)
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
    "dates": "dates",
}
_DATE_FIELD = re.compile(r"dates\[(\d+)\]\.(start|end)")


def _place_invalid(exc: InvalidError, rows_sent: list[int]) -> dict[str, str]:
    name = exc.field or ""
    match = _DATE_FIELD.fullmatch(name)
    if match and int(match.group(1)) < len(rows_sent):
        return {f"{match.group(2)}_{rows_sent[int(match.group(1))]}": exc.detail}
    return {_SERVICE_FIELDS.get(name, "form"): exc.detail}


def _place_conflict(exc: ConflictError) -> dict[str, str]:
    if CLASH_MARK in exc.detail:
        return {"override_reason": exc.detail}
    if exc.detail.startswith("Capacity"):
        return {"capacity": exc.detail}
    return {"form": exc.detail}


# ---------------------------------------------------------------------------------------------
# Pages


def _only_administrators(actor: Actor) -> None:
    # The services refuse everyone else too; asking first keeps the forms to administrators.
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can manage sessions.")


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _course_page(course_id: int) -> Redirect:
    return Redirect(path=f"/courses/{course_id}", status_code=303)


def _row_limit(rows: list[DateRow]) -> int:
    return max(MAX_NEW_ROWS, sum(1 for r in rows if r.id) + 1)


def _with_another_row(rows: list[DateRow]) -> tuple[list[DateRow], int | None]:
    """The "Add a date row" button: the form comes back as sent, with one more empty row."""
    if len(rows) >= _row_limit(rows):
        return rows, None
    return [*rows, DateRow(timezone=_first_zone(rows))], len(rows)


def _when(view: SessionView) -> str:
    return date_range(view.dates[0]) if view.dates else "a date to be confirmed"


@get("/admin/courses/{course_id:int}/sessions/new", include_in_schema=False)
async def new_session_form(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    course_id: int,
    invite: bool = False,
) -> Response[Any]:
    _only_administrators(actor)
    demand = await roster.course_demand(db, clock, actor, course_id)
    return _session_page(
        request,
        actor,
        mode="new",
        course_id=course_id,
        course_title=demand.course_title,
        waiting=demand.waiting_learners,
        form=SessionForm(dates=_blank_rows(FIRST_ROWS), invite=invite),
    )


@post("/admin/courses/{course_id:int}/sessions/new", include_in_schema=False, status_code=200)
async def create_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    _only_administrators(actor)
    raw = await _form(request)
    sent = _read_form(raw)
    reader = _Reader()
    data = _session_input(sent, reader)
    failure: tuple[int, dict[str, str]] | None = None
    focus_row = None
    if "add_date" in raw:
        sent.dates, focus_row = _with_another_row(sent.dates)
        failure = (200, {})
    elif reader.errors:
        failure = (422, reader.errors)
    else:
        try:
            created = await catalogue.create_session(db, clock, actor, course_id, data)
        except InvalidError as exc:
            failure = (422, _place_invalid(exc, reader.rows_sent))
        except ConflictError as exc:
            failure = (409, _place_conflict(exc))
    if failure is not None:
        demand = await roster.course_demand(db, clock, actor, course_id)
        status, errors = failure
        return _session_page(
            request,
            actor,
            mode="new",
            course_id=course_id,
            course_title=demand.course_title,
            waiting=demand.waiting_learners,
            form=sent,
            errors=errors,
            status_code=status,
            focus_row=focus_row,
        )
    message = f"Session scheduled: {_when(created)}."
    if sent.invite:
        invited = await roster.invite_waitlisted(db, clock, actor, created.id)
        message += (
            f" {invited} {'learner' if invited == 1 else 'learners'} waiting for another date "
            f"{'was' if invited == 1 else 'were'} invited to book it."
            if invited
            else " Nobody was waiting on the other dates, so nobody was invited."
        )
    flash(request, message)
    return _course_page(course_id)


@get("/sessions/{session_id:int}/edit", include_in_schema=False)
async def edit_session_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    _only_administrators(actor)
    s = await catalogue.get_session(db, clock, actor, session_id)
    return _session_page(
        request,
        actor,
        mode="edit",
        course_id=s.course_id,
        course_title=s.course_title,
        session=s,
        form=_form_of(s),
    )


@post("/sessions/{session_id:int}/edit", include_in_schema=False, status_code=200)
async def update_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    _only_administrators(actor)
    raw = await _form(request)
    s = await catalogue.get_session(db, clock, actor, session_id)
    sent = _read_form(raw)
    reader = _Reader()
    changes, changed = _session_changes(sent, _form_of(s), s, reader)
    failure: tuple[int, dict[str, str]] | None = None
    focus_row = None
    if "add_date" in raw:
        sent.dates, focus_row = _with_another_row(sent.dates)
        failure = (200, {})
    elif reader.errors:
        failure = (422, reader.errors)
    elif not changed:
        flash(request, f"Nothing was changed on the session of {_when(s)}.")
        return _course_page(s.course_id)
    else:
        try:
            updated = await catalogue.update_session(db, clock, actor, session_id, changes)
        except InvalidError as exc:
            failure = (422, _place_invalid(exc, reader.rows_sent))
        except ConflictError as exc:
            failure = (409, _place_conflict(exc))
    if failure is not None:
        status, errors = failure
        return _session_page(
            request,
            actor,
            mode="edit",
            course_id=s.course_id,
            course_title=s.course_title,
            session=s,
            form=sent,
            errors=errors,
            status_code=status,
            focus_row=focus_row,
        )
    message = f"Saved the changes to the session of {_when(updated)}."
    if {"dates", "room", "virtual_link"} & set(changed):
        message += " Everyone with a place is sent the new details and calendar invitation."
    flash(request, message)
    return _course_page(updated.course_id)


def _session_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    *,
    mode: str,
    course_id: int,
    course_title: str,
    form: SessionForm,
    session: SessionView | None = None,
    waiting: int = 0,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    focus_row: int | None = None,
) -> Response[Any]:
    return page(
        request,
        "booking/admin_session_form.html",
        actor=actor,
        nav="courses",
        status_code=status_code,
        mode=mode,
        course_id=course_id,
        course_title=course_title,
        session=session,
        waiting=waiting,
        form=form,
        errors=errors or {},
        focus_row=focus_row,
        can_add_row=len(form.dates) < _row_limit(form.dates),
        waitlist_modes=WAITLIST_MODES,
    )


@get("/sessions/{session_id:int}/copy", include_in_schema=False)
async def copy_session_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    _only_administrators(actor)
    s = await catalogue.get_session(db, clock, actor, session_id)
    zone = s.dates[0].timezone if s.dates else DEFAULT_ZONE
    rows = _blank_rows(max(FIRST_ROWS, len(s.dates)), zone)
    return _copy_page(request, actor, s, rows)


@post("/sessions/{session_id:int}/copy", include_in_schema=False, status_code=200)
async def copy_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    _only_administrators(actor)
    raw = await _form(request)
    s = await catalogue.get_session(db, clock, actor, session_id)
    rows = [replace(r, id="", remove=False) for r in _read_rows(raw)]
    override_text = raw.get("override_reason", "").strip()
    reader = _Reader()
    dates = reader.dates(rows)
    override = reader.text(
        "override_reason", override_text, "The override reason", MAX_OVERRIDE_REASON
    )
    failure: tuple[int, dict[str, str]] | None = None
    focus_row = None
    if "add_date" in raw:
        rows, focus_row = _with_another_row(rows)
        failure = (200, {})
    elif reader.errors:
        failure = (422, reader.errors)
    else:
        try:
            copied = await roster.copy_session(
                db, clock, actor, session_id, dates, override_reason=override
            )
        except InvalidError as exc:
            failure = (422, _place_invalid(exc, reader.rows_sent))
        except ConflictError as exc:
            failure = (409, _place_conflict(exc))
    if failure is not None:
        status, errors = failure
        return _copy_page(
            request,
            actor,
            s,
            rows,
            override_reason=override_text,
            errors=errors,
            status_code=status,
            focus_row=focus_row,
        )
    flash(
        request, f"Copied the session to {_when(copied)}. Review it below; it is open for sign-up."
    )
    return _course_page(copied.course_id)


def _copy_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    s: SessionView,
    rows: list[DateRow],
    *,
    override_reason: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    focus_row: int | None = None,
) -> Response[Any]:
    form = SessionForm(dates=rows, override_reason=override_reason)
    return page(
        request,
        "booking/admin_copy.html",
        actor=actor,
        nav="courses",
        status_code=status_code,
        session=s,
        form=form,
        errors=errors or {},
        focus_row=focus_row,
        can_add_row=len(rows) < _row_limit(rows),
    )


@get("/sessions/{session_id:int}/cancel-session", include_in_schema=False)
async def cancel_session_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    _only_administrators(actor)
    s = await catalogue.get_session(db, clock, actor, session_id)
    return page(
        request,
        "booking/admin_cancel.html",
        actor=actor,
        nav="courses",
        session=s,
        reason="",
        errors={},
    )


@post("/sessions/{session_id:int}/cancel-session", include_in_schema=False, status_code=200)
async def cancel_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    _only_administrators(actor)
    reason = (await _form(request)).get("reason", "").strip()
    try:
        cancelled = await catalogue.cancel_session(db, clock, actor, session_id, reason=reason)
    except (InvalidError, ConflictError) as exc:
        s = await catalogue.get_session(db, clock, actor, session_id)
        return page(
            request,
            "booking/admin_cancel.html",
            actor=actor,
            nav="courses",
            session=s,
            reason=reason,
            errors={"reason" if isinstance(exc, InvalidError) else "form": exc.detail},
            status_code=exc.status,
        )
    flash(
        request,
        f"The session of {_when(cancelled)} is cancelled. Everyone who was booked or waiting "
        "is being told, without any fee.",
    )
    return _course_page(cancelled.course_id)


@get("/admin/courses/{course_id:int}/demand", include_in_schema=False)
async def demand_panel(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    """The course page loads this into its admin panel (htmx); without JavaScript its link
    opens it as a page of its own."""
    demand = await roster.course_demand(db, clock, actor, course_id)
    if is_htmx(request):
        return partial(
            "booking/admin_demand_panel.html", demand=demand, heading_level=3, headers=VARY_HTMX
        )
    return page(
        request,
        "booking/admin_demand.html",
        actor=actor,
        nav="courses",
        demand=demand,
        heading_level=2,
        headers=VARY_HTMX,
    )


def admin_routes() -> list[Any]:
    return [
        Router(
            path="/",
            route_handlers=[
                new_session_form,
                create_session,
                edit_session_form,
                update_session,
                copy_session_form,
                copy_session,
                cancel_session_form,
                cancel_session,
                demand_panel,
            ],
            dependencies={"actor": Provide(provide_page_actor)},
            include_in_schema=False,
        )
    ]
