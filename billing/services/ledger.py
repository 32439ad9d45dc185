"""The ledger: append-only rows of charges, fees, refunds, waivers and corrections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.money import Money
from billing.models import LedgerEntry, Payment

FEE_KINDS = ("cancellation_fee", "no_show_fee")


def anything_recorded(reference: ColumnElement[Any]) -> ColumnElement[bool]:
    """A column for a caller's query: whether billing holds anything for the reference (a card
    payment in any state, or a ledger row), so a caller that reads in one statement can tell a
    booking billing never saw (nothing to quote, settle or show) from one it must ask about."""
    return or_(
        exists().where(Payment.reference == reference),
        exists().where(LedgerEntry.reference == reference),
    )


def midnight(day: date) -> datetime:
    """The start of `day` (UTC): ledger periods run from one midnight to another."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(slots=True)
class LedgerView:
    id: int
    at: datetime
    kind: str
    amount: Money
    cost_code: str | None
    card: bool
    reference: str
    description: str
    reason: str | None
    actor: str
    corrects_id: int | None


async def record(
    s: AsyncSession,
    *,
    kind: str,
    amount: Money,
    reference: str,
    description: str,
    actor: str,
    now: datetime,
    cost_code: str | None = None,
    payment_id: int | None = None,
    reason: str | None = None,
    corrects_id: int | None = None,
) -> int:
    """Append one ledger row (the only way rows are written)."""
    row = LedgerEntry(
        at=now,
        kind=kind,
        amount=amount.amount,
        currency=amount.currency,
        cost_code=cost_code,
        payment_id=payment_id,
        reference=reference,
        description=description[:300],
        reason=reason,
        actor=actor,
        corrects_id=corrects_id,
    )
    s.add(row)
    await s.flush()
    return row.id


async def ledger_for(s: AsyncSession, reference: str) -> list[LedgerView]:
    rows = await s.scalars(
        select(LedgerEntry).where(LedgerEntry.reference == reference).order_by(LedgerEntry.id)
    )
    return [
        LedgerView(
            r.id,
            r.at,
            r.kind,
            Money(r.amount, r.currency),
            r.cost_code,
            r.payment_id is not None,
            r.reference,
            r.description,
            r.reason,
            r.actor,
            r.corrects_id,
        )
        for r in rows
    ]


async def fees_for(s: AsyncSession, references: Sequence[str]) -> dict[str, Money]:
    """Net fees per reference: cancellation and no-show fees less waivers and corrections."""
    if not references:
        return {}
    out: dict[str, Money] = {}
    for ref, currency, total in await s.execute(
        select(LedgerEntry.reference, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.reference.in_(list(references)),
            LedgerEntry.kind.in_((*FEE_KINDS, "waiver", "correction")),
        )
        .group_by(LedgerEntry.reference, LedgerEntry.currency)
    ):
        out[ref] = Money(int(total or 0), currency)
    return out


async def outstanding_fees(s: AsyncSession, reference: str) -> int:
    total = await s.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.reference == reference,
            LedgerEntry.kind.in_((*FEE_KINDS, "waiver")),
        )
    )
    return int(total or 0)
