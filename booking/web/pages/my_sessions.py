"""My sessions: the trainer's own list of the sessions they run, with the attendance to take."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from booking import roster
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.web.pages.forms import whole_number
from booking.web.pages.render import page


@get("/me/sessions", include_in_schema=False)
async def my_sessions_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    past_page: str | None = Parameter(query="past", required=False),
) -> Template:
    mine = await roster.my_sessions(
        db,
        clock,
        actor,
        past_page=whole_number(past_page or "") or 1,
        lock_days=int(request.app.state.settings.attendance_lock_days),
    )
    return page(request, "booking/my_sessions.html", actor=actor, nav="my_sessions", mine=mine)


HANDLERS = [my_sessions_page]
