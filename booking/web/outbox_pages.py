"""The administrators' outbox (what was and will be sent) and the private calendar feeds."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post, route
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking import notifications
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.web.caching import conditional_response
from booking.web.deps import provide_page_actor
from booking.web.pages import flash, page

OUTBOX_STATUSES = ("pending", "sent", "failed")


@get("/admin/outbox", include_in_schema=False)
async def outbox_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    status: str | None = Parameter(query="status", required=False),
) -> Template:
    wanted = status if status in OUTBOX_STATUSES else None
    items = await notifications.list_outbox(db, actor, status=wanted)
    return page(
        request,
        "booking/outbox.html",
        actor=actor,
        nav="outbox",
        items=items,
        status=wanted,
        statuses=OUTBOX_STATUSES,
        smtp=bool(request.app.state.settings.smtp_host),
    )


@get("/admin/outbox/{outbox_id:int}", include_in_schema=False)
async def outbox_message_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, outbox_id: int
) -> Template:
    message = await notifications.show_message(
        db, clock, request.app.state.settings, actor, outbox_id
    )
    return page(
        request,
        "booking/outbox_message.html",
        actor=actor,
        nav="outbox",
        m=message,
        ics=message.ics.decode() if message.ics else None,
    )


@post("/admin/outbox/{outbox_id:int}/requeue", include_in_schema=False, status_code=303)
async def requeue_message(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, outbox_id: int
) -> Redirect:
    await notifications.requeue(db, clock, actor, outbox_id)
    flash(request, f"Message {outbox_id} will be tried again.")
    return Redirect(path="/admin/outbox?status=pending", status_code=303)


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


def outbox_routes() -> list[Any]:
    return [
        Router(
            path="/",
            route_handlers=[outbox_page, outbox_message_page, requeue_message, reset_feed],
            dependencies={"actor": Provide(provide_page_actor)},
            include_in_schema=False,
        ),
        calendar_feed,
    ]
