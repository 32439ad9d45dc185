"""The administrators' list of every session (`/admin/sessions`): upcoming by default, or past,
cancelled or drafts; filtered by course, trainer, room, status and dates, searched by course code
or title, a page at a time. A plain GET form: it works without JavaScript, and every filter is
in the link, so a filtered list can be bookmarked or shared."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from booking import catalogue
from booking.catalogue import SessionFilter
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.web.pages.forms import search_query
from booking.web.pages.render import page

PATH = "/admin/sessions"
# The tabs: a name, and the filter values they set.
VIEWS = (
    ("Upcoming", {"when": "upcoming"}),
    ("Past", {"when": "past"}),
    ("Cancelled", {"when": "all", "status": "cancelled"}),
    ("Drafts", {"when": "all", "status": "draft"}),
)
WHEN_LABELS = {"upcoming": "Not over yet", "past": "Over", "all": "Any time"}
STATUS_LABELS = {"open": "Open", "full": "Full", "draft": "Draft", "cancelled": "Cancelled"}
_MAX_ID = 2**63 - 1
_MAX_PAGE = 100_000


def _number(value: str | None, ceiling: int = _MAX_ID) -> int | None:
    if not value or not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= ceiling else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def read_filter(params: dict[str, str | None]) -> SessionFilter:
    """The filters as the link gives them; anything unreadable is "not chosen"."""
    room = params.get("room")
    when = params.get("when") or ""
    status = params.get("status") or ""
    return SessionFilter(
        when=when if when in WHEN_LABELS else "upcoming",
        status=status if status in STATUS_LABELS else None,
        course_id=_number(params.get("course")),
        trainer_id=_number(params.get("trainer")),
        room=catalogue.ONLINE_ROOM if room == catalogue.ONLINE_ROOM else _number(room),
        date_from=_day(params.get("from")),
        date_to=_day(params.get("to")),
        query=search_query(params.get("q")),
        page=_number(params.get("page"), _MAX_PAGE) or 1,
    )


def link_values(w: SessionFilter) -> dict[str, str]:
    """The filter as link parameters (the ones chosen only)."""
    values = {
        "when": w.when,
        "status": w.status or "",
        "course": str(w.course_id or ""),
        "trainer": str(w.trainer_id or ""),
        "room": str(w.room or ""),
        "from": w.date_from.isoformat() if w.date_from else "",
        "to": w.date_to.isoformat() if w.date_to else "",
        "q": w.query,
    }
    return {k: v for k, v in values.items() if v}


@get(PATH, include_in_schema=False)
async def sessions_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    when: str | None = None,
    status: str | None = None,
    course: str | None = None,
    trainer: str | None = None,
    room: str | None = None,
    date_from: str | None = Parameter(query="from", default=None),
    date_to: str | None = Parameter(query="to", default=None),
    q: str | None = None,
    page_number: str | None = Parameter(query="page", default=None),
) -> Template:
    wanted = read_filter(
        {
            "when": when,
            "status": status,
            "course": course,
            "trainer": trainer,
            "room": room,
            "from": date_from,
            "to": date_to,
            "q": q,
            "page": page_number,
        }
    )
    found = await catalogue.list_sessions(db, clock, actor, wanted)
    chosen = link_values(wanted)
    here = wanted.page

    def at(number: int) -> str:
        return f"{PATH}?{urlencode({**chosen, 'page': number} if number > 1 else chosen)}"

    return page(
        request,
        "booking/admin_session_list.html",
        actor=actor,
        nav="sessions",
        found=found,
        w=wanted,
        views=[(name, f"{PATH}?{urlencode(v)}", _is_view(wanted, v)) for name, v in VIEWS],
        when_labels=WHEN_LABELS,
        status_labels=STATUS_LABELS,
        online=catalogue.ONLINE_ROOM,
        next_link=at(here + 1) if found.has_next else None,
        previous_link=at(here - 1) if here > 1 else None,
        filtered=bool(set(chosen) - {"when"}),
    )


def _is_view(w: SessionFilter, values: dict[str, str]) -> bool:
    return w.when == values["when"] and (w.status or None) == values.get("status")


HANDLERS = [sessions_page]
