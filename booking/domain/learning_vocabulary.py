"""The closed sets of records, evidence, exemptions, programs and money that the JSON API names,
as `Literal` types (the OpenAPI document lists each as an `enum`); the booking side's sets are
in `booking.domain.vocabulary`.

Each set is checked against the code that decides it (tests/unit/test_learning_vocabulary.py)."""

from __future__ import annotations

from typing import Literal

# A course on a learner's record (records.record._course_status).
CourseRecordStatus = Literal[
    "complete", "expired", "in_progress", "booked", "not_complete", "required"
]
# A certification's standing (domain.records.CertificationStatus).
CertificationStatusName = Literal["certified", "window_open", "due", "overdue", "expired"]
# A required item: a renewal's certification status, or where a mandatory course stands.
RequiredStatus = Literal["window_open", "due", "overdue", "expired", "in_progress", "not_started"]
RequiredKind = Literal["renewal", "mandatory"]
# Why an item is required, when not because of a program (then `{"program": code}`).
RequiredVia = Literal["course", "renewal"]
# How a course is completed by criteria (domain.records.MODES).
CompletionMode = Literal["all", "any"]
# The status of a change in the records feed: a completion's, or the attendance mark.
FeedStatus = Literal["completed", "withdrawn", "attended", "partially_attended", "no_show"]
# What a file sent as evidence may be (domain.evidence.EXTENSIONS: sniffed from its bytes).
EvidenceMediaType = Literal["application/pdf", "image/png", "image/jpeg"]
# Evidence and exemption requests (domain.evidence.STATES, domain.exemptions.STATES).
RequestState = Literal["pending", "approved", "declined"]
ExemptionKind = Literal["exemption", "extension"]
# A program's set of courses (domain.programs.RULES) and where a person stands in it.
ProgramSetRule = Literal["all", "any", "optional"]
ProgramStatus = Literal["not_started", "in_progress", "complete"]
ProgramCourseState = Literal["complete", "in_progress", "not_started"]
# A card payment (billing.models: the payment's status check constraint).
PaymentStatus = Literal["open", "succeeded", "canceled"]
