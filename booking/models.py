"""SQLAlchemy tables. Timestamps are aware UTC (`timestamptz` on PostgreSQL).

The schema is built by Alembic (`alembic/versions`); `tests/integration/test_migrations.py` proves
these models and the migrations agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from booking.db_values import BoundedText
from booking.domain.states import ACTIVE

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# States that hold or wait for a place: at most one of these per (session, learner).
ACTIVE_STATES = ACTIVE
_ACTIVE_SQL = "state IN ('pending_approval', 'pending_payment', 'booked', 'offered', 'waitlisted')"

BigId = BigInteger().with_variant(Integer, "sqlite")
# advanced_alchemy.types.JsonB breaks on SQLAlchemy 2.1 (it calls a removed util), so: plain JSON,
# JSONB on PostgreSQL.
JsonB = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTimeUTC(timezone=True), dict[str, Any]: JsonB}


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_units.id", ondelete="SET NULL"), index=True
    )


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personnel_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Stored lower-cased; unique.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    org_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_units.id", ondelete="SET NULL"), index=True
    )
    job_role: Mapped[str | None] = mapped_column(String(200))
    staff_type: Mapped[str] = mapped_column(String(20), server_default="payroll")
    # Space-separated subset of: learner trainer budget_holder admin.
    roles: Mapped[str] = mapped_column(String(100), server_default="learner")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The secret in the person's private calendar feed URL (/calendar/{token}.ics); replacing it
    # revokes the old URL. Made on first use.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "staff_type IN ('payroll', 'casual', 'associate', 'external')", name="staff_type"
        ),
    )


class ApiToken(Base):
    """Bearer tokens, stored as SHA-256 of the secret: a leaked table grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    service_name: Mapped[str | None] = mapped_column(String(100))
    # "person": acts as the person with their roles; "records": records endpoints only.
    scope: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("scope IN ('person', 'records')", name="scope"),
        CheckConstraint(
            "(person_id IS NOT NULL) OR (service_name IS NOT NULL)", name="owner_present"
        ),
    )


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(BoundedText(20_000), server_default="")
    price_amount: Mapped[int | None] = mapped_column(Integer)
    price_currency: Mapped[str] = mapped_column(String(3), server_default="GBP")
    approval: Mapped[dict[str, Any]] = mapped_column(JsonB)  # {"steps": [...]}
    cancellation_policy: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    audience: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    prerequisites: Mapped[dict[str, Any] | None] = mapped_column(JsonB)  # {"items": [...]}
    allow_multiple_bookings: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Sign-up questions: {"items": [{id, label, kind, required, choices}]}.
    questions: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    # Terms a learner accepts when the approval chain starts with "self"; the version accepted
    # is kept with the booking.
    terms_text: Mapped[str | None] = mapped_column(BoundedText(50_000))
    terms_version: Mapped[int] = mapped_column(Integer, server_default="1")
    # Completing the course certifies for this many months; renewal opens N days before expiry.
    certification_months: Mapped[int | None] = mapped_column(Integer)
    certification_window_days: Mapped[int | None] = mapped_column(Integer)
    # Whether partial attendance completes the course.
    partial_attendance_counts: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("price_amount IS NULL OR price_amount >= 0", name="price_not_negative"),
    )


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str | None] = mapped_column(BoundedText(1000))
    capacity: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[str | None] = mapped_column(BoundedText(5000))


