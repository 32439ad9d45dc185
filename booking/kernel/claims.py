"""Outbox claims, shared by every channel the worker delivers (email, xAPI statements).

A worker claims due rows under a short lease (`BOOKING_WORKER_CLAIM_LEASE`, 30 s) and, while it
delivers them, a heartbeat renews the lease of the rows it still holds every third of a lease.
So a worker that is alive keeps its rows however slow a send is, and a worker that dies without
a word (SIGKILL, power cut) holds them for one lease at most: a fresh worker sends them then,
instead of waiting minutes. A claim is a token on the row; only its holder may renew it, mark the
row sent or release it, and a lapsed claim is never renewed (another worker may have it by
then), so "never sent twice after success" rests on the token, not on the timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database, describe
from booking.kernel.tx import with_retry
from booking.models import Outbox

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=30)
# Renewals per lease: two may fail (or be late) before the lease lapses.
BEATS_PER_LEASE = 3


def backoff(attempts: int) -> timedelta:
    """How long a row that failed its `attempts`-th delivery waits before the next: 30 s,
    doubling, at most an hour (email and xAPI alike)."""
    return min(timedelta(seconds=30 * 2 ** max(0, attempts - 1)), timedelta(hours=1))


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's claim: its token, its lease, and the ids and payloads of the rows it holds."""

    token: str
    lease: timedelta
    rows: list[tuple[int, dict[str, Any]]]


async def claim(
    db: Database, clock: Clock, *, channel: str, limit: int, lease_seconds: float
) -> Claim:
    """Claim due rows of `channel` under a fresh token, in `claim_due`'s own transaction
    (retried on a deadlock)."""
    token = str(uuid.uuid4())
    lease = timedelta(seconds=lease_seconds)
    rows = await with_retry(
        partial(claim_due, db, clock, channel=channel, token=token, limit=limit, lease=lease)
    )
    return Claim(token, lease, rows)


async def claim_due(
    db: Database, clock: Clock, *, channel: str, token: str, limit: int, lease: timedelta
) -> list[tuple[int, dict[str, Any]]]:
    """Claim up to `limit` due, unclaimed (or lapsed) rows of `channel` for `token`, oldest
    first, counting an attempt on each; their ids and payloads."""
    async with db.transaction() as s:
        now = clock.now()
        rows = (
            await s.execute(
                select(Outbox.id, Outbox.payload)
                .where(
                    Outbox.channel == channel,
                    Outbox.status == "pending",
                    Outbox.sent_at.is_(None),
                    Outbox.available_at <= now,
                    or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now),
                )
                .order_by(Outbox.id)
                .limit(limit)
                # PostgreSQL: rows another worker holds are skipped, not waited for.
                # SQLite ignores it; its writers are serialised by BEGIN IMMEDIATE anyway.
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await s.execute(
                update(Outbox)
                .where(Outbox.id.in_([r[0] for r in rows]))
                .values(
                    claimed_until=now + lease,
                    claim_token=token,
                    attempts=Outbox.attempts + 1,
                )
            )
        return [(int(r[0]), dict(r[1] or {})) for r in rows]


async def renew(db: Database, clock: Clock, token: str, lease: timedelta) -> int:
    """Extend the claims `token` still holds (unsent, not lapsed) to a lease from now; how many.
    A lapsed claim stays lapsed: another worker may already be sending that row."""
    async with db.transaction() as s:
        now = clock.now()
        result = await s.execute(
            update(Outbox)
            .where(
                Outbox.claim_token == token,
                Outbox.sent_at.is_(None),
                Outbox.claimed_until > now,
            )
            .values(claimed_until=now + lease)
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def restore_released(db: Database, clock: Clock, last_error: str) -> int:
    """Rows released with `last_error` (a stopping worker's own marker) become due now, with
    the attempt given back: a release is not a failed delivery. Only rows nobody has claimed or
    sent since match; how many."""
    async with db.transaction() as s:
        result = await s.execute(
            update(Outbox)
            .where(
                Outbox.last_error == last_error,
                Outbox.sent_at.is_(None),
                Outbox.claim_token.is_(None),
            )
            .values(
                status="pending",
                available_at=clock.now(),
                attempts=case((Outbox.attempts > 0, Outbox.attempts - 1), else_=0),
                last_error=None,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def finish(
    s: AsyncSession, *, clock: Clock, row_id: int, token: str, error: str | None = None
) -> bool:
    """Delivered (or, with `error`, failed for good): the row is done, if `token` still holds
    it; whether it was."""
    result = await s.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.claim_token == token, Outbox.sent_at.is_(None))
        .values(
            status="failed" if error else "sent",
            sent_at=None if error else clock.now(),
            claimed_until=None,
            claim_token=None,
            last_error=error,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def release(
    s: AsyncSession, *, clock: Clock, row_id: int, token: str, error: str, max_attempts: int
) -> None:
    """Not delivered: give the claim back; the row waits (with backoff) or, out of attempts,
    has failed. Nothing happens when `token` no longer holds the row."""
    row = await s.get(Outbox, row_id)
    if row is None or row.claim_token != token or row.sent_at is not None:
        return
    now = clock.now()
    row.claimed_until = None
    row.claim_token = None
    row.last_error = error[:2000]
    if row.attempts >= max_attempts:
        row.status = "failed"
    else:
        row.available_at = now + backoff(row.attempts)


def still_held(row: Outbox, token: str, now: datetime) -> bool:
    """Whether `token` holds `row` now (checked before each send: a claim that lapsed while
    the worker was stalled may be another worker's, and sending here too would be a repeat)."""
    return (
        row.claim_token == token
        and row.sent_at is None
        and row.claimed_until is not None
        and row.claimed_until > now
    )


@contextlib.asynccontextmanager
async def heartbeat(
    db: Database, clock: Clock, token: str, lease: timedelta, *, every: float | None = None
) -> AsyncIterator[None]:
    """Renew `token`'s claims every `every` seconds (a third of the lease) while the block runs;
    the renewals stop with the block, however it ends (a cancelled or killed worker renews
    nothing more, and its claims lapse one lease later)."""
    period = every if every is not None else lease.total_seconds() / BEATS_PER_LEASE

    async def beat() -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await with_retry(lambda: renew(db, clock, token, lease))
            except Exception as exc:  # the next beat tries again; at worst the claims lapse
                log.warning("could not renew outbox claims: %s", describe(exc))

    task = asyncio.create_task(beat(), name=f"outbox-heartbeat-{token[:8]}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
