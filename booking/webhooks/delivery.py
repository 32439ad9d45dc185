"""The worker's webhook step: POST each due event to its endpoint, signed.

Rows are claimed like every outbox channel (booking/kernel/claims.py: a token under a lease,
renewed by a heartbeat, `FOR UPDATE SKIP LOCKED` on PostgreSQL), but only rows whose endpoint
is active and not paused. A 2xx answer marks the row sent, and a sent row is never claimed
again; anything else (or no answer) releases it with the outbox's back-off and counts a failure
against the endpoint. After `PAUSE_AFTER` failures in a row the endpoint is paused, with the
reason on the administrators' pages and in the audit log, until an administrator activates it
again. The receiver's answer is not trusted: only its status and a short excerpt are kept."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import audit, claims, tx
from booking.kernel.tx import with_retry
from booking.kernel.webhook_events import WEBHOOK_CHANNEL
from booking.models import Outbox, WebhookEndpoint
from booking.webhooks import signing
from booking.webhooks.enrich import enrich
from booking.webhooks.urls import refusal

log = logging.getLogger(__name__)

# Failed attempts in a row (over all its deliveries) that pause an endpoint: with the outbox's
# back-off, one event alone reaches it after about three hours of failures.
PAUSE_AFTER = 10
# Attempts of one delivery before it is marked failed (an administrator can resend it); more
# than PAUSE_AFTER, so the events waiting when an endpoint is paused go out once it is back.
MAX_ATTEMPTS = 15
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
EXCERPT = 300


@dataclass(slots=True)
class WebhookReport:
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Due:
    row_id: int
    endpoint_id: int
    url: str
    secret: str
    payload: dict[str, Any]


async def deliver_webhooks(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    limit: int = 50,
) -> WebhookReport:
    """Send what is due; how many were delivered and how many failed."""
    report = WebhookReport()
    token = str(uuid.uuid4())
    lease = timedelta(seconds=settings.worker_claim_lease)
    due = await with_retry(partial(_claim, db, clock, token=token, limit=limit, lease=lease))
    if not due:
        return report
    payloads = await enrich(db, [item.payload for item in due])
    due = [replace(item, payload=payload) for item, payload in zip(due, payloads, strict=True)]
    async with (
        claims.heartbeat(db, clock, token, lease),
        httpx.AsyncClient(timeout=TIMEOUT, transport=transport, follow_redirects=False) as client,
    ):
        for item in due:
            if await _deliver(db, clock, settings, client, token, item):
                report.delivered += 1
            else:
                report.failed += 1
    return report


async def _claim(
    db: Database, clock: Clock, *, token: str, limit: int, lease: timedelta
) -> list[Due]:
    """Claim up to `limit` due rows of active, unpaused endpoints for `token`, oldest first,
    counting an attempt on each (as `claims.claim_due` does for the other channels)."""
    async with db.transaction() as s:
        now = clock.now()
        rows = (
            await s.execute(
                select(
                    Outbox.id,
                    Outbox.payload,
                    WebhookEndpoint.id,
                    WebhookEndpoint.url,
                    WebhookEndpoint.secret,
                )
                .join(WebhookEndpoint, WebhookEndpoint.id == Outbox.webhook_endpoint_id)
                .where(
                    Outbox.channel == WEBHOOK_CHANNEL,
                    Outbox.status == "pending",
                    Outbox.sent_at.is_(None),
                    Outbox.available_at <= now,
                    or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now),
                    WebhookEndpoint.active.is_(True),
                    WebhookEndpoint.paused_at.is_(None),
                )
                .order_by(Outbox.id)
                .limit(limit)
                # PostgreSQL: rows another worker holds are skipped, not waited for.
                .with_for_update(skip_locked=True, of=Outbox)
            )
        ).all()
        if rows:
            await s.execute(
                update(Outbox)
                .where(Outbox.id.in_([r[0] for r in rows]))
                .values(claimed_until=now + lease, claim_token=token, attempts=Outbox.attempts + 1)
            )
        return [Due(int(r[0]), int(r[2]), r[3], r[4], dict(r[1] or {})) for r in rows]


async def _deliver(
    db: Database,
    clock: Clock,
    settings: Settings,
    client: httpx.AsyncClient,
    token: str,
    item: Due,
) -> bool:
    """POST one event and settle its row; True if the receiver answered 2xx."""
    refused = await refusal(item.url, allow_private=settings.webhooks_allow_private)
    if refused:
        await tx.run(
            db,
            partial(
                _failed,
                clock=clock,
                token=token,
                item=item,
                status=None,
                error=f"Not sent: {refused}",
            ),
        )
        return False
    body = json.dumps(item.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(clock.now().timestamp())
    headers = signing.headers(item.secret, str(item.payload.get("id")), timestamp, body)
    try:
        async with client.stream("POST", item.url, content=body, headers=headers) as response:
            excerpt = await _excerpt(response)
    except httpx.HTTPError as exc:
        error = f"No answer: {type(exc).__name__}: {exc}"[: EXCERPT * 2]
        await tx.run(
            db, partial(_failed, clock=clock, token=token, item=item, status=None, error=error)
        )
        return False
    if 200 <= response.status_code < 300:
        await tx.run(
            db,
            partial(_delivered, clock=clock, token=token, item=item, status=response.status_code),
        )
        return True
    error = f"HTTP {response.status_code}: {excerpt}" if excerpt else f"HTTP {response.status_code}"
    await tx.run(
        db,
        partial(
            _failed, clock=clock, token=token, item=item, status=response.status_code, error=error
        ),
    )
    return False


async def _excerpt(response: httpx.Response) -> str:
    """At most `EXCERPT` characters of the answer, read no further."""
    read = b""
    async for chunk in response.aiter_bytes():
        read += chunk
        if len(read) >= EXCERPT:
            break
    return " ".join(read[:EXCERPT].decode("utf-8", "replace").split())


async def _delivered(s: AsyncSession, *, clock: Clock, token: str, item: Due, status: int) -> None:
    if not await claims.finish(s, clock=clock, row_id=item.row_id, token=token):
        return
    await s.execute(update(Outbox).where(Outbox.id == item.row_id).values(last_status=status))
    await s.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == item.endpoint_id)
        .values(consecutive_failures=0)
    )


async def _failed(
    s: AsyncSession, *, clock: Clock, token: str, item: Due, status: int | None, error: str
) -> None:
    row = await s.get(Outbox, item.row_id)
    if row is None or row.claim_token != token or row.sent_at is not None:
        return
    row.last_status = status
    await claims.release(
        s, clock=clock, row_id=item.row_id, token=token, error=error, max_attempts=MAX_ATTEMPTS
    )
    failures = await s.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == item.endpoint_id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .returning(WebhookEndpoint.consecutive_failures)
    )
    if failures is not None and failures >= PAUSE_AFTER:
        await _pause(s, item, failures=failures, error=error, now=clock.now())


async def _pause(s: AsyncSession, item: Due, *, failures: int, error: str, now: datetime) -> None:
    reason = f"Paused after {failures} failed deliveries in a row; the last: {error}"[:1000]
    paused = await s.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == item.endpoint_id, WebhookEndpoint.paused_at.is_(None))
        .values(paused_at=now, pause_reason=reason)
    )
    if getattr(paused, "rowcount", 0):
        log.warning("webhook endpoint %s paused: %s", item.endpoint_id, reason)
        await audit.record(
            s,
            action="webhook.paused",
            now=now,
            actor_label="worker",
            target=item.url,
            details={"webhook_id": item.endpoint_id, "failures": failures},
        )
