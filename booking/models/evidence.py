"""Certificates of completion and evidence of training done elsewhere (issue 18)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId


class Certificate(Base):
    """The certificate of one completion of a course that awards one. The verification code is
    the secret a printed certificate carries; the dates are the completion's when it was issued
    (a recertification is a new completion, so a new certificate: the old keeps its date)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    completion_id: Mapped[int] = mapped_column(
        ForeignKey("completions.id", ondelete="CASCADE"), unique=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    issued_at: Mapped[datetime]


class Evidence(Base):
    """A learner's evidence of training done elsewhere, waiting for the course's owner or an
    administrator: approved, it becomes a completion with source `evidence`."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    # pending | approved | declined
    state: Mapped[str] = mapped_column(String(10), server_default="pending")
    submitted_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    completion_id: Mapped[int | None] = mapped_column(
        ForeignKey("completions.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'declined')", name="state"),
        Index("ix_evidence_state_id", "state", "id"),
    )


class EvidenceFile(Base):
    """The uploaded file's bytes, in their own table: lists and queues never read them, and
    every app process sees them without a shared disk."""

    __tablename__ = "evidence_files"

    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
