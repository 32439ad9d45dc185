"""HTML pages: server-rendered, working without JavaScript, enhanced with htmx.

Every handler is thin: read the form, call one service, render a view model or redirect. With
htmx (`HX-Request: true`) the session row (`booking/_session_row.html`) is swapped in place and
the outcome is announced in the page's `role="status"` region; without it, plain forms post and
redirect (303) to a page that says what happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import MediaType, Request, Response, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from billing.domain.money import Money
from booking import bookings, catalogue, notifications, oidc, people
from booking.bookings import ACTIVE_STATES, BookingRequest, offers
from booking.bookings import overview as pages_queries
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.db_values import max_length_of
from booking.domain.states import state_name
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError, RefusedError
from booking.kernel.views import BookingView, MoneyView, PersonView, SessionDateView, SessionView
from booking.models import Booking
from booking.people import auth
from booking.ratelimit import LOGIN
from booking.roster import roster_and_move_targets
from booking.web import signin
from booking.web.deps import current_actor, limit_booking_rate, provide_page_actor

SESSION_NAME_KEY = "person_name"
FLASH_KEY = "flash"
MAX_QUERY_LENGTH = 200
# As long as the column keeps (booking/db_values.py checks it for every way in).
MAX_SPECIAL_REQUIREMENTS = max_length_of(Booking.__table__.c.special_requirements.type) or 2000
MAX_REASON_LENGTH = 500
CANCEL_REASONS = (
    "Work commitments",
    "Illness",
    "No longer needed",
    "Booked another date",
    "Other",
)
VARY_HTMX = {"Vary": "HX-Request"}
# Pages are personal: keep them out of shared caches and off the disk of a shared computer.
NO_STORE = {"Cache-Control": "no-store"}

_STATUS_LABELS = {
    "open": "Open",
    "full": "Full",
    "closed": "Closed",
    "in_progress": "In progress",
    "over": "Over",
    "cancelled": "Cancelled",
    "draft": "Draft",
}
_ROLE_GROUPS = (
    ("admin", "Administrators"),
    ("trainer", "Trainers"),
    ("budget_holder", "Budget holders"),
    ("learner", "Learners"),
)


# ---------------------------------------------------------------------------------------------
# Formatting helpers (Jinja globals)


def _day(dt: datetime) -> str:
    return f"{dt:%a} {dt.day} {dt:%b %Y}"


def date_range(d: SessionDateView) -> str:
    """One session date in its own time zone: "Tue 16 Mar 2027, 09:30–12:30 GMT"."""
    start, end = d.start, d.end
    start_zone, end_zone = start.strftime("%Z"), end.strftime("%Z")
    if start.date() == end.date():
        if start_zone == end_zone:
            return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} {start_zone}"
        # The clocks change during the session.
        return f"{_day(start)}, {start:%H:%M} {start_zone} – {end:%H:%M} {end_zone}"
    if start_zone == end_zone:
        return f"{_day(start)}, {start:%H:%M} – {_day(end)}, {end:%H:%M} {end_zone}"
    return f"{_day(start)}, {start:%H:%M} {start_zone} – {_day(end)}, {end:%H:%M} {end_zone}"


def first_day(dates: Sequence[SessionDateView]) -> str:
    """The first date's day, for link labels that need telling apart: "Tue 16 Mar 2027"."""
    return _day(dates[0].start) if dates else "date to be confirmed"


def when(dt: datetime | None, timezone: str | None = None) -> str:
    """An instant, in the given zone (a session's) when known: "Tue 16 Mar 2027, 09:30 GMT"."""
    if dt is None:
        return ""
    local = dt.astimezone(ZoneInfo(timezone)) if timezone else dt
    return f"{_day(local)}, {local:%H:%M %Z}"


def zone_of(dates: Sequence[SessionDateView]) -> str | None:
    return dates[0].timezone if dates else None


def money(value: MoneyView | Mapping[str, Any] | None) -> str:
    """A price for people ("£60.00", "Free"), from a money view or its JSON shape."""
    if value is None:
        return "Free"
    if isinstance(value, Mapping):
        return Money(value["amount"], value["currency"]).display()
    return Money(value.amount, value.currency).display()


