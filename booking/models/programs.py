"""Learning programs (issue 18): sets of courses with a rule each, for an audience, and who each
program applies to (kept by a worker sweep)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, BigId, JsonB


class Program(Base):
    """A program of learning (an induction, say): its sets of courses, its audience (shaped like
    a course's: org_units with their sub-units, job_roles, staff_types; none: everyone active)
    and how many days a person has to complete it."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, server_default="")
    audience: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    due_within_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]


class ProgramSet(Base):
    """A set of a program's courses: `all` of them, `any` one, or `optional` (counts for nothing).
    Courses by code, as completion criteria and accepted courses name them."""

    __tablename__ = "program_sets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(10))
    course_codes: Mapped[list[str]] = mapped_column(JsonB)

    __table_args__ = (
        CheckConstraint("rule IN ('all', 'any', 'optional')", name="rule"),
        UniqueConstraint("program_id", "position", name="uq_program_sets_program_position"),
    )


class ProgramAssignment(Base):
    """A program applying to a person: since `applied_at` (the first time the sweep found them in
    its audience); `closed_at` while they are out of it (a return reopens the same row)."""

    __tablename__ = "program_assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    applied_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("program_id", "person_id", name="uq_program_assignments_program_person"),
    )
