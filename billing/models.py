"""Billing's own tables, on their own metadata. Bookings are named by an opaque `reference`
(booking's business); people by email. Nothing here imports `booking`.

The ledger is append-only: the services only ever insert into `ledger_entries`; a correction is
a new row that points at the row it corrects.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer, "sqlite")
JsonB = JSON().with_variant(JSONB(), "postgresql")

LEDGER_KINDS = ("charge", "cancellation_fee", "no_show_fee", "refund", "waiver", "correction")
PAYMENT_STATUSES = ("open", "succeeded", "canceled")
ACTION_KINDS = ("cancel_intent", "refund")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTimeUTC(timezone=True), dict[str, Any]: JsonB}


class CostCode(Base):
    __tablename__ = "billing_cost_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Upper-cased, matching BOOKING_COST_CODE_PATTERN.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(300))
    # Lower-cased; booking resolves it to a person when an approval is needed.
    budget_holder_email: Mapped[str] = mapped_column(String(320), index=True)
    active_from: Mapped[date] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    annual_limit_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), server_default="GBP")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "annual_limit_amount IS NULL OR annual_limit_amount >= 0", name="limit_not_negative"
        ),
        CheckConstraint("active_to IS NULL OR active_to >= active_from", name="active_dates"),
    )


class Payment(Base):
    """A card payment for one booking, through a Stripe PaymentIntent. The booking holds its
    seat until `hold_until`; the intent is made when the learner opens the payment page."""

    __tablename__ = "billing_payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    payer_email: Mapped[str] = mapped_column(String(320))
    description: Mapped[str] = mapped_column(String(300))
    # open → succeeded | canceled (expired or cancelled before paying).
    status: Mapped[str] = mapped_column(String(20), server_default="open")
    intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    hold_until: Mapped[datetime] = mapped_column(index=True)
    # Set once the booking's end is settled (cancelled with a refund, or found cancelled by the
    # organiser): no second settlement ever refunds again.
    settled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('open', 'succeeded', 'canceled')", name="status"),
    )


class LedgerEntry(Base):
    """One money movement: positive is owed by (or taken from) the payer, negative is given
    back. Never updated or deleted."""

    __tablename__ = "billing_ledger"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The payer: a cost code, or a card payment.
    cost_code: Mapped[str | None] = mapped_column(String(32), index=True)
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_payments.id", ondelete="RESTRICT")
    )
    reference: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(Text)
    # Who: an email, or "system".
    actor: Mapped[str] = mapped_column(String(320))
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_ledger.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        CheckConstraint(
            "kind IN ('charge', 'cancellation_fee', 'no_show_fee', 'refund', 'waiver',"
            " 'correction')",
            name="kind",
        ),
        CheckConstraint(
            "(cost_code IS NOT NULL) OR (payment_id IS NOT NULL)", name="payer_present"
        ),
    )


class PaymentAction(Base):
    """A Stripe call to make after the transaction that decided it commits (cancel an intent,
    refund part of a payment). The idempotency key is derived from the row, so a retry after a
    crash repeats the same request and Stripe does it once."""

    __tablename__ = "billing_payment_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("billing_payments.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # pending → done | failed (after the last attempt)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    available_at: Mapped[datetime]
    stripe_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("kind IN ('cancel_intent', 'refund')", name="kind"),
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
        Index(
            "ix_billing_payment_actions_due",
            "available_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )


class StripeEvent(Base):
    """Webhook events already processed, stored in the transaction that applied them."""

    __tablename__ = "billing_stripe_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(100))
