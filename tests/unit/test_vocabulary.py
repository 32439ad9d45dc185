"""The API's closed sets (booking/domain/vocabulary.py) name exactly what the code decides."""

from __future__ import annotations

from booking.approvals.decide import DECISIONS
from booking.catalogue.validation import APPROVAL_STEPS
from booking.domain import states
from booking.domain import vocabulary as v
from booking.kernel.actors import ROLES
from booking.records.programs import STAFF_TYPES
from booking.web.pages.session_form import WAITLIST_MODES


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
