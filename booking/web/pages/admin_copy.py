"""Administrators copy a session to new dates: the same course, room, trainers and settings.

A refusal shows the dates again as sent (422 for input the rules refuse, 409 for a clash);
success goes to the course page of the copy."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post

from booking import catalogue, roster
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError
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
    with_another_row,
)
from booking.web.pages.session_input import (
    MAX_OVERRIDE_REASON,
    FormReader,
    place_conflict,
    place_invalid,
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
    failure: tuple[int, dict[str, str]] | None = None
    focus_row = None
    if "add_date" in raw:
        rows, focus_row = with_another_row(rows)
        failure = (200, {})
    elif reader.errors:
        failure = (422, reader.errors)
    else:
        try:
            copied = await roster.copy_session(
                db, clock, actor, session_id, dates, override_reason=override
            )
        except InvalidError as exc:
            failure = (422, place_invalid(exc, reader.rows_sent))
        except ConflictError as exc:
            failure = (409, place_conflict(exc))
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
        request,
        f"Copied the session to {when_held(copied)}. Review it below; it is open for sign-up.",
    )
    return to_course_page(copied.course_id)


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
        can_add_row=len(rows) < row_limit(rows),
    )


HANDLERS = [copy_session_form, copy_session]
