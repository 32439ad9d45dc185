"""Idempotency keys: a retried request with the same key gets the first answer, not a second
booking (or a second cancellation)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.bookings.requests import BookingOutcome
from booking.clock import Clock
from booking.db import Database
from booking.kernel import tx
from booking.kernel.errors import ConflictError, InvalidError
from booking.models import IdempotencyKey
from booking.reads.bookings import booking_view

# A use case's work inside the transaction, given the moment it runs at.
Work = Callable[[AsyncSession, datetime], Awaitable[BookingOutcome]]


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """The caller's `Idempotency-Key` and a fingerprint of what they sent with it."""

    caller: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, caller: str, key: str, operation: str, body: Any) -> IdempotencyClaim:
        if not key or len(key) > 200:
            raise InvalidError("Idempotency-Key must be 1 to 200 characters.", "Idempotency-Key")
        canonical = json.dumps([operation, body], sort_keys=True, default=str)
        return cls(caller, key, hashlib.sha256(canonical.encode()).hexdigest())


async def run_once(
    db: Database, clock: Clock, claim: IdempotencyClaim | None, work: Work
) -> BookingOutcome:
    """Run `work` in one transaction (`tx.run`), reading `now` once at its start; with a claim,
    only once per key: a known key replays the first answer."""
    keyed = partial(_keyed, clock=clock, claim=claim, work=work)
    try:
        return await tx.run(db, keyed)
    except IntegrityError:
        if claim is None:
            raise
        # Lost the race for the key to a twin request that has committed: replay its answer.
        return await tx.run(db, keyed)


async def _keyed(
    s: AsyncSession, *, clock: Clock, claim: IdempotencyClaim | None, work: Work
) -> BookingOutcome:
    now = clock.now()
    if claim is not None:
        replay = await _replay_or_reserve(s, claim, now)
        if replay is not None:
            return replay
    outcome = await work(s, now)
    if claim is not None:
        await _settle(s, claim, outcome)
    return outcome


async def _replay_or_reserve(
    s: AsyncSession, claim: IdempotencyClaim, now: datetime
) -> BookingOutcome | None:
    """Replay the first answer for a known key; otherwise reserve the key in this transaction.

    The reservation is a row under a unique constraint: a concurrent request with the same key
    waits on it and, once this transaction commits, fails its insert and replays."""
    existing = await s.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.caller == claim.caller, IdempotencyKey.key == claim.key
        )
    )
    if existing is None:
        s.add(
            IdempotencyKey(
                caller=claim.caller,
                key=claim.key,
                fingerprint=claim.fingerprint,
                status_code=0,
                created_at=now,
            )
        )
        await s.flush()
        return None
    if existing.fingerprint != claim.fingerprint:
        raise InvalidError(
            "This Idempotency-Key was already used with a different request.", "Idempotency-Key"
        )
    if existing.booking_id is None:
        raise ConflictError("A request with this Idempotency-Key is still in progress.")
    return BookingOutcome(
        await booking_view(s, existing.booking_id, now=now), existing.status_code, replayed=True
    )


async def _settle(s: AsyncSession, claim: IdempotencyClaim, outcome: BookingOutcome) -> None:
    await s.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.caller == claim.caller, IdempotencyKey.key == claim.key)
        .values(booking_id=outcome.booking.id, status_code=outcome.status_code)
    )
