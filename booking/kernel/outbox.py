"""The outbox: emails (and their live-update channel) written in the same transaction as the
change they tell of; the worker sends them after the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, Unpack, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Outbox

INSERT_OUTBOX = insert(cast(Table, Outbox.__table__))


def session_channel(session_id: int) -> str:
    """The live-update channel of one session: its row, its roster."""
    return f"session-{session_id}"


class Email(TypedDict):
    """An email's outbox row, as the callers give it."""

    topic: str
    recipient_id: int | None
    booking_id: int | None
    session_id: int | None
    now: datetime
    dedupe_key: str
    payload: dict[str, Any]


async def queue_email(s: AsyncSession, **email: Unpack[Email]) -> None:
    await s.execute(INSERT_OUTBOX, outbox_row(**email))


def outbox_row(**email: Unpack[Email]) -> dict[str, Any]:
    now = email["now"]
    return {
        "channel": "email",
        "topic": email["topic"],
        "recipient_id": email["recipient_id"],
        "booking_id": email["booking_id"],
        "session_id": email["session_id"],
        "payload": email["payload"],
        "dedupe_key": email["dedupe_key"],
        "created_at": now,
        "available_at": now,
    }