class Session(Base):
    """A run of a course. `seats_held` = booked + offered + pending payment, kept by the services
    under the session row's lock and never above `capacity` unless an admin overbooked."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_held: Mapped[int] = mapped_column(Integer, server_default="0")
    # Next waitlist ticket; taken under the session row's lock, so join order is FIFO.
    waitlist_seq: Mapped[int] = mapped_column(Integer, server_default="0")
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    virtual_link: Mapped[str | None] = mapped_column(BoundedText(2000))
    waitlist_mode: Mapped[str] = mapped_column(String(10), server_default="auto")
    offer_hours: Mapped[int] = mapped_column(Integer, server_default="24")
    signup_opens: Mapped[datetime | None]
    signup_closes: Mapped[datetime | None]
    min_bookings: Mapped[int] = mapped_column(Integer, server_default="0")
    # Cancel automatically (with notice) when still under min_bookings at the check before start.
    auto_cancel_below_min: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Stored status: draft, open or cancelled. full / closed / in progress / over are derived.
    status: Mapped[str] = mapped_column(String(20), server_default="open")
    cancel_reason: Mapped[str | None] = mapped_column(BoundedText(2000))
    # Denormalised from the dates for listing and clash checks.
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    # iCalendar SEQUENCE base: raised whenever the session changes materially.
    sequence: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("seats_held >= 0", name="seats_held_not_negative"),
        CheckConstraint("waitlist_mode IN ('auto', 'offer', 'off')", name="waitlist_mode"),
        CheckConstraint("status IN ('draft', 'open', 'cancelled')", name="status"),
        CheckConstraint("offer_hours > 0", name="offer_hours_positive"),
    )


class SessionDate(Base):
    __tablename__ = "session_dates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    # Dates taken out of a session stay (their invitation UIDs get METHOD:CANCEL).
    removed_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("end_at > start_at", name="ends_after_start"),)


class SessionFacilitator(Base):
    __tablename__ = "session_facilitators"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Booking(Base):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20))
    waitlist_seq: Mapped[int | None] = mapped_column(Integer)
    offer_expires_at: Mapped[datetime | None]
    cost_code: Mapped[str | None] = mapped_column(String(32))
    special_requirements: Mapped[str | None] = mapped_column(BoundedText(2000))
    answers: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancel_details: Mapped[str | None] = mapped_column(BoundedText(5000))
    terms_version_accepted: Mapped[int | None] = mapped_column(Integer)
    # An administrator's reason for booking past the rules (shown on the roster).
    override_reason: Mapped[str | None] = mapped_column(BoundedText(2000))
    # iCalendar SEQUENCE for this learner's invitation; raised on every change sent to them.
    sequence: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "state IN ('pending_approval', 'pending_payment', 'booked', 'offered', 'waitlisted',"
            " 'cancelled', 'declined', 'attended', 'partially_attended', 'no_show')",
            name="state",
        ),
        # Backs up the service's check: one active booking per (session, learner).
        Index(
            "uq_bookings_active_session_learner",
            "session_id",
            "learner_id",
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
            sqlite_where=text(_ACTIVE_SQL),
        ),
        Index("ix_bookings_session_state", "session_id", "state", "waitlist_seq"),
        Index("ix_bookings_learner_state", "learner_id", "state"),
    )


class ApprovalRequest(Base):
    """One step of a booking's approval chain. Only the current step is `waiting`."""

    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[int] = mapped_column(Integer)
    # manager | budget_holder | admin
    kind: Mapped[str] = mapped_column(String(20))
    # Who must answer; NULL for "any administrator".
    approver_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(BoundedText(5000))
    status: Mapped[str] = mapped_column(String(20), server_default="waiting")
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    comment: Mapped[str | None] = mapped_column(BoundedText(5000))

    __table_args__ = (
        CheckConstraint(
            "status IN ('waiting', 'approved', 'declined', 'lapsed', 'withdrawn')", name="status"
        ),
        CheckConstraint("kind IN ('manager', 'budget_holder', 'admin')", name="kind"),
        Index(
            "uq_approval_requests_waiting_booking",
            "booking_id",
            unique=True,
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
    )


class Completion(Base):
    """A learner's completion of a course: from workshop attendance, the e-learning side or an
    import. Previous completions are kept; the learner records issue builds on this table."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    # workshop | elearning | import
    source: Mapped[str] = mapped_column(String(20))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint(
            "learner_id", "course_id", "completed_at", name="uq_completions_learner_course_at"
        ),
        Index("ix_completions_learner_course", "learner_id", "course_id"),
    )


class BookingHistory(Base):
    """Every transition of a booking: who, when, from, to, why."""

    __tablename__ = "booking_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # "system" for the worker and automatic promotions; otherwise the actor's email.
    actor: Mapped[str] = mapped_column(String(320))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)


class Outbox(Base):
    """Side effects queued with the change that caused them; the worker delivers after commit."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # email, xapi, ...
    channel: Mapped[str] = mapped_column(String(20))
    # What happened, dotted: booking.booked, booking.waitlisted, session.changed, ...
    topic: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB)
    # Unique: a retried use case cannot queue the same message twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # pending → sent, or → failed after the last attempt (an admin can queue it again).
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    # A worker owns a claimed row until `claimed_until`; only the holder of `claim_token` may
    # mark it sent, so a slow worker cannot mark a row another has since claimed.
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index(
            "ix_outbox_pending",
            "available_at",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )


class IdempotencyKey(Base):
    """`Idempotency-Key` of a POST, per caller: same key + same body → the first answer."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    caller: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("caller", "key", name="uq_idempotency_keys_caller_key"),)


# ---------------------------------------------------------------------------------------------
# Sign-in and audit (security issue)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored. A new id
    is made at every sign-in (no fixation); signing out deletes the row."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # demo | password | oidc | token
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class LocalCredential(Base):
    """A local account's password (argon2id hash), for external learners and small sites."""

    __tablename__ = "local_credentials"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]


class PasswordReset(Base):
    """A single-use reset link: the token's SHA-256, its expiry, and when it was used."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Security-relevant events: sign-ins, failures, role changes, overrides, exports, …"""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    # Dotted: login.succeeded, login.failed, person.roles_changed, booking.override, ...
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    ip: Mapped[str | None] = mapped_column(String(64))


# ---------------------------------------------------------------------------------------------
# Learner records (issue 7): completion rules, the records change feed, worker sweep marks


class CourseRecordRule(Base):
    """How a course is completed, and whether it is required learning. No row: attending or
    completing the course itself completes it, and nobody is required to take it."""

    __tablename__ = "course_record_rules"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    # all | any of the criteria courses (by code), or NULL: no criteria.
    completion_mode: Mapped[str | None] = mapped_column(String(3))
    criteria: Mapped[dict[str, Any] | None] = mapped_column(JsonB)  # {"codes": [...]}
    # Required for everyone in the course's audience (everyone, if it has none).
    mandatory: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A newcomer has this many days from their record's creation to complete it the first time.
    due_within_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "completion_mode IS NULL OR completion_mode IN ('all', 'any')", name="completion_mode"
        ),
    )


class RecordFeedCounter(Base):
    """One row: the last change number handed out. Taking the next number locks the row until
    the transaction ends, so changes commit in number order and the feed never skips one."""

    __tablename__ = "record_feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RecordChange(Base):
    """Every completion written or withdrawn and every attendance mark, numbered gap-free
    (`GET /api/v1/records?since=`), written in the transaction of the change."""

    __tablename__ = "record_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    # completion | attendance
    kind: Mapped[str] = mapped_column(String(12))
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    # Not a foreign key: a withdrawn completion's row is gone, its change stays.
    completion_id: Mapped[int | None] = mapped_column(BigId)
    # completion: completed | withdrawn; attendance: attended | partially_attended | no_show
    status: Mapped[str] = mapped_column(String(20))
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    source: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("kind IN ('completion', 'attendance')", name="kind"),)


class RecordSweepMark(Base):
    """How far a worker sweep has read a table (xAPI statements from booking history and
    record changes)."""

    __tablename__ = "record_sweep_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, server_default="0")
