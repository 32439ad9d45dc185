"""Spend against a cost code: what the ledger holds this financial year, the limit check, and
the per-code dashboard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain import cost_codes as rules
from billing.domain.cost_codes import SpendCheck
from billing.domain.money import DEFAULT_CURRENCY, Money
from billing.models import CostCode, LedgerEntry
from billing.services.cost_codes import list_cost_codes
from billing.services.ledger import FEE_KINDS, midnight
from billing.services.ports import Transaction


async def spent(
    s: AsyncSession, code: str, *, today: date, year_start: tuple[int, int], currency: str
) -> Money:
    """What the ledger holds against the code in the financial year containing `today`."""
    first, following = rules.financial_year(today, year_start)
    total = await s.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.cost_code == code,
            LedgerEntry.currency == currency,
            LedgerEntry.at >= midnight(first),
            LedgerEntry.at < midnight(following),
        )
    )
    return Money(int(total or 0), currency)


async def check_spend(
    s: AsyncSession,
    code: str,
    requested: Money,
    *,
    committed: int,
    today: date,
    year_start: tuple[int, int],
) -> SpendCheck:
    """Spend so far this year (the ledger) and places `committed` (approved, not yet charged)
    against the code's limit: over the limit is flagged for the budget holder, never refused."""
    row = await s.scalar(select(CostCode).where(CostCode.code == code))
    limit = (
        Money(row.annual_limit_amount, row.currency)
        if row is not None and row.annual_limit_amount is not None
        else None
    )
    charged = await spent(s, code, today=today, year_start=year_start, currency=requested.currency)
    return rules.check_spend(
        charged, requested, limit, committed=Money(committed, requested.currency)
    )


# What booking knows and billing does not: per code, the places approved and not charged yet
# (minor units). Passed in by the caller (booking's port), as billing never imports booking.
CommittedSpend = Callable[[AsyncSession, Sequence[str]], Awaitable[Mapping[str, int]]]


@dataclass(slots=True)
class CodeSummary:
    code: str
    description: str
    budget_holder_email: str
    annual_limit: Money | None
    year_start: date
    charges: Money
    fees: Money
    refunds_and_waivers: Money
    # Charged this year (the ledger: places, fees, less refunds and waivers).
    total: Money
    # Approved, not yet charged.
    committed: Money

    @property
    def check(self) -> SpendCheck:
        """The annual limit check over both charged and committed spend."""
        return rules.check_spend(
            self.total, Money(0, self.total.currency), self.annual_limit, committed=self.committed
        )

    @property
    def over_limit(self) -> bool:
        return self.check.over_limit


async def dashboard(
    s: AsyncSession,
    *,
    today: date,
    year_start: tuple[int, int],
    budget_holder_email: str | None = None,
    committed: CommittedSpend | None = None,
) -> list[CodeSummary]:
    """Spend and fees this financial year, per code (a budget holder's own codes, or all),
    and what is committed on each (from `committed`, booking's count)."""
    first, following = rules.financial_year(today, year_start)
    codes = await list_cost_codes(s, budget_holder_email=budget_holder_email)
    held: Mapping[str, int] = (
        await committed(s, [c.code for c in codes]) if committed and codes else {}
    )
    sums: dict[tuple[str, str], int] = {}
    if codes:
        for code, kind, total in await s.execute(
            select(LedgerEntry.cost_code, LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(
                LedgerEntry.cost_code.in_([c.code for c in codes]),
                LedgerEntry.at >= midnight(first),
                LedgerEntry.at < midnight(following),
            )
            .group_by(LedgerEntry.cost_code, LedgerEntry.kind)
        ):
            sums[(code or "", kind)] = int(total or 0)
    out = []
    for c in codes:
        currency = c.annual_limit.currency if c.annual_limit else DEFAULT_CURRENCY
        charges = sums.get((c.code, "charge"), 0)
        fees = sum(sums.get((c.code, k), 0) for k in FEE_KINDS)
        back = sum(sums.get((c.code, k), 0) for k in ("refund", "waiver", "correction"))
        out.append(
            CodeSummary(
                c.code,
                c.description,
                c.budget_holder_email,
                c.annual_limit,
                first,
                Money(charges, currency),
                Money(fees, currency),
                Money(back, currency),
                Money(charges + fees + back, currency),
                Money(held.get(c.code, 0), currency),
            )
        )
    return out


async def read_dashboard(
    reading: Transaction,
    *,
    today: date,
    year_start: tuple[int, int],
    budget_holder_email: str | None = None,
    committed: CommittedSpend | None = None,
) -> list[CodeSummary]:
    """`dashboard` in a read-only transaction of its own (`reading` opens one)."""
    async with reading() as s:
        return await dashboard(
            s,
            today=today,
            year_start=year_start,
            budget_holder_email=budget_holder_email,
            committed=committed,
        )
