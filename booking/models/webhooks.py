"""Outgoing webhooks: the endpoints integrators registered. Their deliveries are outbox rows
(channel `webhook`, one per event and endpoint, `outbox.webhook_endpoint_id`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId, JsonB


class WebhookEndpoint(Base):
    """Where events are POSTed, signed with the endpoint's own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), server_default="")
    # `whsec_<base64>`; shown to administrators, signs every delivery (HMAC-SHA256).
    secret: Mapped[str] = mapped_column(String(100))
    # The event types it hears of, a JSON list; an empty list means every type.
    event_types: Mapped[list[str]] = mapped_column(JsonB)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Set by the worker after too many failed deliveries in a row; cleared on re-activation.
    paused_at: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
