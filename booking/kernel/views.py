"""View models the services return: plain data, safe to hand to templates and JSON encoders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    status: str
    waitlist_mode: str
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


@dataclass(slots=True)
class CourseView:
    id: int
    code: str
    title: str
    summary: str
    price: MoneyView | None
    approval: list[str]
    cancellation_policy: dict[str, Any] | None
    audience: dict[str, Any] | None
    prerequisites: list[dict[str, Any]]
    allow_multiple_bookings: bool
    sessions: list[SessionView] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    terms: dict[str, Any] | None = None
    certification: dict[str, Any] | None = None
    category: str | None = None
    owner_email: str | None = None
    # {"price": MoneyView, "audience": {org_units, job_roles, staff_types}} or None.
    discount: dict[str, Any] | None = None
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
    from_state: str | None
    to_state: str
    reason: str | None


@dataclass(slots=True)
class LearnerView:
    id: int
    name: str
    email: str
    job_role: str | None = None
    org_unit: str | None = None


@dataclass(slots=True)
class BookingView:
    id: int
    session_id: int
    course_id: int
    course_code: str
    course_title: str
    learner: LearnerView
    state: str
    waitlist_position: int | None
    offer_expires_at: datetime | None
    cost_code: str | None
    special_requirements: str | None
    answers: dict[str, Any] | None
    cancel_reason: str | None
    cancel_details: str | None
    fee: MoneyView | None
    created_at: datetime
    updated_at: datetime
    dates: list[SessionDateView]
    history: list[HistoryView] = field(default_factory=list)
    # Where a pending approval is waiting: {kind, approver, label, since, request_id}.
    approval: dict[str, Any] | None = None
    override_reason: str | None = None
    terms_version_accepted: int | None = None
    # What cancelling now would cost: {fee, refund, policy_tier, free_until} (single views).
    cancellation_quote: dict[str, Any] | None = None


@dataclass(slots=True)
class RosterRowView:
    booking_id: int
    learner: LearnerView
    state: str
    waitlist_position: int | None
    special_requirements: str | None
    answers: dict[str, Any] | None
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
    roles: list[str]
    personnel_number: str | None
    job_role: str | None
    staff_type: str
    org_unit: str | None
    manager_email: str | None


@dataclass(slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def money(amount: int | None, currency: str) -> MoneyView | None:
    return None if amount is None else MoneyView(amount, currency)
