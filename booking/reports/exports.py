"""A report as a file: CSV (its first table; the page's download adds the byte order mark) and
XLSX (a sheet per table). Numbers stay numbers, dates are dates, text is never a formula."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from booking.kernel.exports import safe_cell
from booking.reports.views import Cell, Report, Table


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, int | float):
        return str(value)
    return safe_cell(value)


def to_csv(report: Report) -> str:
    table = report.tables[0]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(c.title) for c in table.columns])
    for row in table.rows:
        writer.writerow([_text(v) for v in row])
    return out.getvalue()


def to_xlsx(report: Report) -> bytes:
    # Imported here, not at the top: openpyxl is only needed when someone downloads a sheet,
    # and the web and the worker start without loading it (as records' exports do).
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in report.tables:
        _sheet(book, table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: object, table: Table) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(_sheet_title(table.caption))  # type: ignore[attr-defined]
    sheet.append([safe_cell(c.title) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    formats = {"money": "#,##0.00", "date": "yyyy-mm-dd", "percent": "0.0"}
    for row in table.rows:
        sheet.append([_xlsx_value(v) for v in row])
        for column, cell in zip(table.columns, sheet[sheet.max_row], strict=True):
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif column.kind in formats and cell.value is not None:
                cell.number_format = formats[column.kind]
    sheet.freeze_panes = "A2"


def _sheet_title(caption: str) -> str:
    cleaned = "".join(ch for ch in caption if ch not in "[]:*?/\\'")
    return cleaned[:31] or "Report"


def _xlsx_value(value: Cell) -> object:
    if value is None or isinstance(value, int | float | Decimal | date):
        return value
    return safe_cell(value)
