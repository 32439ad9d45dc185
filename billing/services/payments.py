"""Card payments: opening one for a held place, its PaymentIntent, holds that run out, and the
Stripe calls queued for after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.money import Money
from billing.models import Payment, PaymentAction
from billing.services.errors import Invalid, NotFound
from billing.services.ports import PaymentGateway, Transaction


@dataclass(slots=True)
class PaymentView:
    reference: str
    amount: Money
    status: str
    hold_until: datetime
    intent_id: str | None
    settled: bool
    refunded: Money
    client_secret: str | None = None


async def payment_view(s: AsyncSession, row: Payment) -> PaymentView:
    refunded = await s.scalar(
        select(func.coalesce(func.sum(PaymentAction.amount), 0)).where(
            PaymentAction.payment_id == row.id, PaymentAction.kind == "refund"
        )
    )
    return PaymentView(
        row.reference,
        Money(row.amount, row.currency),
        row.status,
        row.hold_until,
        row.intent_id,
        row.settled_at is not None,
        Money(int(refunded or 0), row.currency),
    )


async def open_card_payment(
    s: AsyncSession,
    *,
    reference: str,
    amount: Money,
    payer_email: str,
    description: str,
    hold_until: datetime,
    now: datetime,
) -> PaymentView:
    """Start a card payment for a booking that holds its seat until `hold_until`. Stripe is
    called later, when the payment page opens (never inside this transaction)."""
    if amount.amount <= 0:
        raise Invalid("There is nothing to pay.")
    row = Payment(
        reference=reference,
        amount=amount.amount,
        currency=amount.currency,
        payer_email=payer_email,
        description=description[:300],
        status="open",
        hold_until=hold_until,
        created_at=now,
        updated_at=now,
    )
    s.add(row)
    await s.flush()
    return await payment_view(s, row)


async def payment_for(s: AsyncSession, reference: str, *, lock: bool = False) -> PaymentView | None:
    row = await payment_row(s, reference, lock=lock)
    return await payment_view(s, row) if row else None


async def payment_row(s: AsyncSession, reference: str, *, lock: bool) -> Payment | None:
    stmt = (
        select(Payment)
        .where(Payment.reference == reference)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    return await s.scalar(stmt)


def intent_key(payment_id: int) -> str:
    return f"booking-payment-{payment_id}-intent"


async def start_intent(
    transaction: Transaction,
    gateway: PaymentGateway,
    reference: str,
    *,
    payment_method: str | None = None,
) -> PaymentView:
    """The payment with a PaymentIntent and its client secret for the Payment Element. The
    intent is created once (deterministic idempotency key; the id is stored only if none is)."""
    async with transaction() as s:
        row = await payment_row(s, reference, lock=False)
        if row is None:
            raise NotFound("There is no card payment for this booking.")
        view = await payment_view(s, row)
        payment_id, amount, currency = row.id, row.amount, row.currency
        email, description = row.payer_email, row.description
    if view.status != "open":
        return view
    if view.intent_id is not None:
        intent = await gateway.retrieve_intent(view.intent_id)
    else:
        intent = await gateway.create_intent(
            amount=amount,
            currency=currency,
            reference=reference,
            description=description,
            email=email,
            idempotency_key=intent_key(payment_id),
            payment_method=payment_method,
        )
        async with transaction() as s:
            stored = await s.execute(
                update(Payment)
                .where(Payment.id == payment_id, Payment.intent_id.is_(None))
                .values(intent_id=intent.id)
            )
            if not getattr(stored, "rowcount", 0):
                # Another request stored its intent first: use that one.
                existing = await s.scalar(select(Payment.intent_id).where(Payment.id == payment_id))
                if existing and existing != intent.id:
                    intent = await gateway.retrieve_intent(existing)
    view.intent_id = intent.id
    view.client_secret = intent.client_secret
    return view


async def expired_holds(s: AsyncSession, now: datetime) -> list[str]:
    """References of card payments still open after their hold."""
    return list(
        (
            await s.scalars(
                select(Payment.reference)
                .where(Payment.status == "open", Payment.hold_until <= now)
                .order_by(Payment.id)
            )
        ).all()
    )


async def queue_action(
    s: AsyncSession, payment: Payment, kind: str, amount: int | None, key: str, now: datetime
) -> None:
    exists = await s.scalar(select(PaymentAction.id).where(PaymentAction.idempotency_key == key))
    if exists is not None:
        return
    s.add(
        PaymentAction(
            payment_id=payment.id,
            kind=kind,
            amount=amount,
            idempotency_key=key,
            status="pending",
            attempts=0,
            available_at=now,
            created_at=now,
        )
    )
    await s.flush()


async def cancel_open_payment(s: AsyncSession, reference: str, *, now: datetime) -> bool:
    """An unpaid payment whose booking is gone (hold expired, or cancelled): mark it cancelled
    and queue the intent's cancellation. False if it was not open (paid meanwhile)."""
    row = await payment_row(s, reference, lock=True)
    if row is None or row.status != "open":
        return False
    row.status = "canceled"
    row.settled_at = now
    row.updated_at = now
    if row.intent_id is not None:
        await queue_action(s, row, "cancel_intent", None, f"booking-payment-{row.id}-cancel", now)
    return True


async def unsettled_paid_references(s: AsyncSession) -> list[str]:
    """Paid card payments not yet settled: booking checks whether their booking still stands."""
    return list(
        (
            await s.scalars(
                select(Payment.reference).where(
                    Payment.status == "succeeded", Payment.settled_at.is_(None)
                )
            )
        ).all()
    )
