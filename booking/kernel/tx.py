"""Transactions: run a use case's transaction, again when PostgreSQL aborted it for a deadlock or
a serialization failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import MAX_ATTEMPTS, Database, is_retryable

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


async def with_retry(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a whole transaction again when PostgreSQL aborted it for a deadlock or serialization."""
    for n in range(1, MAX_ATTEMPTS + 1):
        try:
            return await attempt()
        except Exception as exc:
            if n == MAX_ATTEMPTS or not is_retryable(exc):
                raise
            log.info("transaction retried after %s (attempt %d)", type(exc).__name__, n)
            await asyncio.sleep(0.01 * n)
    raise AssertionError("unreachable")
