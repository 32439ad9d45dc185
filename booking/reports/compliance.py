"""Compliance by organisation unit and staff type: the records package's compliance report
(its rules, its counting), narrowed to a unit and the units below it."""

from __future__ import annotations

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.reports.filters import FilterChoices, ReportFilters
from booking.reports.views import Chart, Column, Report, Table

NOTES = [
    "Active people by their own unit and staff type, as of today. Required items are the "
    "mandatory courses and certifications that apply to each person; an item is compliant "
    "when it is complete and current. Fully compliant people have every required item.",
]


async def compliance(
    db: Database, clock: Clock, actor: Actor, filters: ReportFilters, choices: FilterChoices
) -> Report:
    rows = await records.compliance_report(db, clock, actor)
    if filters.unit_id is not None:
        codes = {choices.unit_codes[u] for u in choices.unit_and_below(filters.unit_id)}
        rows = [r for r in rows if r.org_unit in codes]
    table_rows = [
        (
            r.org_unit_name or "(no unit)",
            r.org_unit or "",
            r.staff_type,
            r.people,
            r.fully_compliant,
            r.required,
            r.compliant,
            None if r.percent is None else float(r.percent),
        )
        for r in rows
    ]
    return Report(
        name="compliance",
        title="Compliance",
        tables=[
            Table(
                "Required learning by unit and staff type",
                (
                    Column("Unit"),
                    Column("Unit code"),
                    Column("Staff type"),
                    Column("People", "number"),
                    Column("Fully compliant people", "number"),
                    Column("Required items", "number"),
                    Column("Compliant items", "number"),
                    Column("Compliant (%)", "percent"),
                ),
                table_rows,
            )
        ],
        chart=Chart(
            "Required items compliant, by unit and staff type (%)",
            [f"{row[0]} – {row[2]}" for row in table_rows],
            [("Compliant (%)", [row[7] for row in table_rows])],
            "percent",
        ),
        notes=NOTES,
    )
