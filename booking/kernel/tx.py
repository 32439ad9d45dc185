"""Transactions: run a use case's transaction, again when PostgreSQL aborted it for a deadlock or
a serialization failure — or, once, when the connection was cut before its COMMIT was sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import MAX_ATTEMPTS, Database, describe, is_cut, is_retryable

log = logging.getLogger(__name__)
T = TypeVar("T")


async def run(db: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one writing transaction: committed when it returns, rolled back when it
    raises, and run again from the start (a fresh transaction, so `work` reads everything anew)
    when PostgreSQL aborted it for a deadlock or a serialization failure.

        async def cancel(s: AsyncSession) -> BookingView:
            ...
        return await tx.run(db, cancel)
    """

    async def attempt() -> T:
        async with db.transaction() as s:
            return await work(s)

    return await with_retry(attempt)


Stage = Literal["connecting", "working", "cut", "committing"]
# How far the attempt under way has got, as `kernel.driver.transaction` reports it (`reached`).
_STAGE: ContextVar[list[Stage] | None] = ContextVar("transaction_stage", default=None)


def reached(stage: Stage) -> None:
    """The driver's transaction has a connection ("working"), lost it before its COMMIT ("cut"),
    or is about to send its COMMIT ("committing"): for `with_retry` to tell a cut it may run
    again from one it may not."""
    where = _STAGE.get()
    if where is not None:
        where[0] = stage


async def with_retry(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a whole transaction again when PostgreSQL aborted it for a deadlock or serialization;
    and once more when its connection was cut (`db.is_cut`, or found closed) after the
    driver's transaction began and before its COMMIT was sent: the server has rolled it back,
    so nothing of it stands, and a failover or a server dropping its connections costs the
    request nothing. A cut while committing may have committed: that one is not run again (the
    request answers 503, and its client may retry with an idempotency key). Transactions
    through the ORM (`run`) report no progress, so they are never run again for a cut."""
    where: list[Stage] = ["connecting"]
    token = _STAGE.set(where)
    cut_once = False
    n = 1
    try:
        while True:
            where[0] = "connecting"
            try:
                return await attempt()
            except Exception as exc:
                cut = where[0] == "cut" or (where[0] == "working" and is_cut(exc))
                if cut and not cut_once:
                    cut_once = True
                    log.warning("transaction run again on a new connection: %s", describe(exc))
                    continue
                if n == MAX_ATTEMPTS or not is_retryable(exc):
                    raise
                log.info("transaction retried after %s (attempt %d)", type(exc).__name__, n)
                await asyncio.sleep(0.01 * n)
                n += 1
    finally:
        _STAGE.reset(token)
