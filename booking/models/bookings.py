"""Bookings, their approval requests, their history, and idempotency keys for booking calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.db_values import BoundedText
from booking.domain.states import ACTIVE
from booking.models.base import Base, BigId, JsonB

# States that hold or wait for a place: at most one of these per (session, learner).
ACTIVE_STATES = ACTIVE
_ACTIVE_SQL = "state IN ('pending_approval', 'pending_payment', 'booked', 'offered', 'waitlisted')"


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
    # The price of this place when it was booked, in the course's currency's minor units (the
    # discount price for the discount's audience; 0: free). NULL on bookings made before
    # prices were kept: the course's price applies to them.
    price_amount: Mapped[int | None] = mapped_column(Integer)
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
