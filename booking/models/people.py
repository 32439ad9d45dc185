"""People, the organisation's units and API tokens."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_units.id", ondelete="SET NULL"), index=True
    )


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personnel_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Stored lower-cased; unique.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    org_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_units.id", ondelete="SET NULL"), index=True
    )
    job_role: Mapped[str | None] = mapped_column(String(200))
    staff_type: Mapped[str] = mapped_column(String(20), server_default="payroll")
    # Space-separated subset of: learner trainer budget_holder admin.
    roles: Mapped[str] = mapped_column(String(100), server_default="learner")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The secret in the person's private calendar feed URL (/calendar/{token}.ics); replacing it
    # revokes the old URL. Made on first use.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The day they start (mandatory learning is due from it); NULL: the day they were created.
    start_date: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "staff_type IN ('payroll', 'casual', 'associate', 'external')", name="staff_type"
        ),
    )


class ApiToken(Base):
    """Bearer tokens, stored as SHA-256 of the secret: a leaked table grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    service_name: Mapped[str | None] = mapped_column(String(100))
    # "person": acts as the person with their roles; "records": records endpoints only.
    scope: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Who made it on the tokens page (None: made on the command line, or they were deleted).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # Service tokens only, written at most once a minute (`actors.actor_for_token`).
    last_used_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("scope IN ('person', 'records')", name="scope"),
        CheckConstraint(
            "(person_id IS NOT NULL) OR (service_name IS NOT NULL)", name="owner_present"
        ),
    )
