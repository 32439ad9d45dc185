"""Administrators' webhook endpoints: list, register (the secret is answered), read, change
(re-activating a paused endpoint unpauses it), remove. Every change is in the audit log,
never with the secret."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.kernel.webhook_events import EVENT_TYPES, EventType
from booking.models import Outbox, Person, WebhookEndpoint
from booking.webhooks.signing import new_secret
from booking.webhooks.urls import check_url

MAX_DESCRIPTION = 500
PAGE_SIZE = 50

EndpointStatus = Literal["active", "paused", "inactive"]

# What each event type tells, for the administrators' form.
EVENT_DESCRIPTIONS: dict[EventType, str] = {
    "booking.created": "A booking is made (booked, waitlisted or waiting for approval or payment)",
    "booking.state_changed": "A booking moves: booked, offered, cancelled, attended, no-show …",
    "session.changed": "A session's dates, room, capacity or settings change",
    "session.cancelled": "A session is cancelled",
    "completion.recorded": "A completion is added to a learner's record",
    "approval.requested": "A booking waits for someone's approval",
    "approval.decided": "An approval is given or refused",
}


@dataclass(frozen=True, slots=True)
class WebhookView:
    """An endpoint as the API and the page show it. `status`: `active`, `paused` (by the
    worker, after failures: see `pause_reason`) or `inactive` (switched off)."""

    id: int
    url: str
    description: str
    event_types: list[EventType]
    active: bool
    status: EndpointStatus
    paused_at: datetime | None
    pause_reason: str | None
    consecutive_failures: int
    created_at: datetime
    created_by: str | None
    pending_deliveries: int


@dataclass(frozen=True, slots=True)
class NewWebhook(WebhookView):
    """An endpoint just registered, with its signing secret (the API shows it this once)."""

    secret: str


@dataclass(frozen=True, slots=True)
class WebhookInput:
    url: str
    event_types: list[str]
    description: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class WebhookChanges:
    """A PATCH: None leaves a field as it is."""

    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    active: bool | None = None


def check(actor: Actor) -> None:
    if not policy.can_manage_webhooks(actor):
        raise ForbiddenError("Only administrators can manage webhooks.")


def clean_event_types(types: list[str]) -> list[EventType]:
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise InvalidError(
            f"Unknown event type {unknown[0]!r}: choose from {', '.join(EVENT_TYPES)}.",
            "event_types",
        )
    return [t for t in EVENT_TYPES if t in types]


def clean_description(description: str) -> str:
    cleaned = " ".join(description.split())
    if len(cleaned) > MAX_DESCRIPTION:
        raise InvalidError(f"Keep the description to {MAX_DESCRIPTION} characters.", "description")
    return cleaned


_Creator = aliased(Person)
_PENDING = (
    select(func.count(Outbox.id))
    .where(Outbox.webhook_endpoint_id == WebhookEndpoint.id, Outbox.status == "pending")
    .correlate(WebhookEndpoint)
    .scalar_subquery()
)
_ROWS = select(WebhookEndpoint, _Creator.name, _PENDING).outerjoin(
    _Creator, _Creator.id == WebhookEndpoint.created_by_id
)


def _status(endpoint: WebhookEndpoint) -> EndpointStatus:
    if not endpoint.active:
        return "inactive"
    return "paused" if endpoint.paused_at is not None else "active"


def _view(endpoint: WebhookEndpoint, creator: str | None, pending: int | None) -> WebhookView:
    return WebhookView(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=clean_event_types(list(endpoint.event_types or [])),
        active=endpoint.active,
        status=_status(endpoint),
        paused_at=endpoint.paused_at,
        pause_reason=endpoint.pause_reason,
        consecutive_failures=endpoint.consecutive_failures,
        created_at=endpoint.created_at,
        created_by=creator,
        pending_deliveries=int(pending or 0),
    )


async def list_webhooks(
    db: Database, actor: Actor, *, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[WebhookView], int | None]:
    """Endpoints in the order they were registered, a page at a time (one statement); the
    cursor of the next page, or None."""
    check(actor)
    query = _ROWS.order_by(WebhookEndpoint.id).limit(limit + 1)
    if cursor is not None:
        query = query.where(WebhookEndpoint.id > cursor)
    async with db.reading() as s:
        rows = [_view(*row) for row in (await s.execute(query)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


async def count_paused(db: Database, actor: Actor) -> int:
    """Active endpoints the worker paused after failures (the administration page warns)."""
    check(actor)
    async with db.reading() as s:
        paused = await s.scalar(
            select(func.count()).where(
                WebhookEndpoint.active.is_(True), WebhookEndpoint.paused_at.is_not(None)
            )
        )
    return int(paused or 0)


async def webhook(db: Database, actor: Actor, webhook_id: int) -> WebhookView:
    check(actor)
    async with db.reading() as s:
        return await _read(s, webhook_id)


async def webhook_secret(db: Database, actor: Actor, webhook_id: int) -> str:
    """The signing secret, for an administrator's page."""
    check(actor)
    async with db.reading() as s:
        secret = await s.scalar(
            select(WebhookEndpoint.secret).where(WebhookEndpoint.id == webhook_id)
        )
    if secret is None:
        raise NotFoundError(f"There is no webhook {webhook_id}.")
    return secret


