"""Learner records (issue 7): completions, completion rules, the records change feed, worker
sweep marks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId, JsonB


class Completion(Base):
    """A learner's completion of a course: from workshop attendance, the e-learning side or an
    import. Previous completions are kept; the learner records issue builds on this table."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    # workshop | elearning | import
    source: Mapped[str] = mapped_column(String(20))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint(
            "learner_id", "course_id", "completed_at", name="uq_completions_learner_course_at"
        ),
        Index("ix_completions_learner_course", "learner_id", "course_id"),
    )


class CourseRecordRule(Base):
    """How a course is completed, and whether it is required learning. No row: attending or
    completing the course itself completes it, and nobody is required to take it."""

    __tablename__ = "course_record_rules"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    # all | any of the criteria courses (by code), or NULL: no criteria.
    completion_mode: Mapped[str | None] = mapped_column(String(3))
    criteria: Mapped[dict[str, Any] | None] = mapped_column(JsonB)  # {"codes": [...]}
    # Required for everyone in the course's audience (everyone, if it has none).
    mandatory: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A newcomer has this many days from their record's creation to complete it the first time.
    due_within_days: Mapped[int | None] = mapped_column(Integer)
    # Reminder emails while a requirement is incomplete, on these days (day 1: the day it
    # applied); NULL: the default days (DEFAULT_REMINDER_DAYS).
    reminder_days: Mapped[list[int] | None] = mapped_column(JsonB)
    # The line manager is told once after this many days; NULL: never. No default here: the
    # ORM would put a default in place of a NULL written on insert (the rules module always
    # writes it; the migration gave existing rules 28, the default).
    escalate_after_days: Mapped[int | None] = mapped_column(Integer)
    # Other courses whose completions also satisfy this one: {"codes": [...]}.
    accepted_courses: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    # Each completion awards a certificate (a PDF with a verification code).
    certificate: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "completion_mode IS NULL OR completion_mode IN ('all', 'any')", name="completion_mode"
        ),
    )


class RecordFeedCounter(Base):
    """One row: the last change number handed out. Taking the next number locks the row until
    the transaction ends, so changes commit in number order and the feed never skips one."""

    __tablename__ = "record_feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RecordChange(Base):
    """Every completion written or withdrawn and every attendance mark, numbered gap-free
    (`GET /api/v1/records?since=`), written in the transaction of the change."""

    __tablename__ = "record_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    # completion | attendance
    kind: Mapped[str] = mapped_column(String(12))
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    # Not a foreign key: a withdrawn completion's row is gone, its change stays.
    completion_id: Mapped[int | None] = mapped_column(BigId)
    # completion: completed | withdrawn; attendance: attended | partially_attended | no_show
    status: Mapped[str] = mapped_column(String(20))
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    source: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("kind IN ('completion', 'attendance')", name="kind"),)


class RecordSweepMark(Base):
    """How far a worker sweep has read a table (xAPI statements from booking history and
    record changes)."""

    __tablename__ = "record_sweep_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, server_default="0")
