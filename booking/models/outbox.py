"""The outbox: messages and calls written with the change, delivered by the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId, JsonB


class Outbox(Base):
    """Side effects queued with the change that caused them; the worker delivers after commit."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # email, xapi, ...
    channel: Mapped[str] = mapped_column(String(20))
    # What happened, dotted: booking.booked, booking.waitlisted, session.changed, ...
    topic: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB)
    # Unique: a retried use case cannot queue the same message twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # pending → sent, or → failed after the last attempt (an admin can queue it again).
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    # A worker owns a claimed row until `claimed_until`; only the holder of `claim_token` may
    # mark it sent, so a slow worker cannot mark a row another has since claimed.
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Channel `webhook`: the endpoint this delivery is for, and its last HTTP status.
    webhook_endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    last_status: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index(
            "ix_outbox_pending",
            "available_at",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )
