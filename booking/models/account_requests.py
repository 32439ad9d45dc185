"""Account requests: someone without an account asks for one; an administrator decides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId

OPEN_SQL = "state IN ('unconfirmed', 'waiting')"


class AccountRequest(Base):
    """A request for an account, from the public form. `unconfirmed` until the requester opens
    the emailed link, then `waiting` in the administrators' queue, then `approved` (with the
    person it made) or `declined` (with the reason they were sent)."""

    __tablename__ = "account_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Stored lower-cased, as people's emails are.
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    # A unit chosen from the list, or what they typed when theirs was not in it.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"))
    org_unit_text: Mapped[str | None] = mapped_column(String(200))
    job_role: Mapped[str] = mapped_column(String(200))
    staff_type: Mapped[str] = mapped_column(String(20))
    manager_email: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(12), server_default="unconfirmed")
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint(
            "state IN ('unconfirmed', 'waiting', 'approved', 'declined')", name="state"
        ),
        CheckConstraint(
            "staff_type IN ('payroll', 'casual', 'associate', 'external')", name="staff_type"
        ),
        # One open request per address: sending the form again refreshes it.
        Index(
            "uq_account_requests_open_email",
            "email",
            unique=True,
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
        Index("ix_account_requests_state_created", "state", "created_at"),
    )
