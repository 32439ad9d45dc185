"""The administrators' outbox: what was and will be sent, one message, and sending it again."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking import notifications
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.web.pages.render import flash, page

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


HANDLERS = [outbox_page, outbox_message_page, requeue_message]
