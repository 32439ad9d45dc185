"""The learner's catalogue: courses, a course's dates, a session, and booking a place on it.

Each handler is thin: read the form, call one service, render a view model or redirect. With
htmx the session row (`booking/_session_row.html`) is swapped in place and the outcome is
announced in the page's `role="status"` region; without it, plain forms post and redirect (303)
to a page that says what happened."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from booking import bookings, catalogue, policy, records
from booking.bookings import BookingOutcome
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError, RefusedError
from booking.web.deps import limit_booking_rate
from booking.web.pages.forms import BookForm, form_fields, page_cursor, search_query
from booking.web.pages.render import VARY_HTMX, is_htmx, page, partial
from booking.web.pages.session_rows import free_elsewhere, row_for, session_row


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
    query = search_query(q)
    result = await catalogue.search_courses(
        db, clock, actor, query=query or None, cursor=page_cursor(cursor)
    )
    return page(
        request,
        "booking/courses.html",
        actor=actor,
        nav="courses",
        query=query,
        courses=result.items,
        next_cursor=result.next_cursor,
        mine=await _my_required_learning(db, clock, actor) if not query and not cursor else None,
    )


async def _my_required_learning(db: Database, clock: Clock, actor: Actor) -> Any:
    """The home page's panel: how much of my required learning is current, and what is due
    next (None for someone with nothing required, or who is not a person)."""
    if not policy.is_person(actor):
        return None
    record = await records.my_record(db, clock, actor)
    if record.compliance.required == 0:
        return None
    far = datetime.max.replace(tzinfo=UTC)
    upcoming = sorted(record.required, key=lambda item: item.due_at or far)
    return {"compliance": record.compliance, "next": upcoming[:3], "more": len(upcoming) - 3}


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
    mine = await bookings.own_bookings_on(db, clock, actor, session_ids)
    # What the booking would decide on each date, and the rules the learner would fail on
    # every date ("Before you can book"), shown before they try.
    offered = await bookings.course_offers(db, clock, actor, course_id, session_ids)
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
    row = await row_for(db, clock, actor, session_id)
    return page(request, "booking/session.html", actor=actor, nav="courses", row=row)


@get("/sessions/{session_id:int}/row", include_in_schema=False)
async def session_row_partial(
    db: Database, clock: Clock, actor: Actor, session_id: int, live: bool = False
) -> Template:
    """The row alone, for htmx to put back after the inline form is closed (focus returns to
    it), or to refresh it when a live update says the session changed (focus stays put)."""
    row = await row_for(db, clock, actor, session_id, focus=not live)
    return partial("booking/_session_row.html", row=row, headers=VARY_HTMX)


@get("/sessions/{session_id:int}/book", include_in_schema=False)
async def book_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Template:
    if is_htmx(request):
        row = await row_for(db, clock, actor, session_id, form_open=True)
        return partial("booking/_session_row.html", row=row, headers=VARY_HTMX)
    row = await row_for(db, clock, actor, session_id)
    return page(
        request, "booking/book.html", actor=actor, nav="courses", row=row, headers=VARY_HTMX
    )


@post("/sessions/{session_id:int}/book", include_in_schema=False, status_code=200)
async def book(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    await limit_booking_rate(request, actor)
    form = BookForm.read(await form_fields(request))
    if field_errors := form.field_errors():
        failure: dict[str, Any] = {"field_errors": field_errors}
        return await _book_refused(request, db, clock, actor, session_id, form, 422, failure)
    outcome, status, failure = await _try_booking(request, db, clock, actor, form, session_id)
    if outcome is None:
        return await _book_refused(request, db, clock, actor, session_id, form, status, failure)
    booking = outcome.booking
    if is_htmx(request):
        row = await row_for(db, clock, actor, session_id, focus=True)
        return partial(
            "booking/_session_row.html",
            row=row,
            outcome=booking,
            free_elsewhere=await free_elsewhere(db, clock, actor, booking),
        )
    return Redirect(path=f"/bookings/{booking.id}?new=1", status_code=303)


async def _try_booking(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    form: BookForm,
    session_id: int,
) -> tuple[BookingOutcome | None, int, dict[str, Any]]:
    """The booking, or the status and what to show on the form when it is refused."""
    try:
        outcome = await bookings.book_place(
            db,
            clock,
            actor,
            form.booking_request(session_id),
            seat_guard=request.app.state.settings.seat_guard,
        )
    except RefusedError as exc:
        # Already on another date of this course: offer to move there instead.
        move_from = next(
            (r.extra.get("booking_id") for r in exc.reasons if r.code == "already_on_course"),
            None,
        )
        return (
            None,
            exc.status,
            {"reasons": [r.message for r in exc.reasons], "move_from": move_from},
        )
    except InvalidError as exc:
        return None, 422, {"field_errors": {exc.field or "special_requirements": exc.detail}}
    return outcome, 200, {}


async def _book_refused(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    form: BookForm,
    status: int,
    failure: dict[str, Any],
) -> Template:
    """Nothing changed: show the form again, as it was sent, with what to do next."""
    row = await row_for(db, clock, actor, session_id, form_open=True, form=form.as_shown())
    row.update(failure)
    if is_htmx(request):
        return partial("booking/_session_row.html", row=row, status_code=status)
    return page(
        request, "booking/book.html", actor=actor, nav="courses", row=row, status_code=status
    )


HANDLERS = [home, courses_page, course_page, session_page, session_row_partial, book_form, book]
