"""The finance export: the ledger as a journal CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.cost_codes import safe_cell
from billing.models import LedgerEntry
from billing.services.errors import Invalid
from billing.services.ledger import midnight
from billing.services.ports import Transaction

JOURNAL_HEADER = (
    "date",
    "cost_code",
    "amount",
    "currency",
    "type",
    "description",
    "booking_reference",
    "reason",
)


# The longest period one export may cover.
MAX_PERIOD = timedelta(days=3660)


def journal_period(today: date, start: str | None, end: str | None) -> tuple[date, date]:
    """The export's period from the query's `from` and `to` (ISO dates): by default from the
    first of this month to today, and at most ten years."""
    try:
        first = date.fromisoformat(start) if start else today.replace(day=1)
        last = date.fromisoformat(end) if end else today
    except ValueError:
        raise Invalid("from and to are dates such as 2027-04-30.", field="from") from None
    if last - first > MAX_PERIOD:
        raise Invalid("The period is limited to ten years.", field="to")
    return first, last


async def read_journal(reading: Transaction, *, start: date, end: date) -> str:
    """`journal_csv` in a read-only transaction of its own (`reading` opens one)."""
    async with reading() as s:
        return await journal_csv(s, start=start, end=end)


async def journal_csv(s: AsyncSession, *, start: date, end: date) -> str:
    """Ledger rows from `start` to `end` (inclusive) as a journal: cost code (or CARD), amount
    in major units (negative for money given back), description and booking reference. Every
    text cell is neutralised against spreadsheet formulas."""
    if end < start:
        raise Invalid("The period ends before it starts.", field="to")
    rows = await s.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.at >= midnight(start),
            LedgerEntry.at < midnight(end + timedelta(days=1)),
        )
        .order_by(LedgerEntry.at, LedgerEntry.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(JOURNAL_HEADER)
    for r in rows:
        writer.writerow(
            [
                r.at.date().isoformat(),
                safe_cell(r.cost_code or "CARD"),
                # Generated from an integer: a plain number, which spreadsheets never run.
                major_units(r.amount),
                safe_cell(r.currency),
                safe_cell(r.kind),
                safe_cell(r.description),
                safe_cell(r.reference),
                safe_cell(r.reason or ""),
            ]
        )
    return out.getvalue()


def major_units(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"
