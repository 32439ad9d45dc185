"""The private calendar feed: the link a learner's calendar polls, and replacing that link."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post, route
from litestar.enums import HttpMethod
from litestar.response import Redirect

from booking import notifications
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.web.caching import conditional_response
from booking.web.pages.render import flash


@post("/me/calendar-feed/reset", include_in_schema=False, status_code=303)
async def reset_feed(request: Request[Any, Any, Any], db: Database, actor: Actor) -> Redirect:
    await notifications.calendar_token(db, actor, reset=True)
    flash(request, "Your calendar link has been replaced; the old one no longer works.")
    return Redirect(path="/me/bookings#calendar-feed", status_code=303)


@route(
    "/calendar/{filename:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    include_in_schema=False,
    # Calendar clients poll it and post nothing: no CSRF cookie to set (or to check).
    opt={"exclude_from_csrf": True},
)
async def calendar_feed(
    request: Request[Any, Any, Any], db: Database, clock: Clock, filename: str
) -> Response[bytes]:
    """`/calendar/{token}.ics`: the holder of the private link gets the feed, nobody else.
    Clients poll it: HEAD, and 304 to If-None-Match / If-Modified-Since when nothing changed."""
    if not filename.endswith(".ics"):
        raise NotFoundError("There is no such calendar.")
    feed = await notifications.calendar_feed(
        db, clock, request.app.state.settings, filename.removesuffix(".ics")
    )
    return conditional_response(
        request,
        feed.body,
        media_type="text/calendar",  # Litestar adds "; charset=utf-8" to text/* types
        modified=feed.modified,
        headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )
