"""Applying what Stripe says about a PaymentIntent."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.money import Money
from billing.models import Payment
from billing.services.ledger import record
from billing.services.payments import payment_row
from billing.services.ports import BillingListener, Intent
from billing.services.settlement import refund_in_full

log = logging.getLogger("billing.services")


async def apply_intent(
    s: AsyncSession, intent: Intent, *, listener: BillingListener, now: datetime
) -> str:
    """Bring a payment in line with its PaymentIntent as Stripe reports it now (never with what
    a webhook payload claims). Safe to repeat and in any order: a succeeded payment stays so."""
    ref = await s.scalar(select(Payment.reference).where(Payment.intent_id == intent.id))
    ref = ref or intent.reference
    if ref is None:
        return "unknown payment"
    # Lock order as everywhere: booking's rows first (the listener's), then the payment.
    await listener.lock(s, ref)
    row = await payment_row(s, ref, lock=True)
    if row is None:
        return "unknown payment"
    if intent.status != "succeeded":
        return f"intent {intent.status}: nothing to do"
    if row.status == "succeeded":
        return "already paid"
    if intent.amount != row.amount or intent.currency.upper() != row.currency:
        log.error("payment %s: intent %s amount differs; not booked", row.reference, intent.id)
        return "amount differs: not applied"
    was_open = row.status == "open"
    row.status = "succeeded"
    row.intent_id = row.intent_id or intent.id
    row.updated_at = now
    row.settled_at = None
    await record(
        s,
        kind="charge",
        amount=Money(row.amount, row.currency),
        reference=row.reference,
        description=row.description,
        actor="stripe",
        now=now,
        payment_id=row.id,
        reason="Card payment",
    )
    booked = was_open and await listener.on_payment_succeeded(s, row.reference, now=now)
    if booked:
        return "booked"
    # Paid after the hold expired or the booking ended: the whole payment goes back.
    await refund_in_full(
        s,
        row.reference,
        description=row.description,
        reason="Payment arrived after the place was released",
        actor="system",
        now=now,
    )
    return "refunded: the place was no longer held"
