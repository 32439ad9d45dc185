"""The closed sets of records, evidence, exemptions, programs and money that the API names
(booking/domain/learning_vocabulary.py) are exactly what the code decides."""

from __future__ import annotations

import re

from sqlalchemy import CheckConstraint

from billing.models import Payment
from billing.services import ImportStatus
from booking.domain import evidence, exemptions, programs
from booking.domain import learning_vocabulary as lv
from booking.domain import records as record_rules
from booking.domain.vocabulary import AttendanceMark, UpsertStatus, values
from booking.records.views import COURSE_STATUS_LABELS, REQUIRED_LABELS


def test_record_statuses_are_the_ones_the_record_labels() -> None:
    assert set(values(lv.CourseRecordStatus)) == set(COURSE_STATUS_LABELS)
    assert set(values(lv.RequiredStatus)) == set(REQUIRED_LABELS)
    assert set(values(lv.CertificationStatusName)) == {
        s.value for s in record_rules.CertificationStatus
    }
    # A renewal's status is the certification's while it is required learning.
    assert {s.value for s in record_rules.RENEWING} <= set(values(lv.RequiredStatus))
    assert values(lv.CompletionMode) == record_rules.MODES


def test_request_and_program_sets_are_the_domain_s() -> None:
    assert values(lv.RequestState) == evidence.STATES == exemptions.STATES
    assert values(lv.ExemptionKind) == exemptions.KINDS
    assert values(lv.EvidenceMediaType) == tuple(evidence.EXTENSIONS)
    assert values(lv.ProgramSetRule) == programs.RULES
    states = {programs.COMPLETE, programs.IN_PROGRESS, programs.NOT_STARTED}
    assert set(values(lv.ProgramStatus)) == set(values(lv.ProgramCourseState)) == states


def test_the_feed_s_statuses_are_a_completion_s_and_the_attendance_marks() -> None:
    assert set(values(lv.FeedStatus)) == {"completed", "withdrawn", *values(AttendanceMark)}


def test_money_sets_are_billing_s() -> None:
    (check,) = [
        c
        for c in Payment.__table__.constraints
        if isinstance(c, CheckConstraint) and str(c.sqltext).startswith("status IN")
    ]
    assert values(lv.PaymentStatus) == tuple(re.findall(r"'(\w+)'", str(check.sqltext)))
    assert values(ImportStatus) == (*values(UpsertStatus), "error")
