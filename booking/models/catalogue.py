"""Courses, rooms, sessions, their dates and facilitators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.db_values import BoundedText
from booking.models.base import Base, BigId, JsonB


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
    # Catalogue administration: a free-text category, the owner (a person or a team mailbox:
    # decides exemptions and evidence), a discount price for an audience (shaped like
    # `audience`), and when the course was archived (hidden from learners, no new sessions).
    category: Mapped[str | None] = mapped_column(String(100))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    discount_amount: Mapped[int | None] = mapped_column(Integer)
    discount_audience: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("price_amount IS NULL OR price_amount >= 0", name="price_not_negative"),
        CheckConstraint(
            "discount_amount IS NULL OR discount_amount >= 0", name="discount_not_negative"
        ),
    )


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str | None] = mapped_column(BoundedText(1000))
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Joining and arrival details: reception, parking, what to bring.
    details: Mapped[str | None] = mapped_column(BoundedText(5000))
    accessibility: Mapped[str | None] = mapped_column(BoundedText(5000))
    # A room no longer used is kept (its past sessions name it) but left out of the picker.
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


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
