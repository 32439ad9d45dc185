"""API: outgoing webhook endpoints and their delivery log (administrators; docs/api.md,
"Webhooks"). The signing secret is answered once, by the creation."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, patch, post

from booking import webhooks
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.webhook_events import EventType
from booking.web.api.params import CursorParam, LimitParam, cursor_of
from booking.web.api.schemas import text
from booking.webhooks.endpoints import MAX_DESCRIPTION
from booking.webhooks.urls import MAX_URL

Url = Annotated[str, text(MAX_URL)]
Description = Annotated[str, text(MAX_DESCRIPTION)]


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new endpoint. `event_types` empty (the default) means every event type, including
    types added later."""

    url: Url
    event_types: list[EventType] = msgspec.field(default_factory=list)
    description: Description = ""
    active: bool = True


class WebhookPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out stay as they are. `active: true` also lifts a pause."""

    url: Url | None = None
    event_types: list[EventType] | None = None
    description: Description | None = None
    active: bool | None = None


class WebhookPage(msgspec.Struct):
    items: list[webhooks.WebhookView]
    next_cursor: str | None


class DeliveryPage(msgspec.Struct):
    items: list[webhooks.DeliveryView]
    next_cursor: str | None


def _allow_private(request: Request[Any, Any, Any]) -> bool:
    settings: Settings = request.app.state.settings
    return settings.webhooks_allow_private


def _cursor(value: int | None) -> str | None:
    return None if value is None else str(value)


@get("/webhooks", summary="Webhook endpoints", tags=["webhooks"])
async def list_webhooks(
    db: Database,
    actor: Actor,
    cursor: str | None = CursorParam,
    limit: int = LimitParam,
) -> WebhookPage:
    items, after = await webhooks.list_webhooks(db, actor, cursor=cursor_of(cursor), limit=limit)
    return WebhookPage(items, _cursor(after))


@post("/webhooks", summary="Register a webhook endpoint", status_code=201, tags=["webhooks"])
async def create_webhook(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, data: WebhookIn
) -> webhooks.NewWebhook:
    return await webhooks.create_webhook(
        db,
        clock,
        actor,
        webhooks.WebhookInput(
            url=data.url,
            event_types=list(data.event_types),
            description=data.description,
            active=data.active,
        ),
        allow_private=_allow_private(request),
    )


@get("/webhooks/{webhook_id:int}", summary="A webhook endpoint", tags=["webhooks"])
async def get_webhook(db: Database, actor: Actor, webhook_id: int) -> webhooks.WebhookView:
    return await webhooks.webhook(db, actor, webhook_id)


@patch("/webhooks/{webhook_id:int}", summary="Change a webhook endpoint", tags=["webhooks"])
async def patch_webhook(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    data: WebhookPatch,
    webhook_id: int,
) -> webhooks.WebhookView:
    return await webhooks.update_webhook(
        db,
        clock,
        actor,
        webhook_id,
        webhooks.WebhookChanges(
            url=data.url,
            event_types=None if data.event_types is None else list(data.event_types),
            description=data.description,
            active=data.active,
        ),
        allow_private=_allow_private(request),
    )


@delete(
    "/webhooks/{webhook_id:int}",
    summary="Remove a webhook endpoint and its delivery log",
    status_code=204,
    tags=["webhooks"],
)
async def delete_webhook(db: Database, clock: Clock, actor: Actor, webhook_id: int) -> None:
    await webhooks.delete_webhook(db, clock, actor, webhook_id)


@get(
    "/webhooks/{webhook_id:int}/deliveries",
    summary="A webhook endpoint's deliveries, newest first",
    tags=["webhooks"],
)
async def list_deliveries(
    db: Database,
    actor: Actor,
    webhook_id: int,
    cursor: str | None = CursorParam,
    limit: int = LimitParam,
) -> DeliveryPage:
    items, after = await webhooks.list_deliveries(
        db, actor, webhook_id, cursor=cursor_of(cursor), limit=limit
    )
    return DeliveryPage(items, _cursor(after))


@post(
    "/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/resend",
    summary="Send a delivery's event again",
    status_code=202,
    tags=["webhooks"],
)
async def resend_delivery(
    db: Database,
    clock: Clock,
    actor: Actor,
    webhook_id: int,
    delivery_id: int,
) -> webhooks.DeliveryView:
    return await webhooks.resend_delivery(db, clock, actor, webhook_id, delivery_id)


HANDLERS = [
    list_webhooks,
    create_webhook,
    get_webhook,
    patch_webhook,
    delete_webhook,
    list_deliveries,
    resend_delivery,
]
