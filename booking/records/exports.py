"""Exports of records: rows for a record, a team and the compliance report, written as CSV or
XLSX with every text cell formula-safe."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from booking.domain.states import state_name
from booking.kernel.exports import safe_cell
from booking.records.views import ComplianceRow, RecordView, TeamView

RECORD_HEADERS = (
    "Course code",
    "Course",
    "Status",
    "Completed",
    "Expires",
    "Source",
    "Certification",
    "Renewal window opens",
    "Mandatory",
    "Previous completions",
)

TEAM_HEADERS = (
    "Name",
    "Email",
    "Personnel number",
    "Unit",
    "Compliance %",
    "Required learning",
    "Overdue",
    "Certifications",
    "Upcoming bookings",
)

COMPLIANCE_HEADERS = (
    "Unit code",
    "Unit",
    "Staff type",
    "People",
    "Fully compliant",
    "Required items",
    "Compliant items",
    "Exempt items",
    "Overdue items",
    "Compliance %",
)


def record_rows(record: RecordView) -> list[list[Any]]:
    return [
        [
            c.course_code,
            c.course_title,
            c.status_label,
            c.completed_at,
            c.expires_at,
            c.source or "",
            c.certification.status_label if c.certification else "",
            c.certification.window_opens_at if c.certification else None,
            "yes" if c.mandatory else "no",
            "; ".join(f"{p.completed_at:%Y-%m-%d} ({p.source})" for p in c.previous),
        ]
        for c in record.courses
    ]


def team_rows(team: TeamView) -> list[list[Any]]:
    rows = []
    for m in team.members:
        r = m.record
        rows.append(
            [
                r.person.name,
                r.person.email,
                r.person.personnel_number or "",
                r.person.org_unit or "",
                "" if r.compliance.percent is None else r.compliance.percent,
                "; ".join(f"{q.course_title} ({q.status_label})" for q in r.required),
                sum(1 for q in r.required if q.overdue),
                "; ".join(
                    f"{c.course_title}: {c.status_label}, expires {c.expires_at:%Y-%m-%d}"
                    for c in r.certifications
                ),
                "; ".join(
                    f"{m.course_titles.get(b.course_id, '')}, {b.starts_at:%Y-%m-%d} "
                    f"({state_name(b.state).lower()})"
                    for b in m.upcoming
                ),
            ]
        )
    return rows


def compliance_rows(rows: Sequence[ComplianceRow]) -> list[list[Any]]:
    return [
        [
            r.org_unit or "",
            r.org_unit_name or "(no unit)",
            r.staff_type,
            r.people,
            r.fully_compliant,
            r.required,
            r.compliant,
            r.exempt,
            r.overdue,
            "" if r.percent is None else r.percent,
        ]
        for r in rows
    ]


def _cell_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    return safe_cell(value)


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([_cell_text(v) for v in row])
    return out.getvalue()


def to_xlsx(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    # programs: further sheets after the first (title, headers, rows), e.g. a record's programs
    more: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = (),
) -> bytes:
    """One sheet (and any `more`). Text is written as text (never a formula): values that a
    spreadsheet would run are prefixed like the CSV's; dates are real dates; numbers stay
    numbers."""
    # Imported here, not at the top: openpyxl is only needed when someone downloads a sheet,
    # and the web and the worker start without loading it.
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    _fill_sheet(ws, title, headers, rows)
    for extra_title, extra_headers, extra_rows in more:
        _fill_sheet(wb.create_sheet(), extra_title, extra_headers, extra_rows)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _fill_sheet(ws: Any, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from openpyxl.styles import Font

    ws.title = safe_cell(title)[:31].replace("'", "") or "Sheet"
    ws.append([safe_cell(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_xlsx_value(v) for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"


def _xlsx_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None)
    if isinstance(v, bool) or v is None:
        return "" if v is None else ("yes" if v else "no")
    if isinstance(v, int | float):
        return v
    return safe_cell(v)
