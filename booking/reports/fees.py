"""Fee income and waivers per cost code, from billing's ledger (booking reads billing's tables;
billing never reads booking's). One statement, grouped and pivoted in SQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import CostCode, LedgerEntry
from booking.reports.filters import FilterChoices, ReportFilters
from booking.reports.views import Chart, Column, Report, Table

CARD = "(card payments)"
KINDS = (
    ("charge", "Course fees"),
    ("cancellation_fee", "Cancellation fees"),
    ("no_show_fee", "No-show fees"),
    ("refund", "Refunds"),
    ("waiver", "Waivers"),
    ("correction", "Corrections"),
)
NOTES = [
    "Ledger entries made in the date range (when the money was charged, waived or refunded, "
    "not when the session runs), per cost code and currency; places paid by card are shown "
    "together. Refunds, waivers and most corrections are negative; the net is their sum.",
]


def _major(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


def _statement(filters: ReportFilters) -> Any:
    first, after = filters.window()
    code = func.coalesce(LedgerEntry.cost_code, CARD).label("code")
    sums = [
        func.coalesce(
            func.sum(case((LedgerEntry.kind == kind, LedgerEntry.amount), else_=0)), 0
        ).label(kind)
        for kind, _ in KINDS
    ]
    return (
        select(
            code,
            func.max(CostCode.description).label("description"),
            LedgerEntry.currency,
            *sums,
            func.coalesce(func.sum(LedgerEntry.amount), 0).label("net"),
        )
        .outerjoin(CostCode, CostCode.code == LedgerEntry.cost_code)
        .where(LedgerEntry.at >= first, LedgerEntry.at < after)
        .group_by(code, LedgerEntry.currency)
        .order_by(code, LedgerEntry.currency)
    )


async def fee_income(s: AsyncSession, filters: ReportFilters, choices: FilterChoices) -> Report:
    rows = (await s.execute(_statement(filters))).all()
    table_rows = [
        (
            r.code,
            r.description or "",
            r.currency,
            *(_major(int(getattr(r, kind))) for kind, _ in KINDS),
            _major(int(r.net)),
        )
        for r in rows
    ]
    fees_in = [int(r.charge) + int(r.cancellation_fee) + int(r.no_show_fee) for r in rows]
    return Report(
        name="fees",
        title="Fees and waivers",
        tables=[
            Table(
                "Fee income and waivers per cost code",
                (
                    Column("Cost code"),
                    Column("Description"),
                    Column("Currency"),
                    *(Column(label, "money") for _, label in KINDS),
                    Column("Net", "money"),
                ),
                table_rows,
            )
        ],
        chart=Chart(
            "Fees charged and waived per cost code",
            [f"{r.code} ({r.currency})" for r in rows],
            [
                ("Fees charged", [float(_major(n)) for n in fees_in]),
                ("Waived", [float(-_major(int(r.waiver))) for r in rows]),
            ],
            "money",
        ),
        notes=NOTES,
    )
