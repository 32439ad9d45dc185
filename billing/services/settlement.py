"""Settling a place that ended: a cancellation (its fee and the card's refund), attendance (the
charge or the no-show fee), and an administrator's waiver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.money import DEFAULT_CURRENCY, Money
from billing.domain.settlement import CardSettlement, settle_card_payment
from billing.models import LedgerEntry, Payment
from billing.services.errors import Conflict, Invalid
from billing.services.ledger import FEE_KINDS, LedgerView, ledger_for, outstanding_fees, record
from billing.services.payments import cancel_open_payment, payment_row, queue_action

# Booking's words for attendance (billing does not import booking).
_ATTENDANCE_WORDS = {
    "attended": "attended",
    "partially_attended": "partly attended",
    "no_show": "no-show",
}


async def settle_cancellation(
    s: AsyncSession,
    reference: str,
    *,
    fee: Money,
    cost_code: str | None,
    description: str,
    reason: str,
    actor: str,
    now: datetime,
) -> Money | None:
    """Book the cancellation of a place: the fee (quoted and accepted) to its payer; a card
    payment refunded minus the fee. Returns the refund queued, if any."""
    row = await payment_row(s, reference, lock=True)
    if row is not None and row.status == "open":
        await cancel_open_payment(s, reference, now=now)
        return None
    if row is not None and row.status == "succeeded":
        if row.settled_at is not None:
            return None
        settled = settle_card_payment(Money(row.amount, row.currency), fee)
        entry = _Entry(reference, description, actor, now)
        await _book_card_settlement(
            s, row, settled, entry, fee_kind="cancellation_fee", reasons=(reason, reason)
        )
        row.settled_at = now
        row.updated_at = now
        if settled.refund is not None:
            key = f"booking-payment-{row.id}-refund"
            await queue_action(s, row, "refund", settled.refund.amount, key, now)
        return settled.refund
    if cost_code is not None and fee.amount > 0:
        await record(
            s,
            kind="cancellation_fee",
            amount=fee,
            reference=reference,
            description=description,
            actor=actor,
            now=now,
            cost_code=cost_code,
            reason=reason,
        )
    return None


@dataclass(frozen=True, slots=True)
class _Entry:
    """What every ledger row of one settlement shares."""

    reference: str
    description: str
    actor: str
    now: datetime


async def _book_card_settlement(
    s: AsyncSession,
    payment: Payment,
    settled: CardSettlement,
    entry: _Entry,
    *,
    fee_kind: str,
    reasons: tuple[str, str],
) -> None:
    """The ledger rows of a card settlement: the payment booked back, then the fee kept."""
    rows = [("refund", settled.returned, reasons[0])]
    if settled.fee is not None:
        rows.append((fee_kind, settled.fee, reasons[1]))
    for kind, amount, reason in rows:
        await record(
            s,
            kind=kind,
            amount=amount,
            reference=entry.reference,
            description=entry.description,
            actor=entry.actor,
            now=entry.now,
            payment_id=payment.id,
            reason=reason,
        )


async def refund_in_full(
    s: AsyncSession, reference: str, *, description: str, reason: str, actor: str, now: datetime
) -> Money | None:
    """The organiser cancelled (or the place could not be given): the whole payment goes back,
    no fee. Nothing happens to a payment already settled."""
    return await settle_cancellation(
        s,
        reference,
        fee=Money(0, DEFAULT_CURRENCY),
        cost_code=None,
        description=description,
        reason=reason,
        actor=actor,
        now=now,
    )


async def record_attendance(
    s: AsyncSession,
    reference: str,
    *,
    status: str,
    cost_code: str | None,
    price: Money | None,
    no_show_fee: Money | None,
    description: str,
    actor: str,
    now: datetime,
) -> None:
    """Bring the ledger in line with the attendance marked, by appending rows: a place paid by
    cost code is charged when it is attended (or partly); a no-show is charged the no-show fee
    instead. A changed mark adds correction rows; nothing is ever rewritten. Card payments were
    taken up front: a no-show keeps the fee and refunds the rest (once)."""
    rows = await ledger_for(s, reference)
    payment = await payment_row(s, reference, lock=True)
    entry = _Entry(reference, description, actor, now)
    if payment is not None and payment.status == "succeeded":
        if status == "no_show" and payment.settled_at is None:
            await _settle_no_show(s, payment, no_show_fee, entry)
        return
    if cost_code is None:
        return
    wanted: dict[str, Money | None] = {
        "charge": price if status in ("attended", "partially_attended") else None,
        "no_show_fee": no_show_fee if status == "no_show" else None,
    }
    for kind, target in wanted.items():
        await _align_with_mark(s, rows, kind, target, cost_code, status, entry)


async def _settle_no_show(
    s: AsyncSession, payment: Payment, no_show_fee: Money | None, entry: _Entry
) -> None:
    """A card payment's no-show: the fee is kept, the rest refunded; settled either way."""
    fee = no_show_fee or Money(0, payment.currency)
    settled = settle_card_payment(Money(payment.amount, payment.currency), fee)
    # A fee that takes the whole payment leaves the charge standing as it is.
    if settled.refund is not None:
        await _book_card_settlement(
            s,
            payment,
            settled,
            entry,
            fee_kind="no_show_fee",
            reasons=("No-show: the payment less the no-show fee is refunded", "No-show"),
        )
        key = f"booking-payment-{payment.id}-no-show-refund"
        await queue_action(s, payment, "refund", settled.refund.amount, key, entry.now)
    payment.settled_at = entry.now


