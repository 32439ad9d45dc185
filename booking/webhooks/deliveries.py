"""An endpoint's delivery log (its outbox rows, newest first) and sending one again.

A resend is a new outbox row with the same event (same `webhook-id`, so a receiver that had it
drops the repeat) and a fresh attempt count; the original row stays in the log as it was."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, NotFoundError
from booking.kernel.outbox import INSERT_OUTBOX
from booking.kernel.webhook_events import WEBHOOK_CHANNEL, EventType, WebhookEvent
from booking.models import Outbox, WebhookEndpoint
from booking.webhooks.endpoints import PAGE_SIZE, check

DeliveryStatus = Literal["pending", "delivered", "failed"]
_STATUS: dict[str, DeliveryStatus] = {
    "pending": "pending",
    "sent": "delivered",
    "failed": "failed",
}


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One event sent (or to be sent) to one endpoint. `last_status` is the receiver's last
    HTTP status (None: no answer yet, or a network error: see `last_error`)."""

    id: int
    webhook_id: int
    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    payload: WebhookEvent


def _view(row: Outbox) -> DeliveryView:
    payload = dict(row.payload or {})
    status = _STATUS.get(row.status, "pending")
    return DeliveryView(
        id=row.id,
        webhook_id=int(row.webhook_endpoint_id or 0),
        event_id=str(payload.get("id", "")),
        event_type=cast(EventType, row.topic),
        status=status,
        attempts=row.attempts,
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.available_at if status == "pending" else None,
        delivered_at=row.sent_at,
        payload=cast(WebhookEvent, payload),
    )


async def list_deliveries(
    db: Database,
    actor: Actor,
    webhook_id: int,
    *,
    cursor: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[DeliveryView], int | None]:
    """The endpoint's deliveries, newest first, a page at a time (two statements)."""
    check(actor)
    query = (
        select(Outbox)
        .where(Outbox.webhook_endpoint_id == webhook_id, Outbox.channel == WEBHOOK_CHANNEL)
        .order_by(Outbox.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(Outbox.id < cursor)
    async with db.reading() as s:
        if await s.get(WebhookEndpoint, webhook_id) is None:
            raise NotFoundError(f"There is no webhook {webhook_id}.")
        rows = [_view(row) for row in (await s.scalars(query)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


async def resend_delivery(
    db: Database, clock: Clock, actor: Actor, webhook_id: int, delivery_id: int
) -> DeliveryView:
    """Queue the delivery's event again for its endpoint, due now."""
    check(actor)

    async def work(s: AsyncSession) -> DeliveryView:
        row = await _delivery(s, webhook_id, delivery_id)
        endpoint = await s.get(WebhookEndpoint, webhook_id)
        if endpoint is None or not endpoint.active:
            raise ConflictError("The endpoint is switched off: activate it before resending.")
        if endpoint.paused_at is not None:
            raise ConflictError("The endpoint is paused after failures: activate it first.")
        now = clock.now()
        event_id = str((row.payload or {}).get("id", ""))
        copy = {
            "channel": WEBHOOK_CHANNEL,
            "topic": row.topic,
            "recipient_id": None,
            "booking_id": row.booking_id,
            "session_id": row.session_id,
            "payload": row.payload,
            "dedupe_key": f"webhook:{event_id}:{webhook_id}:resend:{uuid.uuid4().hex}",
            "created_at": now,
            "available_at": now,
            "webhook_endpoint_id": webhook_id,
        }
        new_id = (await s.execute(INSERT_OUTBOX.returning(Outbox.id), copy)).scalar_one()
        await audit.record(
            s,
            action="webhook.resent",
            now=now,
            actor=actor,
            target=endpoint.url,
            details={"webhook_id": webhook_id, "delivery_id": delivery_id, "event_id": event_id},
        )
        return await _delivery_view(s, webhook_id, int(new_id))

    return await tx.run(db, work)


async def _delivery(s: AsyncSession, webhook_id: int, delivery_id: int) -> Outbox:
    row = await s.scalar(
        select(Outbox).where(
            Outbox.id == delivery_id,
            Outbox.webhook_endpoint_id == webhook_id,
            Outbox.channel == WEBHOOK_CHANNEL,
        )
    )
    if row is None:
        raise NotFoundError(f"Webhook {webhook_id} has no delivery {delivery_id}.")
    return row


async def _delivery_view(s: AsyncSession, webhook_id: int, delivery_id: int) -> DeliveryView:
    return _view(await _delivery(s, webhook_id, delivery_id))
