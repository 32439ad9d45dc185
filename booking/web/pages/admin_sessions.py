"""Administrators' session pages: schedule, change, copy and cancel sessions, and the
waiting-list demand shown on a course page.

Plain forms that work without JavaScript. A refusal shows the form again exactly as it was sent,
each message tied to its field, with nothing changed: 422 for input the rules refuse, 409 for a
clash with another session or with the places already held. Success redirects (303) to the
course page with a flash message. The services decide who may act; the pages ask the same policy
first only so that nobody but an administrator is shown a form (403, on the error page).
Reading the form is `session_form.py` and `session_input.py`; copying a session is
`admin_copy.py`, cancelling one `admin_cancel.py`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from booking import catalogue, policy, roster
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.kernel.views import SessionView
from booking.web.pages.formatting import date_range
from booking.web.pages.forms import form_fields
from booking.web.pages.render import VARY_HTMX, flash, is_htmx, page, partial
from booking.web.pages.session_form import (
    FIRST_ROWS,
    WAITLIST_MODES,
    SessionForm,
    blank_rows,
    form_of,
    read_form,
    row_limit,
    with_picked_room,
)
from booking.web.pages.session_input import (
    FormAgain,
    FormReader,
    session_changes,
    session_input,
    shown_again,
    submit,
)


def only_administrators(actor: Actor) -> None:
    # The services refuse everyone else too; asking first keeps the forms to administrators.
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can manage sessions.")


def to_course_page(course_id: int) -> Redirect:
    return Redirect(path=f"/courses/{course_id}", status_code=303)


def when_held(view: SessionView) -> str:
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
    only_administrators(actor)
    form = SessionForm(dates=blank_rows(FIRST_ROWS), invite=invite)
    return await _new_session_page(request, db, clock, actor, course_id, form)


@post("/admin/courses/{course_id:int}/sessions/new", include_in_schema=False, status_code=200)
async def create_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    only_administrators(actor)
    raw = await form_fields(request)
    sent = read_form(raw)
    reader = FormReader()
    data = session_input(sent, reader)
    outcome = await submit(
        raw,
        sent.dates,
        reader,
        lambda: catalogue.create_session(db, clock, actor, course_id, data),
    )
    if isinstance(outcome, FormAgain):
        sent.dates = outcome.rows
        return await _new_session_page(request, db, clock, actor, course_id, sent, outcome)
    created = outcome
    message = f"Session scheduled: {when_held(created)}."
    if sent.invite:
        message += _invited(await roster.invite_waitlisted(db, clock, actor, created.id))
    flash(request, message)
    return to_course_page(course_id)


def _invited(invited: int) -> str:
    if not invited:
        return " Nobody was waiting on the other dates, so nobody was invited."
    return (
        f" {invited} {'learner' if invited == 1 else 'learners'} waiting for another date "
        f"{'was' if invited == 1 else 'were'} invited to book it."
    )


@get("/sessions/{session_id:int}/edit", include_in_schema=False)
async def edit_session_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    only_administrators(actor)
    s = await catalogue.get_session(db, clock, actor, session_id)
    rooms = await _rooms_for(db, actor, s)
    return _edit_session_page(request, actor, s, with_picked_room(form_of(s), rooms), rooms)


async def _rooms_for(db: Database, actor: Actor, s: SessionView) -> list[catalogue.RoomChoice]:
    """The rooms the picker offers: those in use, and the session's own even if it is not."""
    return await catalogue.room_choices(db, actor, keep=s.room.name if s.room else None)


@post("/sessions/{session_id:int}/edit", include_in_schema=False, status_code=200)
async def update_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    only_administrators(actor)
    raw = await form_fields(request)
    s = await catalogue.get_session(db, clock, actor, session_id)
    sent = read_form(raw)
    rooms = await _rooms_for(db, actor, s)
    reader = FormReader()
    changes, changed = session_changes(sent, with_picked_room(form_of(s), rooms), s, reader)

    async def save() -> SessionView | None:
        if not changed:
            return None
        return await catalogue.update_session(db, clock, actor, session_id, changes)

    outcome = await submit(raw, sent.dates, reader, save)
    if isinstance(outcome, FormAgain):
        sent.dates = outcome.rows
        return _edit_session_page(request, actor, s, sent, rooms, outcome)
    if outcome is None:
        flash(request, f"Nothing was changed on the session of {when_held(s)}.")
        return to_course_page(s.course_id)
    updated = outcome
    message = f"Saved the changes to the session of {when_held(updated)}."
    if {"dates", "room", "virtual_link"} & set(changed):
        message += " Everyone with a place is sent the new details and calendar invitation."
    flash(request, message)
    return to_course_page(updated.course_id)


async def _new_session_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    course_id: int,
    form: SessionForm,
    again: FormAgain | None = None,
) -> Response[Any]:
    """The form for a new session of the course, with how many are waiting for one."""
    demand = await roster.course_demand(db, clock, actor, course_id)
    return _session_page(
        request,
        actor,
        mode="new",
        course_id=course_id,
        course_title=demand.course_title,
        waiting=demand.waiting_learners,
        form=form,
        rooms=await catalogue.room_choices(db, actor),
        again=again,
    )


def _edit_session_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    s: SessionView,
    form: SessionForm,
    rooms: list[catalogue.RoomChoice],
    again: FormAgain | None = None,
) -> Response[Any]:
    return _session_page(
        request,
        actor,
        mode="edit",
        course_id=s.course_id,
        course_title=s.course_title,
        session=s,
        form=form,
        rooms=rooms,
        again=again,
    )


def _session_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    *,
    mode: str,
    course_id: int,
    course_title: str,
    form: SessionForm,
    rooms: list[catalogue.RoomChoice],
    session: SessionView | None = None,
    waiting: int = 0,
    again: FormAgain | None = None,
) -> Response[Any]:
    return page(
        request,
        "booking/admin_session_form.html",
        actor=actor,
        nav="courses",
        mode=mode,
        course_id=course_id,
        course_title=course_title,
        session=session,
        waiting=waiting,
        form=form,
        rooms=rooms,
        **shown_again(again),
        can_add_row=len(form.dates) < row_limit(form.dates),
        waitlist_modes=WAITLIST_MODES,
    )


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


HANDLERS = [
    new_session_form,
    create_session,
    edit_session_form,
    update_session,
    demand_panel,
]
