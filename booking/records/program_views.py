"""What the API, the pages and the exports show of learning programs: a program as written, and
a person's progress through one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from booking.domain.learning_vocabulary import ProgramSetRule
from booking.records.views import (
    ProgramCourseStatus,
    ProgramProgressView,
    ProgramSetProgress,
    RequiredView,
)

__all__ = [
    "ProgramAudience",
    "ProgramCourseRequirement",
    "ProgramCourseStatus",
    "ProgramProgressView",
    "ProgramRequiredView",
    "ProgramSetProgress",
    "ProgramSetView",
    "ProgramView",
]


class ProgramAudience(TypedDict, total=False):
    """Who a program is for: people in any of these units, job roles or staff types (a key
    left out does not narrow it)."""

    org_units: list[str]
    job_roles: list[str]
    staff_types: list[str]


@dataclass(slots=True)
class ProgramSetView:
    title: str
    rule: ProgramSetRule
    course_codes: list[str]


@dataclass(slots=True)
class ProgramView:
    id: int
    code: str
    title: str
    summary: str
    audience: ProgramAudience | None
    due_within_days: int | None
    sets: list[ProgramSetView]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


@dataclass(slots=True)
class ProgramRequiredView(RequiredView):
    """A required item that is there because a program asks for the course: `via` names it."""

    program_title: str = ""


@dataclass(slots=True)
class ProgramCourseRequirement:
    """A course a program still requires of a learner (the function the requirements side may
    call): the course, the program and its due date."""

    course_id: int
    course_code: str
    course_title: str
    program_code: str
    program_title: str
    due_at: datetime | None
