"""Compliance by organisation unit and staff type: the records package's compliance report
(its rules, its counting), with each group's required items by where they stand, narrowed to
a unit and the units below it."""

from __future__ import annotations

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.reports.filters import FilterChoices, ReportFilters
from booking.reports.views import Chart, Column, Report, Table

NOTES = [
    "Active people by their own unit and staff type, as of today, as on the compliance page. "
    "Required items are the mandatory courses and the certifications that apply to each "
    "person. Complete: a current completion. Due: still to do, not late yet. Overdue: past its "
    "due date, or a certification past its expiry still being renewed. Expired: a mandatory "
    "certification that lapsed past renewing. Compliant is the share of required items that "
    "are complete; fully compliant people have every required item complete.",
]
COLUMNS = (
    Column("Unit"),
    Column("Unit code"),
    Column("Staff type"),
    Column("People", "number"),
    Column("Fully compliant people", "number"),
    Column("Required items", "number"),
    Column("Complete", "number"),
    Column("Due", "number"),
    Column("Overdue", "number"),
    Column("Expired", "number"),
    Column("Compliant (%)", "percent"),
)


async def compliance(
    db: Database, clock: Clock, actor: Actor, filters: ReportFilters, choices: FilterChoices
) -> Report:
    # the compliance filters' unit with its sub-units, as on the compliance page
    unit = None if filters.unit_id is None else choices.unit_codes[filters.unit_id]
    rows = await records.compliance_by_status(
        db, clock, actor, records.ComplianceFilters(unit=unit, sub_units=True)
    )
    table_rows = [
        (
            r.row.org_unit_name or "(no unit)",
            r.row.org_unit or "",
            r.row.staff_type,
            r.row.people,
            r.row.fully_compliant,
            r.row.required,
            r.complete,
            r.due,
            r.overdue,
            r.expired,
            None if r.row.percent is None else float(r.row.percent),
        )
        for r in rows
    ]
    return Report(
        name="compliance",
        title="Compliance",
        tables=[Table("Required learning by unit and staff type", COLUMNS, table_rows)],
        chart=Chart(
            "Required items compliant, by unit and staff type (%)",
            [f"{row[0]} – {row[2]}" for row in table_rows],
            [("Compliant (%)", [row[10] for row in table_rows])],
            "percent",
        ),
        notes=NOTES,
    )
