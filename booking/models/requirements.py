"""Required learning (issue 18): one row per person and course they must complete, kept by the
worker's requirements sweep (`booking/records/requirements.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId


class Requirement(Base):
    """A course a person must complete, and why: the course is mandatory for their audience
    (`course`), a certification's renewal window opened (`renewal`), or a program (`program`,
    with `program_id`). Open while `closed_at` is NULL; at most one open row per person, course,
    via and program. Meeting it (a completion) closes nothing: a course row stays open while the
    course is mandatory for them and is simply met; a renewal row is closed once renewed."""

    __tablename__ = "requirements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    # course | renewal | program
    via: Mapped[str] = mapped_column(String(10))
    # Programs come later; no foreign key yet.
    program_id: Mapped[int | None] = mapped_column(Integer)
    # When it applied to them: day 1 of its reminders.
    applied_at: Mapped[datetime]
    # NULL: the course has no due period.
    due_at: Mapped[datetime | None]
    # It no longer applies (left the audience, deactivated, no longer mandatory, renewed).
    closed_at: Mapped[datetime | None]
    # The latest reminder day sent (claimed by the sweep's conditional UPDATE), and when the
    # escalation was handled (the line manager told; set too when there was none to tell).
    reminded_day: Mapped[int] = mapped_column(Integer, server_default="0")
    escalated_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("via IN ('course', 'renewal', 'program')", name="via"),
        Index(
            "uq_requirements_open",
            "person_id",
            "course_id",
            "via",
            text("coalesce(program_id, 0)"),
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        # Every row of a person (the record; a renewal's earlier rows, open or closed).
        Index("ix_requirements_person_course", "person_id", "course_id"),
        # The reminders' claims: open rows of a course by the day reached and when it applied,
        # and those not yet escalated, so a tick with nothing to send reads next to nothing.
        Index(
            "ix_requirements_course_reminded",
            "course_id",
            "reminded_day",
            "applied_at",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        Index(
            "ix_requirements_course_unescalated",
            "course_id",
            "applied_at",
            postgresql_where=text("closed_at IS NULL AND escalated_at IS NULL"),
            sqlite_where=text("closed_at IS NULL AND escalated_at IS NULL"),
        ),
    )