def places(s: SessionView) -> str:
    """Seats held of capacity, and the waiting list: "17 / 17 (7 wait-listed)"."""
    text = f"{s.seats_held} / {s.capacity}"
    if s.waitlisted:
        text += f" ({s.waitlisted} wait-listed)"
    return text


def location(s: SessionView) -> str:
    if s.room is not None:
        return f"{s.room.name} (and online)" if s.virtual else s.room.name
    return "Online" if s.virtual else "To be confirmed"


def status_label(status: str) -> str:
    return _STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def state_label(b: BookingView) -> str:
    """A booking's state as learners read it: "Booked", "Waitlisted #3", "Offer — accept by …"."""
    if b.state == "waitlisted":
        return f"Waitlisted #{b.waitlist_position}" if b.waitlist_position else "Waitlisted"
    if b.state == "offered":
        if b.offer_expires_at is None:
            return "Offer — accept now"
        return f"Offer — accept by {when(b.offer_expires_at, zone_of(b.dates))}"
    return {
        "booked": "Booked",
        "pending_approval": "Awaiting approval",
        "pending_payment": "Awaiting payment",
        "cancelled": "Cancelled",
        "declined": "Declined",
        "attended": "Attended",
    }.get(b.state, state_name(b.state))


def signed_in_name(request: Request[Any, Any, Any] | None) -> str | None:
    """Who the header names: the actor this request's sign-in check loaded."""
    if request is None:
        return None
    state = request.scope.get("state")
    actor = state.get("actor") if isinstance(state, dict) else None
    if isinstance(actor, Actor):
        return actor.name
    return None


def template_globals(settings: Settings) -> dict[str, Any]:
    return {
        "demo": settings.demo,
        "active_states": ACTIVE_STATES,
        "date_range": date_range,
        "first_day": first_day,
        "when": when,
        "zone_of": zone_of,
        "money": money,
        "places": places,
        "location": location,
        "status_label": status_label,
        "state_label": state_label,
        "state_name": state_name,
        "signed_in_name": signed_in_name,
        "cancel_reasons": CANCEL_REASONS,
    }


# ---------------------------------------------------------------------------------------------
# Request helpers


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def safe_next(value: str | None, default: str = "/courses") -> str:
    """Only a path on this site: never `//host` or a scheme, which would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(c in value for c in "\r\n\\"):
        return default
    return value


def _session_dict(request: Request[Any, Any, Any]) -> dict[str, Any]:
    session = request.scope.get("session")
    return session if isinstance(session, dict) else {}


def flash(request: Request[Any, Any, Any], message: str) -> None:
    """A one-time message for the next page (kept in the signed session cookie)."""
    session = dict(_session_dict(request))
    session[FLASH_KEY] = message
    request.set_session(session)


def _pop_flash(request: Request[Any, Any, Any]) -> str | None:
    session = _session_dict(request)
    if FLASH_KEY not in session:
        return None
    remaining = dict(session)
    message = remaining.pop(FLASH_KEY)
    request.set_session(remaining)
    return message if isinstance(message, str) else None


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    actor: Actor | None,
    status_code: int = 200,
    nav: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A full page: the layout gets the user, the navigation marker and any flash message.

    Always `text/html`, whatever the handler's return annotation: Litestar otherwise takes the
    handler's media type, which is JSON for a handler annotated `Any`."""
    return Template(
        template_name=template,
        context={"actor": actor, "nav": nav, "flash": _pop_flash(request), **context},
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        media_type=MediaType.HTML,
    )


