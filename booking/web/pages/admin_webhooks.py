"""Administrators' webhooks pages: the endpoints with their status (a paused one shows why),
registering one (the answer shows its secret), an endpoint's page with its settings form, its
secret, its delivery log and a "Resend" button on each delivery. Plain POST forms with CSRF:
everything works without JavaScript."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from booking import webhooks
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError
from booking.web.pages.forms import page_cursor
from booking.web.pages.render import flash, page

MAX_TYPED = 3_000  # past the URL's limit: the service names the limit


def _allow_private(request: Request[Any, Any, Any]) -> bool:
    settings: Settings = request.app.state.settings
    return settings.webhooks_allow_private


async def _typed(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The form as typed: url, description, the event types ticked, active."""
    posted = await request.form()
    text = {k: v for k, v in posted.items() if isinstance(v, str)}
    types = (
        [v for v in posted.getall("event_types") if isinstance(v, str)]
        if ("event_types" in posted)
        else []
    )
    return {
        "url": text.get("url", "")[:MAX_TYPED],
        "description": text.get("description", "")[:MAX_TYPED],
        "event_types": types,
        "active": text.get("active") == "yes",
    }


def _blank() -> dict[str, Any]:
    return {"url": "", "description": "", "event_types": [], "active": True}


async def _list_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    *,
    created: webhooks.NewWebhook | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    endpoints, _ = await webhooks.list_webhooks(db, actor, limit=200)
    return page(
        request,
        "booking/admin_webhooks.html",
        actor=actor,
        nav="webhooks",
        endpoints=endpoints,
        event_types=webhooks.EVENT_DESCRIPTIONS.items(),
        allow_private=_allow_private(request),
        created=created,
        errors=errors or {},
        typed=typed or _blank(),
        status_code=status_code,
    )


@get("/admin/webhooks", include_in_schema=False)
async def webhooks_page(request: Request[Any, Any, Any], db: Database, actor: Actor) -> Template:
    return await _list_page(request, db, actor)


@post("/admin/webhooks", include_in_schema=False, status_code=200)
async def create_webhook(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    typed = await _typed(request)
    try:
        created = await webhooks.create_webhook(
            db,
            clock,
            actor,
            webhooks.WebhookInput(**typed),
            allow_private=_allow_private(request),
        )
    except InvalidError as exc:
        errors = {exc.field or "url": exc.detail}
        return await _list_page(request, db, actor, errors=errors, typed=typed, status_code=422)
    return await _list_page(request, db, actor, created=created)


async def _endpoint_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    webhook_id: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    endpoint = await webhooks.webhook(db, actor, webhook_id)
    cursor = page_cursor(request.query_params.get("cursor"))
    deliveries, next_cursor = await webhooks.list_deliveries(db, actor, webhook_id, cursor=cursor)
    return page(
        request,
        "booking/admin_webhook.html",
        actor=actor,
        nav="webhooks",
        endpoint=endpoint,
        secret=await webhooks.webhook_secret(db, actor, webhook_id),
        deliveries=deliveries,
        next_cursor=next_cursor,
        event_types=webhooks.EVENT_DESCRIPTIONS.items(),
        allow_private=_allow_private(request),
        errors=errors or {},
        typed=typed
        or {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "active": endpoint.active,
        },
        status_code=status_code,
    )


@get("/admin/webhooks/{webhook_id:int}", include_in_schema=False)
async def webhook_page(
    request: Request[Any, Any, Any], db: Database, actor: Actor, webhook_id: int
) -> Template:
    return await _endpoint_page(request, db, actor, webhook_id)


@post("/admin/webhooks/{webhook_id:int}", include_in_schema=False, status_code=303)
async def change_webhook(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, webhook_id: int
) -> Response[Any]:
    typed = await _typed(request)
    try:
        await webhooks.update_webhook(
            db,
            clock,
            actor,
            webhook_id,
            webhooks.WebhookChanges(**typed),
            allow_private=_allow_private(request),
        )
    except InvalidError as exc:
        errors = {exc.field or "url": exc.detail}
        return await _endpoint_page(
            request, db, actor, webhook_id, errors=errors, typed=typed, status_code=422
        )
    flash(request, "The endpoint is saved.")
    return Redirect(path=f"/admin/webhooks/{webhook_id}", status_code=303)


@post("/admin/webhooks/{webhook_id:int}/activate", include_in_schema=False, status_code=303)
async def activate_webhook(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, webhook_id: int
) -> Response[Any]:
    await webhooks.update_webhook(
        db,
        clock,
        actor,
        webhook_id,
        webhooks.WebhookChanges(active=True),
        allow_private=_allow_private(request),
    )
    flash(request, "The endpoint is active again: its waiting deliveries go out now.")
    return Redirect(path=f"/admin/webhooks/{webhook_id}", status_code=303)


@post("/admin/webhooks/{webhook_id:int}/delete", include_in_schema=False, status_code=303)
async def delete_webhook(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, webhook_id: int
) -> Response[Any]:
    await webhooks.delete_webhook(db, clock, actor, webhook_id)
    flash(request, "The endpoint and its delivery log are removed.")
    return Redirect(path="/admin/webhooks", status_code=303)


@post(
    "/admin/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/resend",
    include_in_schema=False,
    status_code=303,
)
async def resend_delivery(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    webhook_id: int,
    delivery_id: int,
) -> Response[Any]:
    try:
        await webhooks.resend_delivery(db, clock, actor, webhook_id, delivery_id)
    except ConflictError as exc:
        flash(request, exc.detail)
    else:
        flash(request, "The event is queued to be sent again.")
    return Redirect(path=f"/admin/webhooks/{webhook_id}", status_code=303)


HANDLERS = [
    webhooks_page,
    create_webhook,
    webhook_page,
    change_webhook,
    activate_webhook,
    delete_webhook,
    resend_delivery,
]
