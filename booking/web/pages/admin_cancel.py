"""Administrators cancel a session: everyone booked or waiting is told, without any fee."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from booking import catalogue
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError
from booking.web.pages.admin_sessions import only_administrators, to_course_page, when_held
from booking.web.pages.forms import form_fields
from booking.web.pages.render import flash, page


@get("/sessions/{session_id:int}/cancel-session", include_in_schema=False)
async def cancel_session_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    only_administrators(actor)
    return await _cancel_page(request, db, clock, actor, session_id, "", {})


@post("/sessions/{session_id:int}/cancel-session", include_in_schema=False, status_code=200)
async def cancel_session(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    only_administrators(actor)
    reason = (await form_fields(request)).get("reason", "").strip()
    try:
        cancelled = await catalogue.cancel_session(db, clock, actor, session_id, reason=reason)
    except (InvalidError, ConflictError) as exc:
        errors = {"reason" if isinstance(exc, InvalidError) else "form": exc.detail}
        return await _cancel_page(
            request, db, clock, actor, session_id, reason, errors, status_code=exc.status
        )
    flash(
        request,
        f"The session of {when_held(cancelled)} is cancelled. Everyone who was booked or waiting "
        "is being told, without any fee.",
    )
    return to_course_page(cancelled.course_id)


async def _cancel_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    reason: str,
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response[Any]:
    """The form to cancel the session, with the reason as typed and what was wrong with it."""
    s = await catalogue.get_session(db, clock, actor, session_id)
    return page(
        request,
        "booking/admin_cancel.html",
        actor=actor,
        nav="courses",
        status_code=status_code,
        session=s,
        reason=reason,
        errors=errors,
    )


HANDLERS = [cancel_session_form, cancel_session]
