"""What the pages, the API and the exports show of records: a learner's record, a manager's
team, the compliance report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict

from booking.domain.learning_vocabulary import (
    CertificationStatusName,
    CompletionMode,
    CourseRecordStatus,
    ProgramCourseState,
    ProgramSetRule,
    ProgramStatus,
    RequiredKind,
    RequiredStatus,
    RequiredVia,
)
from booking.domain.vocabulary import BookingStateName, StaffType


class PersonRef(TypedDict):
    """A person named in an answer: evidence's learner and decider, an exemption's learner."""

    id: int
    email: str
    name: str


class PersonEmailRef(TypedDict):
    """A person named by id and email only (who asked for or decided an exemption)."""

    id: int
    email: str


class CourseRef(TypedDict):
    id: int
    code: str
    title: str


class RecordExemption(TypedDict):
    """A course item under an approved exemption: until when (null: open-ended)."""

    until: date | None


class RecordExtension(TypedDict):
    """A required item under an approved extension: its new due time."""

    due_at: datetime


class ViaProgram(TypedDict):
    """A required item that a learning program asks for: the program's code."""

    program: str


@dataclass(slots=True)
class CompletionView:
    completed_at: datetime
    expires_at: datetime | None
    source: str
    session_id: int | None = None
    # The certificate of this completion (API path of its PDF), when the course awards one.
    certificate_url: str | None = None
    certificate_id: int | None = None


@dataclass(slots=True)
class CertificationView:
    course_id: int
    course_code: str
    course_title: str
    status: CertificationStatusName
    status_label: str
    completed_at: datetime
    expires_at: datetime
    window_opens_at: datetime


@dataclass(slots=True)
class CriterionView:
    course_code: str
    course_title: str
    done_at: datetime | None


@dataclass(slots=True)
class BookingSummary:
    booking_id: int
    course_id: int
    session_id: int
    state: BookingStateName
    starts_at: datetime
    ends_at: datetime


@dataclass(slots=True)
class CourseRecord:
    course_id: int
    course_code: str
    course_title: str
    status: CourseRecordStatus
    status_label: str
    completed_at: datetime | None
    expires_at: datetime | None
    source: str | None
    mandatory: bool
    previous: list[CompletionView]
    completion_mode: CompletionMode | None
    criteria: list[CriterionView]
    certification: CertificationView | None
    bookings: list[BookingSummary]
    # Every completion, newest first, each with its certificate; the current one's certificate.
    completions: list[CompletionView] = field(default_factory=list)
    certificate_url: str | None = None
    certificate_id: int | None = None
    # exemptions: while an approved exemption lasts, until when
    exemption: RecordExemption | None = None


@dataclass(slots=True)
class RequiredView:
    course_id: int
    course_code: str
    course_title: str
    kind: RequiredKind
    due_at: datetime | None
    status: RequiredStatus
    status_label: str
    overdue: bool
    # Why it is required: "course" (mandatory for them), "renewal", or {"program": code}.
    via: RequiredVia | ViaProgram = "course"
    # exemptions: always None here (an exempt item leaves `required`); an extension's due time
    exemption: RecordExemption | None = None
    extension: RecordExtension | None = None


@dataclass(slots=True)
class ComplianceView:
    required: int
    compliant: int
    percent: int | None
    # exemptions: items exempted (not counted in `required`)
    exempt: int = 0
    # Required items past their due date (or a renewal past its expiry), after extensions.
    overdue: int = 0


@dataclass(slots=True)
class RecordPerson:
    id: int
    name: str
    email: str
    personnel_number: str | None
    job_role: str | None
    staff_type: StaffType
    org_unit: str | None
    org_unit_name: str | None


@dataclass(slots=True)
class ProgramCourseStatus:
    course_code: str
    status: ProgramCourseState  # in_progress: booked
    # For the pages: the course's title and id (not in the API contract, added fields).
    course_title: str = ""
    course_id: int | None = None


@dataclass(slots=True)
class ProgramSetProgress:
    title: str
    rule: ProgramSetRule
    complete: bool
    courses: list[ProgramCourseStatus] = field(default_factory=list)


@dataclass(slots=True)
class ProgramProgressView:
    """A person's progress through a program (the record's `programs` items)."""

    id: int
    code: str
    title: str
    status: ProgramStatus
    progress_percent: int
    due_at: datetime | None
    sets: list[ProgramSetProgress]
    overdue: bool = False


@dataclass(slots=True)
class RecordView:
    person: RecordPerson
    courses: list[CourseRecord]
    certifications: list[CertificationView]
    required: list[RequiredView]
    compliance: ComplianceView
    as_of: datetime
    # programs: the learning programs whose audience includes the person, with their progress
    # (set by records.program_progress.with_programs).
    programs: list[ProgramProgressView] = field(default_factory=list)


@dataclass(slots=True)
class TeamMember:
    record: RecordView
    upcoming: list[BookingSummary]
    course_titles: dict[int, str]
    # An indirect report's own line manager (None for the viewer's direct reports).
    reports_to: str | None = None


@dataclass(slots=True)
class TeamView:
    manager_name: str
    members: list[TeamMember]
    compliance: ComplianceView
    as_of: datetime
    # Everyone below the manager, not only their direct reports.
    indirect: bool = False


@dataclass(slots=True)
class ComplianceRow:
    org_unit: str | None
    org_unit_name: str | None
    staff_type: StaffType
    people: int
    fully_compliant: int
    required: int
    compliant: int
    percent: int | None
    # exemptions: items exempted (not counted in `required`)
    exempt: int = 0
    # compliance filters: required items past their due date (or renewal) at the moment
    overdue: int = 0


@dataclass(slots=True)
class ComplianceStatusRow:
    """A compliance row with its required items by where they stand (complete + due + overdue
    + expired = required)."""

    row: ComplianceRow
    complete: int
    due: int
    overdue: int
    expired: int


COURSE_STATUS_LABELS = {
    "complete": "Complete",
    "expired": "Expired",
    "in_progress": "In progress",
    "booked": "Booked",
    "not_complete": "Not complete",
    "required": "Required",
}
REQUIRED_LABELS = {
    "window_open": "Renewal open",
    "due": "Renewal due",
    "overdue": "Overdue",
    "not_started": "Not started",
    "in_progress": "In progress",
    "expired": "Expired",
}
