"""The record of learning: completions, certifications, team and compliance, the feed, xAPI.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own:

- `changes`: completion rows and the numbered, gap-free change feed (in the caller's transaction)
- `criteria`: courses completed through `all` / `any` of other courses
- `completions`: add and withdraw a completion (attendance marks call these)
- `inbound`: completions sent by the records service, and administrators' CSV import
- `course_rules`: how a course is completed and whether it is mandatory
- `feed`: the records feed and its cursor
- `facts`, `views`, `record`, `team`, `compliance`: reading records and what the pages show
- `exports`: record, team and compliance rows as CSV and XLSX
- `certification`: renewal notices (a worker sweep)
- `requirements`, `requirement_rules`, `requirement_reminders`: who must complete what (a
  set-based worker sweep), and the reminders and escalations that chase it
- `certificates`, `certificate_pdf`: a certificate for each completion of a course that awards
  one, its PDF and the public check of its verification code
- `evidence`, `evidence_reads`: evidence of training done elsewhere, sent and decided; the
  queue, a learner's list and the file
- `programs`, `program_progress`, `program_sweep`, `program_views`: learning programs, a
  person's progress through them, and the sweep that keeps who each applies to
- `xapi_statements`, `xapi_sweep`, `xapi_delivery`: statements for the learning record store,
  the sweep that queues them, and sending them
"""

from booking.domain import evidence as evidence_rules
from booking.records.certificate_pdf import day as certificate_day
from booking.records.certificates import (
    CertificateCheck,
    CertificateFile,
    certificate_pdf,
    verify_certificate,
)
from booking.records.certification import queue_certification_notices
from booking.records.changes import note_attendance
from booking.records.completions import add_completion, withdraw_completion
from booking.records.compliance import compliance_by_status, compliance_report, compliance_units
from booking.records.compliance_filters import (
    FILTER_KEYS as COMPLIANCE_FILTER_KEYS,
)
from booking.records.compliance_filters import (
    ComplianceFilters,
    read_compliance_filters,
)
from booking.records.course_rules import (
    CourseRulesView,
    course_rules_step,
    get_course_rules,
    set_course_rules,
)
from booking.records.evidence import (
    EVIDENCE_SOURCE,
    EvidenceUpload,
    decide_evidence,
    send_evidence,
)
from booking.records.evidence import MAX_COMMENT as MAX_EVIDENCE_COMMENT
from booking.records.evidence_reads import (
    EvidenceFileView,
    EvidencePage,
    EvidenceView,
    evidence_courses,
    evidence_file,
    evidence_queue,
    get_evidence,
    my_evidence,
)
from booking.records.exemption_form import CourseChoice, ExemptionChoices, exemption_choices
from booking.records.exemption_reads import (
    ExemptionView,
    QueueItem,
    get_exemption,
    list_exemptions,
)
from booking.records.exemptions import ExemptionInput, decide_exemption, request_exemptions
from booking.records.exports import (
    COMPLIANCE_HEADERS,
    RECORD_HEADERS,
    TEAM_HEADERS,
    compliance_rows,
    record_rows,
    team_rows,
    to_csv,
    to_xlsx,
)
from booking.records.feed import FEED_LIMIT, FeedItem, FeedPage, records_feed
from booking.records.inbound import (
    CompletionInput,
    ItemResult,
    import_completions_csv,
    record_completions,
)
from booking.records.program_exports import (
    PROGRAM_HEADERS,
    TEAM_PROGRAM_HEADERS,
    program_rows,
    programs_csv_section,
    team_program_rows,
)
from booking.records.program_progress import (
    ProgramCatalogue,
    learner_programs,
    program_catalogue,
    program_requirements,
)
from booking.records.program_sweep import sync_program_assignments
from booking.records.program_views import (
    ProgramCourseRequirement,
    ProgramProgressView,
    ProgramRequiredView,
    ProgramSetView,
    ProgramView,
)
from booking.records.programs import (
    ProgramInput,
    ProgramSetInput,
    create_program,
    get_program,
    list_programs,
    update_program,
)
from booking.records.record import learner_record, my_record
from booking.records.requirement_reminders import queue_requirement_reminders
from booking.records.requirements import sweep_requirements
from booking.records.summaries import queue_compliance_summaries
from booking.records.team import my_team
from booking.records.views import ComplianceRow, ComplianceStatusRow, RecordView, TeamView
from booking.records.xapi_delivery import deliver_xapi, sync_xapi
from booking.records.xapi_sweep import HISTORY_SETTLE, queue_xapi_statements

MAX_EVIDENCE_BYTES = evidence_rules.MAX_EVIDENCE_BYTES

__all__ = [
    "ComplianceRow",
    "CertificateCheck",
    "CertificateFile",
    "certificate_day",
    "certificate_pdf",
    "verify_certificate",
    "EVIDENCE_SOURCE",
    "EvidenceFileView",
    "EvidencePage",
    "EvidenceUpload",
    "EvidenceView",
    "MAX_EVIDENCE_BYTES",
    "MAX_EVIDENCE_COMMENT",
    "decide_evidence",
    "evidence_courses",
    "evidence_file",
    "evidence_queue",
    "get_evidence",
    "my_evidence",
    "send_evidence",
    "COMPLIANCE_HEADERS",
    "ComplianceStatusRow",
    "CompletionInput",
    "CourseChoice",
    "CourseRulesView",
    "ExemptionChoices",
    "ExemptionInput",
    "ExemptionView",
    "QueueItem",
    "FEED_LIMIT",
    "FeedItem",
    "FeedPage",
    "HISTORY_SETTLE",
    "ItemResult",
    "RECORD_HEADERS",
    "RecordView",
    "TEAM_HEADERS",
    "TeamView",
    "add_completion",
    "compliance_by_status",
    "compliance_report",
    "compliance_units",
    "COMPLIANCE_FILTER_KEYS",
    "ComplianceFilters",
    "read_compliance_filters",
    "compliance_rows",
    "decide_exemption",
    "exemption_choices",
    "get_exemption",
    "list_exemptions",
    "request_exemptions",
    "deliver_xapi",
    "course_rules_step",
    "get_course_rules",
    "import_completions_csv",
    "learner_record",
    "my_record",
    "my_team",
    "note_attendance",
    "queue_certification_notices",
    "queue_requirement_reminders",
    "queue_compliance_summaries",
    "queue_xapi_statements",
    "record_completions",
    "record_rows",
    "records_feed",
    "set_course_rules",
    "sweep_requirements",
    "sync_xapi",
    "team_rows",
    "to_csv",
    "to_xlsx",
    "withdraw_completion",
    # programs:
    "PROGRAM_HEADERS",
    "TEAM_PROGRAM_HEADERS",
    "team_program_rows",
    "program_rows",
    "programs_csv_section",
    "ProgramCatalogue",
    "ProgramCourseRequirement",
    "ProgramInput",
    "ProgramProgressView",
    "ProgramRequiredView",
    "ProgramSetInput",
    "ProgramSetView",
    "ProgramView",
    "create_program",
    "get_program",
    "learner_programs",
    "list_programs",
    "program_catalogue",
    "program_requirements",
    "sync_program_assignments",
    "update_program",
]
