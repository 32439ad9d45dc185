"""View models the services return: plain data, safe to hand to templates and JSON encoders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from booking.domain.vocabulary import (
    ApprovalKind,
    ApprovalStep,
    BookingStateName,
    QuestionKind,
    Role,
    SessionStatus,
    StaffType,
    TokenScope,
    WaitlistMode,
)

# A learner's answers to a course's sign-up questions, by question id: text and choices as
# strings, yes/no as booleans (booking.domain.eligibility.answer_reasons refuses anything else).
Answers = dict[str, str | bool | None]


@dataclass(slots=True)
class MoneyView:
    amount: int
    currency: str


@dataclass(slots=True)
class SessionDateView:
    id: int
    start: datetime  # in the date's own time zone
    end: datetime
    timezone: str


@dataclass(slots=True)
class RoomView:
    name: str
    address: str | None = None
    capacity: int | None = None
    details: str | None = None


@dataclass(slots=True)
class SessionView:
    id: int
    course_id: int
    course_code: str
    course_title: str
    dates: list[SessionDateView]
    capacity: int
    booked: int
    offered: int
    pending: int
    waitlisted: int
    seats_held: int
    status: SessionStatus
    waitlist_mode: WaitlistMode
    offer_hours: int
    signup_opens: datetime | None
    signup_closes: datetime | None
    min_bookings: int
    room: RoomView | None
    virtual: bool
    facilitators: list[str]
    cancel_reason: str | None = None
    # Only for people with a place (or who run it): never shown to the wider catalogue.
    virtual_link: str | None = None
    # The trainers as people read them (names), in the order of `facilitators` (emails).
    facilitator_names: list[str] = field(default_factory=list)


# The course's stored JSON settings, as the API and the pages read them. TypedDicts (plain dicts at
# run time) so the templates' `x["key"]` and `x.get(...)` keep working.
class TierView(TypedDict):
    min_notice_hours: int
    fee_percent: int


class CancellationPolicyView(TypedDict):
    tiers: list[TierView]
    no_show_fee_percent: int


class AudienceView(TypedDict, total=False):
    """Who a course is for; each list optional (absent: anyone). A unit includes its
    sub-units."""

    org_units: list[str]
    job_roles: list[str]
    staff_types: list[StaffType]


# Keys that may be absent are declared in a `total=False` subclass (`NotRequired` is not seen
# under `from __future__ import annotations`, and the OpenAPI document must not require them).
class _Prerequisite(TypedDict):
    course_code: str


class PrerequisiteView(_Prerequisite, total=False):
    within_months: int


class _Question(TypedDict):
    id: str
    label: str
    kind: QuestionKind
    required: bool


class QuestionView(_Question, total=False):
    # Only for `choice` questions.
    choices: list[str]


class TermsView(TypedDict):
    text: str
    version: int


class CourseCertificationView(TypedDict):
    months: int
    window_days: int


class DiscountView(TypedDict):
    price: MoneyView | None
    audience: AudienceView | None


@dataclass(slots=True)
class CourseView:
    id: int
    code: str
    title: str
    summary: str
    price: MoneyView | None
    approval: list[ApprovalStep]
    cancellation_policy: CancellationPolicyView | None
    audience: AudienceView | None
    prerequisites: list[PrerequisiteView]
    allow_multiple_bookings: bool
    sessions: list[SessionView] = field(default_factory=list)
    questions: list[QuestionView] = field(default_factory=list)
    terms: TermsView | None = None
    certification: CourseCertificationView | None = None
    category: str | None = None
    owner_email: str | None = None
    discount: DiscountView | None = None
    archived_at: datetime | None = None


@dataclass(slots=True)
class CourseSummaryView:
    """A course as the catalogue search lists it: no session details, only how many are to
    come."""

    id: int
    code: str
    title: str
    summary: str
    price: MoneyView | None
    upcoming_sessions: int
    # Only administrators see archived courses in the catalogue.
    archived: bool = False


@dataclass(slots=True)
class HistoryView:
    at: datetime
    actor: str
    from_state: BookingStateName | None
    to_state: BookingStateName
    reason: str | None


@dataclass(slots=True)
class LearnerView:
    id: int
    name: str
    email: str
    job_role: str | None = None
    org_unit: str | None = None


class ApprovalWaitView(TypedDict):
    """Where a pending booking's approval request is waiting (shown to the learner)."""

    request_id: int
    kind: ApprovalKind
    approver: str
    label: str
    since: datetime
    note: str | None


class PolicyTierView(TypedDict):
    min_notice_hours: int
    fee_percent: int
    # The tier as a sentence ("less than 48 hours' notice: 50%").
    label: str


class CancellationQuoteView(TypedDict):
    """What cancelling now would cost."""

    fee: MoneyView
    refund: MoneyView | None
    policy_tier: PolicyTierView | None
    free_until: datetime | None
    terms: str | None


@dataclass(slots=True)
class BookingView:
    id: int
    session_id: int
    course_id: int
    course_code: str
    course_title: str
    learner: LearnerView
    state: BookingStateName
    waitlist_position: int | None
    offer_expires_at: datetime | None
    cost_code: str | None
    special_requirements: str | None
    answers: Answers | None
    cancel_reason: str | None
    cancel_details: str | None
    fee: MoneyView | None
    created_at: datetime
    updated_at: datetime
    dates: list[SessionDateView]
    history: list[HistoryView] = field(default_factory=list)
    # Where a pending approval is waiting.
    approval: ApprovalWaitView | None = None
    override_reason: str | None = None
    terms_version_accepted: int | None = None
    # What cancelling now would cost (single views).
    cancellation_quote: CancellationQuoteView | None = None


@dataclass(slots=True)
class RosterRowView:
    booking_id: int
    learner: LearnerView
    state: BookingStateName
    waitlist_position: int | None
    special_requirements: str | None
    answers: Answers | None
    offer_expires_at: datetime | None = None
    cancel_reason: str | None = None
    override_reason: str | None = None


@dataclass(slots=True)
class RosterView:
    session: SessionView
    booked: list[RosterRowView]
    offered: list[RosterRowView]
    waitlisted: list[RosterRowView]
    pending: list[RosterRowView]
    cancelled: list[RosterRowView]
    attended: list[RosterRowView] = field(default_factory=list)


@dataclass(slots=True)
class MoveTargetView:
    """Another upcoming session of the course, open or full, that a booked learner could be
    moved to (the roster page's choice)."""

    id: int
    dates: list[SessionDateView]
    booked: int
    capacity: int


@dataclass(slots=True)
class PersonView:
    id: int
    email: str
    name: str
    roles: list[Role]
    personnel_number: str | None
    job_role: str | None
    staff_type: StaffType
    org_unit: str | None
    manager_email: str | None


@dataclass(slots=True)
class TokenView:
    """The API token a request came with, as its holder may see it (never the secret)."""

    # The service's name for a service token; None for a person's own token.
    name: str | None
    scope: TokenScope
    created_at: datetime
    # Noted for service tokens only (at most once a minute); None for a person's token.
    last_used_at: datetime | None


@dataclass(slots=True)
class MeView:
    """Who the token acts as: a person (their fields, as `PersonView`), or a service token
    (records scope: no person, so `id` and `staff_type` are null, `roles` empty)."""

    id: int | None
    email: str
    name: str
    roles: list[Role]
    personnel_number: str | None
    job_role: str | None
    staff_type: StaffType | None
    org_unit: str | None
    manager_email: str | None
    token: TokenView | None


@dataclass(slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def money(amount: int | None, currency: str) -> MoneyView | None:
    return None if amount is None else MoneyView(amount, currency)
