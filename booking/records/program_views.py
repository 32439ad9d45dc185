"""What the API, the pages and the exports show of learning programs: a program as written, and
a person's progress through one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from booking.records.views import RequiredView


@dataclass(slots=True)
class ProgramSetView:
    title: str
    rule: str  # all | any | optional
    course_codes: list[str]


@dataclass(slots=True)
class ProgramView:
    id: int
    code: str
    title: str
    summary: str
    audience: dict[str, Any] | None
    due_within_days: int | None
    sets: list[ProgramSetView]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


@dataclass(slots=True)
class ProgramCourseStatus:
    course_code: str
    status: str  # complete | in_progress (booked) | not_started
    # For the pages: the course's title and id (not in the API contract, added fields).
    course_title: str = ""
    course_id: int | None = None


@dataclass(slots=True)
class ProgramSetProgress:
    title: str
    rule: str
    complete: bool
    courses: list[ProgramCourseStatus] = field(default_factory=list)


@dataclass(slots=True)
class ProgramProgressView:
    """A person's progress through a program (the record's `programs` items)."""

    id: int
    code: str
    title: str
    status: str  # not_started | in_progress | complete
    progress_percent: int
    due_at: datetime | None
    sets: list[ProgramSetProgress]
    overdue: bool = False


@dataclass(slots=True)
class ProgramRequiredView(RequiredView):
    """A required item that is there because a program asks for the course: `via` names it."""

    via: Any = None
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