def partial(
    template: str, *, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Template:
    """An htmx fragment; `text/html` for the same reason as `page`."""
    return Template(
        template_name=template,
        context=context,
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        media_type=MediaType.HTML,
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _cursor(value: str | None) -> int | None:
    try:
        cursor = int(value) if value else None
    except ValueError:
        return None
    return cursor if cursor is not None and cursor >= 0 else None


def session_row(
    s: SessionView,
    mine: BookingView | None,
    actor: Actor,
    offer: offers.SessionOffer | None,
    *,
    form_open: bool = False,
    focus: bool = False,
    blockers_shown: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """What one row of the session table shows: the session, the learner's place and options.
    The options are what the booking would accept (`offer`, the booking decision previewed);
    where it would refuse, the row says why instead of offering a button."""
    active = mine if mine is not None and mine.state in ACTIVE_STATES else None
    action = offer.action if active is None and offer is not None else None
    return {
        "session": s,
        "mine": mine,
        "active": active,
        "action": action,
        "offer": offer,
        # Who the learner is is said once above the table on the course page.
        "blockers_shown": blockers_shown,
        "can_roster": actor.is_admin or actor.email in s.facilitators,
        "form_open": form_open and action is not None,
        "focus": focus,
        "form": extra.pop("form", {}),
        "reasons": extra.pop("reasons", []),
        "field_errors": extra.pop("field_errors", {}),
        **extra,
    }


async def _row_for(
    db: Database, clock: Clock, actor: Actor, session_id: int, **kw: Any
) -> dict[str, Any]:
    s = await catalogue.get_session(db, clock, actor, session_id)
    mine = (await pages_queries.own_bookings_on(db, clock, actor, [s.id])).get(s.id)
    signup = await catalogue.sign_up_form(db, s.course_id)
    # Every upcoming date of the course: the row's own offer, and the dates with a free seat
    # that the waiting-list form points to.
    offered = await offers.course_offers(db, clock, actor, s.course_id)
    if s.id not in offered.sessions:  # a draft, or a session already over
        offered = await offers.course_offers(db, clock, actor, s.course_id, [s.id])
    offer = offered.sessions.get(s.id)
    return session_row(
        s, mine, actor, offer, signup=signup, free_elsewhere=offered.free_elsewhere(s.id), **kw
    )


async def _free_elsewhere(
    db: Database, clock: Clock, actor: Actor, booking: BookingView
) -> list[offers.SessionOffer]:
    """After joining a waiting list: the course's other dates where the learner could have a
    seat now (by moving their place there), to say so with a link."""
    if booking.state != "waitlisted" or booking.learner.id != actor.person_id:
        return []
    offered = await offers.course_offers(db, clock, actor, booking.course_id)
    return offered.free_elsewhere(booking.session_id)


# ---------------------------------------------------------------------------------------------
# Catalogue and sessions


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect(path="/courses", status_code=303)


@get("/courses", include_in_schema=False)
async def courses_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    q: str | None = None,
    cursor: str | None = None,
) -> Template:
    query = (q or "").strip()[:MAX_QUERY_LENGTH]
    result = await catalogue.search_courses(
        db, clock, actor, query=query or None, cursor=_cursor(cursor)
    )
    return page(
        request,
        "booking/courses.html",
        actor=actor,
        nav="courses",
        query=query,
        courses=result.items,
        next_cursor=result.next_cursor,
    )


@get("/courses/{course_id:int}", include_in_schema=False)
async def course_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    course_id: int,
    past: bool = False,
) -> Template:
    course = await catalogue.get_course(db, clock, actor, course_id, upcoming_only=not past)
    session_ids = [s.id for s in course.sessions]
    mine = await pages_queries.own_bookings_on(db, clock, actor, session_ids)
    # What the booking would decide on each date, and the rules the learner would fail on
    # every date ("Before you can book"), shown before they try.
    offered = await offers.course_offers(db, clock, actor, course_id, session_ids)
    blockers = offered.blockers
    rows = [
        session_row(
            s, mine.get(s.id), actor, offered.sessions.get(s.id), blockers_shown=bool(blockers)
        )
        for s in course.sessions
    ]
    return page(
        request,
        "booking/course.html",
        actor=actor,
        nav="courses",
        course=course,
        rows=rows,
        past=past,
        blockers=[r.message for r in blockers],
    )


@get("/sessions/{session_id:int}", include_in_schema=False)
async def session_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Template:
    row = await _row_for(db, clock, actor, session_id)
    return page(request, "booking/session.html", actor=actor, nav="courses", row=row)


@get("/sessions/{session_id:int}/row", include_in_schema=False)
async def session_row_partial(
    db: Database, clock: Clock, actor: Actor, session_id: int, live: bool = False
) -> Template:
    """The row alone, for htmx to put back after the inline form is closed (focus returns to
    it), or to refresh it when a live update says the session changed (focus stays put)."""
    row = await _row_for(db, clock, actor, session_id, focus=not live)
    return partial("booking/_session_row.html", row=row, headers=VARY_HTMX)


@get("/sessions/{session_id:int}/book", include_in_schema=False)
async def book_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Template:
    if is_htmx(request):
        row = await _row_for(db, clock, actor, session_id, form_open=True)
        return partial("booking/_session_row.html", row=row, headers=VARY_HTMX)
    row = await _row_for(db, clock, actor, session_id)
    return page(
        request, "booking/book.html", actor=actor, nav="courses", row=row, headers=VARY_HTMX
    )


@post("/sessions/{session_id:int}/book", include_in_schema=False, status_code=200)
async def book(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    await limit_booking_rate(request, actor)
    form = await _form(request)
    special = form.get("special_requirements", "").strip() or None
    answers: dict[str, object] = {
        key.removeprefix("answer_"): value.strip()
        for key, value in form.items()
        if key.startswith("answer_") and value.strip()
    }
    # Yes/no questions come from radio buttons named yesno_<id>.
    answers.update(
        {
            key.removeprefix("yesno_"): value == "yes"
            for key, value in form.items()
            if key.startswith("yesno_") and value in ("yes", "no")
        }
    )
    accept_terms = form.get("accept_terms") == "yes"
    cost_code = form.get("cost_code", "").strip() or None
    move_from = int(form["move_from"]) if form.get("move_from", "").isdigit() else None
    htmx = is_htmx(request)
    failure: dict[str, Any] = {}
    status = 200
    if special is not None and len(special) > MAX_SPECIAL_REQUIREMENTS:
        failure["field_errors"] = {
            "special_requirements": "Special requirements are limited to 2,000 characters."
        }
        status = 422
    else:
        try:
            outcome = await bookings.book_place(
                db,
                clock,
                actor,
                BookingRequest(
                    session_id,
                    cost_code=cost_code,
                    special_requirements=special,
                    answers=answers or None,
                    accept_terms=accept_terms,
                    move_from=move_from,
                ),
                seat_guard=request.app.state.settings.seat_guard,
            )
        except RefusedError as exc:
            failure["reasons"] = [r.message for r in exc.reasons]
            status = exc.status
            # Already on another date of this course: offer to move there instead.
            failure["move_from"] = next(
                (r.extra.get("booking_id") for r in exc.reasons if r.code == "already_on_course"),
                None,
            )
        except InvalidError as exc:
            failure["field_errors"] = {exc.field or "special_requirements": exc.detail}
            status = 422
    if failure:
        # Nothing changed: show the form again, as it was sent, with what to do next.
        row = await _row_for(
            db,
            clock,
            actor,
            session_id,
            form_open=True,
            form={
                "special_requirements": special,
                "answers": answers,
                "accept_terms": accept_terms,
                "cost_code": cost_code,
            },
        )
        row.update(failure)
        if htmx:
            return partial("booking/_session_row.html", row=row, status_code=status)
        return page(
            request, "booking/book.html", actor=actor, nav="courses", row=row, status_code=status
        )
    booking = outcome.booking
    if htmx:
        row = await _row_for(db, clock, actor, session_id, focus=True)
        return partial(
            "booking/_session_row.html",
            row=row,
            outcome=booking,
            free_elsewhere=await _free_elsewhere(db, clock, actor, booking),
        )
    return Redirect(path=f"/bookings/{booking.id}?new=1", status_code=303)


@get("/sessions/{session_id:int}/roster", include_in_schema=False)
async def roster_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Template:
    roster, targets = await roster_and_move_targets(db, clock, actor, session_id)
    now = clock.now()
    session = roster.session
    started = bool(session.dates) and now >= session.dates[0].start
    return page(
        request,
        "booking/roster.html",
        actor=actor,
        nav="courses",
        roster=roster,
        can_mark=started and session.status != "cancelled",
        targets=targets,
        attendance_labels={
            "attended": "Attended",
            "partially_attended": "Partly attended",
            "no_show": "No-show",
        },
    )


# ---------------------------------------------------------------------------------------------
# Bookings


@get("/bookings/{booking_id:int}", include_in_schema=False)
async def booking_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    new: bool = False,
) -> Template:
    booking = await bookings.get_booking(db, clock, actor, booking_id)
    new = new and booking.learner.id == actor.person_id
    return page(
        request,
        "booking/booking.html",
        actor=actor,
        nav="bookings",
        b=booking,
        new=new,
        free_elsewhere=await _free_elsewhere(db, clock, actor, booking) if new else [],
    )


@get("/me/bookings", include_in_schema=False)
async def my_bookings_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    mine = await pages_queries.my_bookings_overview(db, clock, actor)
    token = await notifications.calendar_token(db, actor)
    return page(
        request,
        "booking/my_bookings.html",
        actor=actor,
        nav="bookings",
        upcoming=mine.upcoming,
        past=mine.past,
        feed_url=f"{request.app.state.settings.base_url}/calendar/{token}.ics",
    )


@post("/bookings/{booking_id:int}/accept", include_in_schema=False, status_code=200)
async def accept_offer(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Redirect:
    booking = await bookings.accept_offer(db, clock, actor, booking_id)
    flash(
        request,
        f"You have accepted the place on {booking.course_title}, {first_day(booking.dates)}. "
        "You are booked.",
    )
    return Redirect(path="/me/bookings", status_code=303)


@post("/bookings/{booking_id:int}/decline", include_in_schema=False, status_code=200)
async def decline_offer(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Redirect:
    booking = await bookings.decline_offer(db, clock, actor, booking_id)
    flash(
        request,
        f"You have declined the place on {booking.course_title}, {first_day(booking.dates)}. "
        "It goes to the next person waiting.",
    )
    return Redirect(path="/me/bookings", status_code=303)


@get("/bookings/{booking_id:int}/cancel", include_in_schema=False)
async def cancel_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Template:
    booking = await bookings.get_booking(db, clock, actor, booking_id)
    return page(
        request,
        "booking/cancel.html",
        actor=actor,
        nav="bookings",
        b=booking,
        form={},
        field_errors={},
    )


@post("/bookings/{booking_id:int}/cancel", include_in_schema=False, status_code=200)
async def cancel(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Response[Any]:
    form = await _form(request)
    reason = form.get("reason", "").strip()
    details = form.get("details", "").strip() or None
    field_errors: dict[str, str] = {}
    if not reason:
        field_errors["reason"] = "Choose a reason for cancelling."
    elif len(reason) > MAX_REASON_LENGTH:
        field_errors["reason"] = "The reason is limited to 500 characters."
    # The fee the page showed is the fee charged: if it has changed since, say so and show
    # the new quote instead of charging it.
    quoted = None
    if form.get("quoted_fee_amount", "").isdigit() and form.get("quoted_fee_currency"):
        quoted = MoneyView(int(form["quoted_fee_amount"]), form["quoted_fee_currency"])
    if not field_errors:
        try:
            outcome = await bookings.cancel_booking(
                db, clock, actor, booking_id, reason=reason, details=details, quoted_fee=quoted
            )
        except ConflictError as exc:
            flash(request, exc.detail)
            return Redirect(path=f"/bookings/{booking_id}/cancel", status_code=303)
        except InvalidError as exc:
            field_errors[exc.field if exc.field in ("reason", "details") else "reason"] = exc.detail
    if field_errors:
        booking = await bookings.get_booking(db, clock, actor, booking_id)
        return page(
            request,
            "booking/cancel.html",
            actor=actor,
            nav="bookings",
            b=booking,
            form={"reason": reason, "details": details or ""},
            field_errors=field_errors,
            status_code=422,
        )
    cancelled = outcome.booking
    label = f"{cancelled.course_title}, {first_day(cancelled.dates)}"
    left_waitlist = bool(cancelled.history) and cancelled.history[-1].from_state == "waitlisted"
    flash(
        request,
        f"You have left the waiting list for {label}."
        if left_waitlist
        else f"Your booking on {label} is cancelled.",
    )
    return Redirect(path="/me/bookings", status_code=303)


# ---------------------------------------------------------------------------------------------
# Signing in and out


def _people_groups(everyone: list[PersonView]) -> list[tuple[str, list[PersonView]]]:
    """Each person once, under their most powerful role."""
    groups: dict[str, list[PersonView]] = {role: [] for role, _ in _ROLE_GROUPS}
    for person in everyone:
        role = next((r for r, _ in _ROLE_GROUPS if r in person.roles), "learner")
        groups[role].append(person)
    return [(label, groups[role]) for role, label in _ROLE_GROUPS if groups[role]]


async def _login_page(
    request: Request[Any, Any, Any],
    db: Database,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
    email: str = "",
) -> Template:
    settings: Settings = request.app.state.settings
    groups = _people_groups(await people.list_people(db)) if settings.demo else []
    return page(
        request,
        "booking/login.html",
        actor=await current_actor(request),
        nav="login",
        headers=VARY_HTMX,
        groups=groups,
        next_path=next_path,
        error=error,
        email=email,
        sso=oidc.enabled(settings),
        status_code=status_code,
    )


@get("/login", include_in_schema=False)
async def login_form(
    request: Request[Any, Any, Any],
    db: Database,
    next_: str | None = Parameter(query="next", required=False),
) -> Response[Any]:
    next_path = safe_next(next_)
    if is_htmx(request):
        # An htmx request whose sign-in lapsed was redirected here: load the whole page instead
        # of swapping a login page into a table row.
        return Response(
            content="",
            status_code=200,
            headers={"HX-Redirect": f"/login?next={quote(next_path)}"},
        )
    return await _login_page(request, db, next_path=next_path)


@post("/login", include_in_schema=False, status_code=200)
async def login(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Response[Any]:
    settings: Settings = request.app.state.settings
    form = await _form(request)
    next_path = safe_next(form.get("next"))
    actor: Actor | None = None
    if settings.demo and form.get("person_id"):
        # Demo only: pick anyone. Outside demo mode this field is ignored.
        try:
            person_id: int | None = int(form.get("person_id", ""))
        except ValueError:
            person_id = None
        actor = await people.actor_for_person(db, person_id) if person_id is not None else None
        if actor is None:
            return await _login_page(
                request, db, next_path=next_path, error="Choose who to sign in as.", status_code=422
            )
        return await signin.complete(request, db, clock, actor, "demo", next_path)
    email = form.get("email", "").strip().lower()
    password = form.get("password", "")
    if not email or not password:
        return await _login_page(
            request,
            db,
            next_path=next_path,
            email=email,
            error="Enter your email address and password.",
            status_code=422,
        )
    limiter = request.app.state.limiter
    ip = signin.client_ip(request)
    wait = await limiter.blocked(LOGIN, f"email:{email}") or await limiter.blocked(
        LOGIN, f"ip:{ip}"
    )
    if wait:
        await audit.record_now(db, clock, action="login.throttled", actor_label=email, ip=ip)
        response = await _login_page(
            request,
            db,
            next_path=next_path,
            email=email,
            status_code=429,
            error=f"Too many failed attempts. Wait {max(1, wait // 60)} minutes and try again, "
            "or reset your password.",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    actor = await auth.check_password(db, clock, email, password)
    if actor is None:
        await limiter.count(LOGIN, f"email:{email}")
        await limiter.count(LOGIN, f"ip:{ip}")
        await audit.record_now(db, clock, action="login.failed", actor_label=email, ip=ip)
        return await _login_page(
            request,
            db,
            next_path=next_path,
            email=email,
            status_code=422,
            error="That email address and password do not match an account.",
        )
    await limiter.reset(LOGIN, f"email:{email}")
    return await signin.complete(request, db, clock, actor, "password", next_path)


@post("/logout", include_in_schema=False, status_code=200)
async def logout(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Response[Any]:
    return await signin.sign_out(request, db, clock)


def page_routes() -> list[Any]:
    return [
        Router(
            path="/",
            route_handlers=[
                home,
                courses_page,
                course_page,
                session_page,
                session_row_partial,
                book_form,
                book,
                roster_page,
                booking_page,
                my_bookings_page,
                accept_offer,
                decline_offer,
                cancel_form,
                cancel,
                login_form,
                login,
                logout,
            ],
            dependencies={"actor": Provide(provide_page_actor)},
            include_in_schema=False,
        )
    ]
