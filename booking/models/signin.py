"""Sign-in (security issue): browser sessions, local passwords and password resets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base


class WebSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored. A new id
    is made at every sign-in (no fixation); signing out deletes the row."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # demo | password | oidc | token
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class LocalCredential(Base):
    """A local account's password (argon2id hash), for external learners and small sites."""

    __tablename__ = "local_credentials"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]


class PasswordReset(Base):
    """A single-use reset link: the token's SHA-256, its expiry, and when it was used."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
