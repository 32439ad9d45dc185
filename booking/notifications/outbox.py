"""The administrators' outbox page: the list, one message as it would be sent, and re-queueing
a message that failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import markupsafe
from sqlalchemy import select

from booking import policy
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.webhook_events import WEBHOOK_CHANNEL
from booking.models import Outbox, Person
from booking.notifications.render import Rendered, render_row

WITHHELD = "[link withheld: only the recipient sees it]"


@dataclass(slots=True)
class OutboxItem:
    id: int
    topic: str
    status: str
    to_email: str | None
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    available_at: datetime


async def list_outbox(
    db: Database, actor: Actor, *, status: str | None = None, limit: int = 100
) -> list[OutboxItem]:
    if not policy.can_read_outbox(actor):
        raise ForbiddenError("Only administrators can read the outbox.")
    async with db.reading() as s:
        stmt = (
            select(Outbox, Person.email)
            .outerjoin(Person, Person.id == Outbox.recipient_id)
            # Webhook deliveries have their own log (the webhooks pages), not this one.
            .where(Outbox.channel != WEBHOOK_CHANNEL)
            .order_by(Outbox.id.desc())
            .limit(limit)
        )
        if status:
            stmt = stmt.where(Outbox.status == status)
        return [
            OutboxItem(
                o.id,
                o.topic,
                o.status,
                email or (o.payload or {}).get("to_email"),
                o.created_at,
                o.sent_at,
                o.attempts,
                o.last_error,
                o.available_at,
            )
            for o, email in (await s.execute(stmt)).all()
        ]


async def show_message(
    db: Database, clock: Clock, settings: Settings, actor: Actor, outbox_id: int
) -> Rendered:
    if not policy.can_read_outbox(actor):
        raise ForbiddenError("Only administrators can read the outbox.")
    async with db.reading() as s:
        row = await s.get(Outbox, outbox_id)
        if row is None or row.channel == WEBHOOK_CHANNEL:
            raise NotFoundError(f"There is no message {outbox_id}.")
        rendered = await render_row(s, row, settings, clock.now())
    # A secret link (a password reset) is for its recipient only: an administrator reading the
    # outbox could otherwise take over the account.
    secret = (row.payload or {}).get("link") if policy.link_is_recipients_only(row.topic) else None
    if secret:
        rendered.text = rendered.text.replace(secret, WITHHELD)
        rendered.html = rendered.html.replace(secret, WITHHELD).replace(
            str(markupsafe.escape(secret)), WITHHELD
        )
    return rendered


async def requeue(db: Database, clock: Clock, actor: Actor, outbox_id: int) -> None:
    """Give a failed message another round of attempts."""
    if not policy.can_requeue_messages(actor):
        raise ForbiddenError("Only administrators can re-queue messages.")
    async with db.transaction() as s:
        row = await s.get(Outbox, outbox_id)
        if row is None or row.channel == WEBHOOK_CHANNEL:
            raise NotFoundError(f"There is no message {outbox_id}.")
        if row.status != "failed":
            return
        row.status = "pending"
        row.attempts = 0
        row.available_at = clock.now()
        row.claimed_until = None
        row.claim_token = None
        await audit.record(
            s,
            action="outbox.requeued",
            now=clock.now(),
            actor=actor,
            target=f"message {row.id}",
            details={"topic": row.topic},
        )
