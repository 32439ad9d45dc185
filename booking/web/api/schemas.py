"""Request bodies of the JSON API, as msgspec structs (they feed the OpenAPI document too).

Every field has bounds, checked (strictly: `true` is not a number) before a handler runs: text
is at most as long as the column it is stored in and has no NUL character, numbers fit their
column. booking/db_values.py holds the same limits for every other way in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy.orm import InstrumentedAttribute

from booking import models as m
from booking.db_values import INT32, INT64, max_length_of
from booking.domain.vocabulary import (
    ApprovalStep,
    AttendanceMark,
    Decision,
    QuestionKind,
    Role,
    SessionStatusIn,
    StaffType,
    WaitlistMode,
)

NO_NUL = "^[^\\x00]*$"
# Money in minor units: £10,000,000.00 is beyond any course or budget here, and inside the
# 32-bit columns prices are stored in.
MAX_AMOUNT = 1_000_000_000
# Free text stored as JSON (answers, question labels) or nowhere at all.
SHORT_TEXT = 200
LONG_TEXT = 5000


def text(limit: int | InstrumentedAttribute[Any]) -> Meta:
    """Bounds for a string: a number, or the column the value is stored in."""
    if not isinstance(limit, int):
        length = max_length_of(limit.property.columns[0].type)
        assert length is not None, f"{limit} has no length"
        limit = length
    return Meta(max_length=limit, pattern=NO_NUL)


Int32 = Annotated[int, Meta(ge=INT32[0], le=INT32[1])]
Id = Annotated[int, Meta(ge=INT64[0], le=INT64[1])]
Amount = Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="Minor units (pence)")]
Email = Annotated[str, text(m.Person.email)]
CourseCode = Annotated[str, text(m.Course.code)]
UnitCode = Annotated[str, text(m.OrgUnit.code)]
Short = Annotated[str, text(SHORT_TEXT)]
Long = Annotated[str, text(LONG_TEXT)]
VirtualLink = Annotated[str, text(m.Session.virtual_link)]
Override = Annotated[str, text(m.Booking.override_reason)]


class MoneyIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    currency: Annotated[str, Meta(pattern="^[A-Za-z]{3}$")] = "GBP"


class OrgUnitIn(msgspec.Struct):
    code: UnitCode
    name: Annotated[str, text(m.OrgUnit.name)]
    parent_code: UnitCode | None = None


class PersonIn(msgspec.Struct):
    email: Email
    name: Annotated[str, text(m.Person.name)]
    personnel_number: Annotated[str, text(m.Person.personnel_number)] | None = None
    manager_email: Email | None = None
    org_unit: UnitCode | None = None
    job_role: Annotated[str, text(m.Person.job_role)] | None = None
    staff_type: StaffType = "payroll"
    roles: list[Role] | None = None
    # YYYY-MM-DD; omitted: left as it is; null: cleared (the day they were created counts).
    start_date: Annotated[str, msgspec.Meta(max_length=40)] | None | msgspec.UnsetType = (
        msgspec.UNSET
    )


class TierIn(msgspec.Struct):
    min_notice_hours: Int32
    fee_percent: Int32


class CancellationPolicyIn(msgspec.Struct):
    tiers: list[TierIn] = []
    no_show_fee_percent: Int32 = 0


class AudienceIn(msgspec.Struct):
    org_units: list[UnitCode] | None = None
    job_roles: list[Annotated[str, text(m.Person.job_role)]] | None = None
    staff_types: list[StaffType] | None = None


class PrerequisiteIn(msgspec.Struct):
    course_code: CourseCode
    within_months: Int32 | None = None


class QuestionIn(msgspec.Struct):
    id: Short
    label: Long
    kind: QuestionKind = "text"
    required: bool = False
    choices: list[Long] | None = None


class TermsIn(msgspec.Struct):
    text: Annotated[str, text(m.Course.terms_text)]


class CertificationIn(msgspec.Struct):
    months: Int32
    window_days: Int32 = 0


class DiscountIn(msgspec.Struct):
    amount: Amount
    audience: AudienceIn | None = None


class CourseIn(msgspec.Struct):
    code: CourseCode
    title: Annotated[str, text(m.Course.title)]
    summary: Annotated[str, text(m.Course.summary)] = ""
    price: MoneyIn | None = None
    approval: list[ApprovalStep] = []
    cancellation_policy: CancellationPolicyIn | None = None
    audience: AudienceIn | None = None
    prerequisites: list[PrerequisiteIn] = []
    allow_multiple_bookings: bool = False
    questions: list[QuestionIn] = []
    terms: TermsIn | None = None
    certification: CertificationIn | None = None
    # Optional, added later: left out, a PUT keeps what the course has; null clears it.
    category: Annotated[str, text(m.Course.category)] | None | msgspec.UnsetType = msgspec.UNSET
    owner_email: Annotated[str, text(m.Course.owner_email)] | None | msgspec.UnsetType = (
        msgspec.UNSET
    )
    discount: DiscountIn | None | msgspec.UnsetType = msgspec.UNSET


class DecisionIn(msgspec.Struct):
    decision: Decision
    comment: Annotated[str, text(m.ApprovalRequest.comment)] | None = None


class CompletionIn(msgspec.Struct):
    course_code: CourseCode
    completed_at: datetime
    learner_email: Email | None = None
    personnel_number: Annotated[str, text(m.Person.personnel_number)] | None = None
    source: Annotated[str, text(m.Completion.source)] = "elearning"


class DateIn(msgspec.Struct):
    start: datetime
    end: datetime
    timezone: Annotated[str, text(m.SessionDate.timezone)]
    id: Id | None = None


class RoomIn(msgspec.Struct):
    name: Annotated[str, text(m.Room.name)]
    address: Annotated[str, text(m.Room.address)] | None = None
    capacity: Int32 | None = None
    details: Annotated[str, text(m.Room.details)] | None = None


class SessionIn(msgspec.Struct):
    dates: list[DateIn]
    capacity: Int32
    room: RoomIn | None = None
    virtual_link: VirtualLink | None = None
    facilitators: list[Email] = []
    waitlist_mode: WaitlistMode = "auto"
    offer_hours: Int32 = 24
    signup_opens: datetime | None = None
    signup_closes: datetime | None = None
    min_bookings: Int32 = 0
    status: SessionStatusIn = "open"
    auto_cancel_below_min: bool = False
    override_reason: Override | None = None


class SessionPatch(msgspec.Struct):
    """Only what is sent changes. A field that cannot be empty (capacity, dates …) is left as it
    is when omitted or null; one that can (room, virtual_link, signup_opens, signup_closes) is
    cleared by null and left as it is when omitted."""

    dates: list[DateIn] | None = None
    capacity: Int32 | None = None
    room: RoomIn | None | UnsetType = UNSET
    virtual_link: VirtualLink | None | UnsetType = UNSET
    facilitators: list[Email] | None = None
    waitlist_mode: WaitlistMode | None = None
    offer_hours: Int32 | None = None
    signup_opens: datetime | None | UnsetType = UNSET
    signup_closes: datetime | None | UnsetType = UNSET
    min_bookings: Int32 | None = None
    status: SessionStatusIn | None = None
    auto_cancel_below_min: bool | None = None
    override_reason: Override | None = None


class ReasonIn(msgspec.Struct):
    reason: Annotated[str, text(m.Session.cancel_reason)]


class PaymentIn(msgspec.Struct):
    """How the learner means to pay. Accepted and not needed: a priced place is paid by the
    `cost_code` when one is given, otherwise by card (when card payments are configured)."""

    method: Annotated[str, text(SHORT_TEXT)] | None = None


class BookingIn(msgspec.Struct):
    learner_email: Email | None = None
    cost_code: Annotated[str, text(m.Booking.cost_code)] | None = None
    payment: PaymentIn | None = None
    accept_terms: bool = False
    # By question id: text and choices as strings, yes/no as true or false.
    answers: dict[Short, str | bool | None] | None = None
    special_requirements: Annotated[str, text(m.Booking.special_requirements)] | None = None
    override_reason: Override | None = None
    overbook: bool = False
    move_from: Id | None = None


class CancelIn(msgspec.Struct):
    reason: Annotated[str, text(m.Booking.cancel_reason)]
    details: Annotated[str, text(m.Booking.cancel_details)] | None = None
    quoted_fee: MoneyIn | None = None


class MarkIn(msgspec.Struct):
    booking_id: Id
    status: AttendanceMark


class AttendanceIn(msgspec.Struct):
    marks: list[MarkIn]


class MoveIn(msgspec.Struct):
    session_id: Id
    reason: Annotated[str, text(m.Booking.cancel_reason)]
    override_reason: Override | None = None


class MessageIn(msgspec.Struct):
    subject: Annotated[str, text(300)]
    body: Annotated[str, text(20_000)]


class CopyIn(msgspec.Struct):
    dates: list[DateIn]
    override_reason: Override | None = None
