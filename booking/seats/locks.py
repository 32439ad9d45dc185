"""The session row lock every seat change is taken under.

Concurrency: every use case that changes seats locks the session row first (`SELECT … FOR UPDATE`
on PostgreSQL; SQLite writers are serialised by `BEGIN IMMEDIATE`), then counts and decides.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Session as SessionRow


async def lock_session(s: AsyncSession, session_id: int) -> SessionRow | None:
    """The session row, locked for the rest of the transaction (SQLite: already exclusive)."""
    return await s.scalar(
        select(SessionRow)
        .where(SessionRow.id == session_id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