async def _read(s: AsyncSession, webhook_id: int) -> WebhookView:
    found = (await s.execute(_ROWS.where(WebhookEndpoint.id == webhook_id))).first()
    if found is None:
        raise NotFoundError(f"There is no webhook {webhook_id}.")
    return _view(*found)


async def create_webhook(
    db: Database, clock: Clock, actor: Actor, data: WebhookInput, *, allow_private: bool
) -> NewWebhook:
    """Register an endpoint; the answer carries its secret."""
    check(actor)
    url = await check_url(data.url, allow_private=allow_private)
    types = clean_event_types(data.event_types)
    description = clean_description(data.description)

    async def work(s: AsyncSession) -> NewWebhook:
        now = clock.now()
        endpoint = WebhookEndpoint(
            url=url,
            description=description,
            secret=new_secret(),
            event_types=list(types),
            active=data.active,
            consecutive_failures=0,
            created_at=now,
            created_by_id=actor.person_id,
        )
        s.add(endpoint)
        await s.flush()
        await audit.record(
            s,
            action="webhook.created",
            now=now,
            actor=actor,
            target=url,
            details={"webhook_id": endpoint.id, "event_types": ", ".join(types) or "all"},
        )
        view = await _read(s, endpoint.id)
        return NewWebhook(
            **{f.name: getattr(view, f.name) for f in fields(view)}, secret=endpoint.secret
        )

    return await tx.run(db, work)


async def update_webhook(
    db: Database,
    clock: Clock,
    actor: Actor,
    webhook_id: int,
    changes: WebhookChanges,
    *,
    allow_private: bool,
) -> WebhookView:
    """Change an endpoint. Activating it (`active: true`) also lifts a pause and clears the
    failure count: its waiting deliveries go out at the next tick."""
    check(actor)
    fields: dict[str, Any] = {}
    if changes.url is not None:
        fields["url"] = await check_url(changes.url, allow_private=allow_private)
    if changes.event_types is not None:
        fields["event_types"] = list(clean_event_types(changes.event_types))
    if changes.description is not None:
        fields["description"] = clean_description(changes.description)
    return await tx.run(
        db,
        partial(
            _update,
            clock=clock,
            actor=actor,
            webhook_id=webhook_id,
            fields=fields,
            active=changes.active,
        ),
    )


async def _update(
    s: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    webhook_id: int,
    fields: dict[str, Any],
    active: bool | None,
) -> WebhookView:
    endpoint = await _lock(s, webhook_id)
    now = clock.now()
    for name, value in fields.items():
        setattr(endpoint, name, value)
    changed = sorted(fields)
    if active is not None:
        changed.append("active")
        endpoint.active = active
        if active:
            endpoint.paused_at = None
            endpoint.pause_reason = None
            endpoint.consecutive_failures = 0
    await s.flush()
    await audit.record(
        s,
        action="webhook.changed",
        now=now,
        actor=actor,
        target=endpoint.url,
        details={
            "webhook_id": endpoint.id,
            "changed": ", ".join(changed) or "nothing",
            "active": endpoint.active,
        },
    )
    return await _read(s, webhook_id)


async def delete_webhook(db: Database, clock: Clock, actor: Actor, webhook_id: int) -> None:
    """Remove an endpoint with its delivery log; what it had waiting is never sent."""
    check(actor)

    async def work(s: AsyncSession) -> None:
        endpoint = await _lock(s, webhook_id)
        now = clock.now()
        await audit.record(
            s,
            action="webhook.deleted",
            now=now,
            actor=actor,
            target=endpoint.url,
            details={"webhook_id": endpoint.id},
        )
        await s.execute(delete(Outbox).where(Outbox.webhook_endpoint_id == endpoint.id))
        await s.delete(endpoint)

    await tx.run(db, work)


async def _lock(s: AsyncSession, webhook_id: int) -> WebhookEndpoint:
    endpoint = await s.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == webhook_id).with_for_update()
    )
    if endpoint is None:
        raise NotFoundError(f"There is no webhook {webhook_id}.")
    return endpoint
