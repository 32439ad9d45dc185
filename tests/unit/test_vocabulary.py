"""The API's closed sets (booking/domain/vocabulary.py) name exactly what the code decides."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import CheckConstraint

from booking.approvals.decide import DECISIONS
from booking.catalogue.validation import APPROVAL_STEPS
from booking.domain import states
from booking.domain import vocabulary as v
from booking.domain.eligibility import QUESTION_KINDS
from booking.kernel.actors import ROLES
from booking.models import ApiToken
from booking.records.programs import STAFF_TYPES
from booking.web.pages.session_form import WAITLIST_MODES

APPROVALS = Path(__file__).parents[2] / "booking" / "approvals"


def test_booking_states_are_the_state_machine_s() -> None:
    assert set(v.values(v.BookingStateName)) == {s.value for s in states.BookingState}
    assert set(v.values(v.AttendanceMark)) == {s.value for s in states.ATTENDANCE}


def test_the_other_sets_are_the_code_s() -> None:
    assert v.values(v.Role) == ROLES
    assert v.values(v.StaffType) == STAFF_TYPES
    assert v.values(v.ApprovalStep) == APPROVAL_STEPS
    assert v.values(v.ApprovalKind) == APPROVAL_STEPS[1:]
    assert v.values(v.Decision) == DECISIONS
    assert v.values(v.WaitlistMode) == tuple(mode for mode, _ in WAITLIST_MODES)
    assert set(v.values(v.SessionStatusIn)) <= set(v.values(v.SessionStatus))


def test_question_kinds_token_scopes_and_approval_statuses_are_the_code_s() -> None:
    assert v.values(v.QuestionKind) == QUESTION_KINDS
    (scope_check,) = [
        c
        for c in ApiToken.__table__.constraints
        if isinstance(c, CheckConstraint) and c.name and str(c.name).endswith("scope")
    ]
    assert re.findall(r"'(\w+)'", str(scope_check.sqltext)) == list(v.values(v.TokenScope))
    # Every status the approval code writes or asks about, and nothing it never does.
    source = "".join(p.read_text() for p in APPROVALS.glob("*.py"))
    written = set(re.findall(r"status(?: = |=| == )\"(\w+)\"", source))
    assert written == set(v.values(v.ApprovalStatus))
