"""Request bodies of the JSON API, as msgspec structs (they feed the OpenAPI document too)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType


class MoneyIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: int
    currency: str = "GBP"


class OrgUnitIn(msgspec.Struct):
    code: str
    name: str
    parent_code: str | None = None


class PersonIn(msgspec.Struct):
    email: str
    name: str
    personnel_number: str | None = None
    manager_email: str | None = None
    org_unit: str | None = None
    job_role: str | None = None
    staff_type: str = "payroll"
    roles: list[str] | None = None


class TierIn(msgspec.Struct):
    min_notice_hours: int
    fee_percent: int


class CancellationPolicyIn(msgspec.Struct):
    tiers: list[TierIn] = []
    no_show_fee_percent: int = 0


class AudienceIn(msgspec.Struct):
    org_units: list[str] | None = None
    job_roles: list[str] | None = None
    staff_types: list[str] | None = None


class PrerequisiteIn(msgspec.Struct):
    course_code: str
    within_months: int | None = None


class QuestionIn(msgspec.Struct):
    id: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: list[str] | None = None


class TermsIn(msgspec.Struct):
    text: str


class CertificationIn(msgspec.Struct):
    months: int
    window_days: int = 0


class CourseIn(msgspec.Struct):
    code: str
    title: str
    summary: str = ""
    price: MoneyIn | None = None
    approval: list[str] = []
    cancellation_policy: CancellationPolicyIn | None = None
    audience: AudienceIn | None = None
    prerequisites: list[PrerequisiteIn] = []
    allow_multiple_bookings: bool = False
    questions: list[QuestionIn] = []
    terms: TermsIn | None = None
    certification: CertificationIn | None = None


class DecisionIn(msgspec.Struct):
    decision: str
    comment: str | None = None


class CompletionIn(msgspec.Struct):
    course_code: str
    completed_at: datetime
    learner_email: str | None = None
    personnel_number: str | None = None
    source: str = "elearning"


class DateIn(msgspec.Struct):
    start: datetime
    end: datetime
    timezone: str
    id: int | None = None


class RoomIn(msgspec.Struct):
    name: str
    address: str | None = None
    capacity: int | None = None
    details: str | None = None


class SessionIn(msgspec.Struct):
    dates: list[DateIn]
    capacity: int
    room: RoomIn | None = None
    virtual_link: str | None = None
    facilitators: list[str] = []
    waitlist_mode: str = "auto"
    offer_hours: int = 24
    signup_opens: datetime | None = None
    signup_closes: datetime | None = None
    min_bookings: int = 0
    status: str = "open"
    auto_cancel_below_min: bool = False
    override_reason: str | None = None


class SessionPatch(msgspec.Struct):
    dates: list[DateIn] | UnsetType = UNSET
    capacity: int | UnsetType = UNSET
    room: RoomIn | None | UnsetType = UNSET
    virtual_link: str | None | UnsetType = UNSET
    facilitators: list[str] | UnsetType = UNSET
    waitlist_mode: str | UnsetType = UNSET
    offer_hours: int | UnsetType = UNSET
    signup_opens: datetime | None | UnsetType = UNSET
    signup_closes: datetime | None | UnsetType = UNSET
    min_bookings: int | UnsetType = UNSET
    status: str | UnsetType = UNSET
    auto_cancel_below_min: bool | UnsetType = UNSET
    override_reason: str | None = None


class ReasonIn(msgspec.Struct):
    reason: str


class BookingIn(msgspec.Struct):
    learner_email: str | None = None
    cost_code: str | None = None
    payment: dict[str, Any] | None = None
    accept_terms: bool = False
    answers: dict[str, Any] | None = None
    special_requirements: str | None = None
    override_reason: str | None = None
    overbook: bool = False
    move_from: int | None = None


class CancelIn(msgspec.Struct):
    reason: str
    details: str | None = None
    quoted_fee: MoneyIn | None = None


class MarkIn(msgspec.Struct):
    booking_id: int
    status: str


class AttendanceIn(msgspec.Struct):
    marks: list[MarkIn]


class MoveIn(msgspec.Struct):
    session_id: int
    reason: str
    override_reason: str | None = None


class MessageIn(msgspec.Struct):
    subject: str
    body: str


class CopyIn(msgspec.Struct):
    dates: list[DateIn]
    override_reason: str | None = None
