"""What the pages, the API and the exports show of records: a learner's record, a manager's
team, the compliance report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    status: str
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
    state: str
    starts_at: datetime
    ends_at: datetime


@dataclass(slots=True)
class CourseRecord:
    course_id: int
    course_code: str
    course_title: str
    # complete | expired | in_progress | booked | not_complete | required
    status: str
    status_label: str
    completed_at: datetime | None
    expires_at: datetime | None
    source: str | None
    mandatory: bool
    previous: list[CompletionView]
    completion_mode: str | None
    criteria: list[CriterionView]
    certification: CertificationView | None
    bookings: list[BookingSummary]
    # Every completion, newest first, each with its certificate; the current one's certificate.
    completions: list[CompletionView] = field(default_factory=list)
    certificate_url: str | None = None
    certificate_id: int | None = None
    # exemptions: while an approved exemption lasts, {"until": date or None}
    exemption: dict[str, Any] | None = None


@dataclass(slots=True)
class RequiredView:
    course_id: int
    course_code: str
    course_title: str
    kind: str
    due_at: datetime | None
    status: str
    status_label: str
    overdue: bool
    # Why it is required: "course" (mandatory for them), "renewal", or {"program": code}.
    via: str | dict[str, str] = "course"
    # exemptions: always None here (an exempt item leaves `required`); an extension's due time
    exemption: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None


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
    staff_type: str
    org_unit: str | None
    org_unit_name: str | None


@dataclass(slots=True)
class RecordView:
    person: RecordPerson
    courses: list[CourseRecord]
    certifications: list[CertificationView]
    required: list[RequiredView]
    compliance: ComplianceView
    as_of: datetime
    # programs: the learning programs whose audience includes the person, with their progress
    # (records.program_views.ProgramProgressView; set by records.program_progress.with_programs).
    programs: list[Any] = field(default_factory=list)


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
    staff_type: str
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
