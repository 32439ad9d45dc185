"""Exemptions and extensions (issue 18): a line manager or administrator asks, the course's
owner or an administrator decides."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId


class ExemptionRequest(Base):
    """One request for one person and one course. An approved exemption removes the course
    from the person's required learning until `until` (inclusive; NULL = open-ended); an
    approved extension moves the requirement's due time to `due_at`."""

    __tablename__ = "exemption_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # exemption | extension
    kind: Mapped[str] = mapped_column(String(10))
    # pending | approved | declined
    state: Mapped[str] = mapped_column(String(10), server_default="pending")
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime | None]
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("kind IN ('exemption', 'extension')", name="kind"),
        CheckConstraint("state IN ('pending', 'approved', 'declined')", name="state"),
        Index("ix_exemption_requests_learner_state", "learner_id", "state"),
    )
