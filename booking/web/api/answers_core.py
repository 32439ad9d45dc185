"""What the booking side of the JSON API answers where a service's own view is not the answer:
one concrete class per list (`{items, next_cursor}`, so generated clients get stable names) and
the small answers (how many were queued, invited; whether I could book). The OpenAPI document
is generated from these, so each field is typed: closed sets as the `Literal`s of
booking/domain/vocabulary.py, never `Any`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from booking.approvals.decide import Decision
from booking.approvals.queue import ApprovalAmount, ApprovalCourse, ApprovalItem, ApprovalLearner
from booking.domain.reasons import Reason
from booking.domain.vocabulary import ApprovalKind, ApprovalStatus, BookingStateName, UpsertStatus
from booking.kernel.views import (
    ApprovalWaitView,
    BookingView,
    CourseView,
    SessionDateView,
)


@dataclass(slots=True)
class CoursePage:
    # Each course with its upcoming sessions (those the caller may see).
    items: list[CourseView]
    next_cursor: str | None


@dataclass(slots=True)
class BookingPage:
    items: list[BookingView]
    next_cursor: str | None


class EligibilityReason(msgspec.Struct, omit_defaults=True):
    """Why a booking would be refused: a stable `code`, a sentence for people, and what the
    reason is about where it names something (only the keys that apply are sent)."""

    code: str
    message: str
    question: str | None = None
    course_code: str | None = None
    booking_id: int | None = None
    session_id: int | None = None
    opens_at: str | None = None
    expires_at: str | None = None
    window_opens_at: str | None = None


def eligibility_reason(reason: Reason) -> EligibilityReason:
    return msgspec.convert(reason.as_dict(), EligibilityReason)


@dataclass(slots=True)
class Eligibility:
    eligible: bool
    reasons: list[EligibilityReason]


@dataclass(slots=True)
class Queued:
    """How many messages were queued (sent after the transaction, by the outbox)."""

    queued: int


@dataclass(slots=True)
class Invited:
    """How many learners waiting on other dates were told."""

    invited: int


@dataclass(slots=True)
class ApprovalPage:
    items: list[ApprovalItem]
    # The queue is answered whole: always null.
    next_cursor: str | None


@dataclass(slots=True)
class ApprovalDecision:
    """The request as decided (the fields of an `ApprovalItem`) and the booking after it."""

    id: int
    kind: ApprovalKind
    status: ApprovalStatus
    booking_id: int
    booking_state: BookingStateName
    learner: ApprovalLearner
    course: ApprovalCourse
    session_id: int
    amount: ApprovalAmount | None
    cost_code: str | None
    requested_at: datetime
    booking: BookingView
    note: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    dates: list[SessionDateView] = field(default_factory=list)
    # While another approval is still needed: where it waits.
    next_approval: ApprovalWaitView | None = None


def approval_decision(outcome: Decision) -> ApprovalDecision:
    a = outcome.approval
    return ApprovalDecision(
        id=a.id,
        kind=a.kind,
        status=a.status,
        booking_id=a.booking_id,
        booking_state=a.booking_state,
        learner=a.learner,
        course=a.course,
        session_id=a.session_id,
        amount=a.amount,
        cost_code=a.cost_code,
        requested_at=a.requested_at,
        booking=outcome.booking,
        note=a.note,
        decided_at=a.decided_at,
        comment=a.comment,
        dates=a.dates,
        next_approval=outcome.next_approval,
    )


@dataclass(slots=True)
class OrgUnitUpserted:
    id: int
    code: str
    status: UpsertStatus


@dataclass(slots=True)
class OrgUnitUpserts:
    items: list[OrgUnitUpserted]
    # Answered whole: always null.
    next_cursor: str | None = None


@dataclass(slots=True)
class PersonUpserted:
    id: int
    email: str
    status: UpsertStatus


@dataclass(slots=True)
class PersonUpserts:
    items: list[PersonUpserted]
    # Answered whole: always null.
    next_cursor: str | None = None
