"""The audit log (security issue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId, JsonB


class AuditEvent(Base):
    """Security-relevant events: sign-ins, failures, role changes, overrides, exports, …"""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    # Dotted: login.succeeded, login.failed, person.roles_changed, booking.override, ...
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    ip: Mapped[str | None] = mapped_column(String(64))
