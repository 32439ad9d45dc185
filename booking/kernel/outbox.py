"""The outbox: emails (and their live-update channel) written in the same transaction as the
change they tell of; the worker sends them after the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Outbox

INSERT_OUTBOX = insert(cast(Table, Outbox.__table__))


def session_channel(session_id: int) -> str:
    """The live-update channel of one session: its row, its roster."""
    return f"session-{session_id}"


async def queue_email(
    s: AsyncSession,
    *,
    topic: str,
    recipient_id: int | None,
    booking_id: int | None,
    session_id: int | None,
    now: datetime,
    dedupe_key: str,
    payload: dict[str, Any],
) -> None:
    await s.execute(
        INSERT_OUTBOX,
        outbox_row(
            topic=topic,
            recipient_id=recipient_id,
            booking_id=booking_id,
            session_id=session_id,
            now=now,
            dedupe_key=dedupe_key,
            payload=payload,
        ),
    )


def outbox_row(
    *,
    topic: str,
    recipient_id: int | None,
    booking_id: int | None,
    session_id: int | None,
    now: datetime,
    dedupe_key: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {
        "channel": "email",
        "topic": topic,
        "recipient_id": recipient_id,
        "booking_id": booking_id,
        "session_id": session_id,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "available_at": now,
    }
