"""Administrators copy a session to new dates: the same course, room, trainers and settings.

A refusal shows the dates again as sent (422 for input the rules refuse, 409 for a clash);
success goes to the course page of the copy."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from litestar import Request, Response, get, post

from booking import catalogue, roster
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import SessionView
from booking.web.pages.admin_sessions import only_administrators, to_course_page, when_held
from booking.web.pages.forms import form_fields
from booking.web.pages.render import flash, page
from booking.web.pages.session_form import (
    DEFAULT_ZONE,
    FIRST_ROWS,
    DateRow,
    SessionForm,
    blank_rows,
    read_rows,
    row_limit,
)
from booking.web.pages.session_input import (
    MAX_OVERRIDE_REASON,
    FormAgain,
    FormReader,
    shown_again,
    submit,
)


@get("/sessions/{session_id:int}/copy", include_in_schema=False)
async def copy_session_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    only_administrators(actor)
    s = await catalogue.get_session(db, clock, actor, session_id)
    zone = s.dates[0].timezone if s.dates else DEFAULT_ZONE
    rows = blank_rows(max(FIRST_ROWS, len(s.dates)), zone)
    return _copy_page(request, actor, s, rows)


@post("/sessions/{session_id:int}/copy", include_in_schema=False, status_code=200)
async def copy_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    only_administrators(actor)
    raw = await form_fields(request)
    s = await catalogue.get_session(db, clock, actor, session_id)
    rows = [replace(r, id="", remove=False) for r in read_rows(raw)]
    override_text = raw.get("override_reason", "").strip()
    reader = FormReader()
    dates = reader.dates(rows)
    override = reader.text(
        "override_reason", override_text, "The override reason", MAX_OVERRIDE_REASON
    )
    save = partial(
        roster.copy_session, db, clock, actor, session_id, dates, override_reason=override
    )
    outcome = await submit(raw, rows, reader, save)
    if isinstance(outcome, FormAgain):
        return _copy_page(request, actor, s, outcome.rows, override_text, outcome)
    copied = outcome
    flash(
        request,
        f"Copied the session to {when_held(copied)}. Review it below; it is open for sign-up.",
    )
    return to_course_page(copied.course_id)


def _copy_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    s: SessionView,
    rows: list[DateRow],
    override_reason: str = "",
    again: FormAgain | None = None,
) -> Response[Any]:
    form = SessionForm(dates=rows, override_reason=override_reason)
    return page(
        request,
        "booking/admin_copy.html",
        actor=actor,
        nav="courses",
        session=s,
        form=form,
        **shown_again(again),
        can_add_row=len(rows) < row_limit(rows),
    )


HANDLERS = [copy_session_form, copy_session]