async def _align_with_mark(
    s: AsyncSession,
    rows: list[LedgerView],
    kind: str,
    target: Money | None,
    cost_code: str,
    status: str,
    entry: _Entry,
) -> None:
    """One kind of cost-code row (the charge, the no-show fee) in line with the mark: added
    when wanted and not standing, corrected away when standing and no longer wanted."""
    live = [r for r in rows if r.kind == kind and r.cost_code == cost_code]
    corrected = {r.corrects_id for r in rows if r.kind == "correction"}
    standing = [r for r in live if r.id not in corrected]
    if target is not None and target.amount > 0:
        if not standing:
            await record(
                s,
                kind=kind,
                amount=target,
                reference=entry.reference,
                description=entry.description,
                actor=entry.actor,
                now=entry.now,
                cost_code=cost_code,
                reason="Attended" if kind == "charge" else "No-show",
            )
        return
    for r in standing:
        await record(
            s,
            kind="correction",
            amount=Money(-r.amount.amount, r.amount.currency),
            reference=entry.reference,
            description=entry.description,
            actor=entry.actor,
            now=entry.now,
            cost_code=cost_code,
            reason=f"Attendance changed to {_ATTENDANCE_WORDS.get(status, status)}",
            corrects_id=r.id,
        )


async def waive_fees(
    s: AsyncSession, reference: str, *, reason: str, actor: str, now: datetime
) -> Money:
    """An administrator waives what is left of a booking's fees, with a reason: a waiver row,
    and for a card payment a refund of that amount."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("A waiver needs a reason.", field="reason")
    outstanding = await outstanding_fees(s, reference)
    if outstanding <= 0:
        raise Conflict("This booking has no fee to waive.", code="no_fee")
    fee_row = await s.scalar(
        select(LedgerEntry)
        .where(LedgerEntry.reference == reference, LedgerEntry.kind.in_(FEE_KINDS))
        .order_by(LedgerEntry.id.desc())
    )
    assert fee_row is not None
    payment = await payment_row(s, reference, lock=True)
    waiver_id = await record(
        s,
        kind="waiver",
        amount=Money(-outstanding, fee_row.currency),
        reference=reference,
        description=fee_row.description,
        actor=actor,
        now=now,
        cost_code=fee_row.cost_code,
        payment_id=fee_row.payment_id,
        reason=reason,
    )
    if payment is not None and fee_row.payment_id == payment.id:
        await queue_action(
            s,
            payment,
            "refund",
            outstanding,
            f"booking-payment-{payment.id}-waiver-{waiver_id}",
            now,
        )
    return Money(outstanding, fee_row.currency)
