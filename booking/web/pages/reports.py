"""Administrators' reports: the list, each report's page (filters as a GET form, a chart drawn
on the server, the table with the same figures) and its CSV and XLSX downloads.

A filter that cannot be used shows the page again with the message on its field (400) and no
figures; the downloads refuse it the same way. Filters the report does not use are ignored."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.response import Template

from billing.web import csv_download
from booking import reports
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.web.pages.render import NO_STORE, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A filter value longer than this is not one the form sends: cut it before it is read.
MAX_VALUE = 100
FILTER_KEYS = ("from", "to", "course", "unit", "trainer")
NAV = "reports"


def _asked(request: Request[Any, Any, Any]) -> dict[str, str]:
    params = request.query_params
    return {key: str(params.get(key) or "")[:MAX_VALUE] for key in FILTER_KEYS if key in params}


def _name_and_ext(request: Request[Any, Any, Any]) -> tuple[str, str]:
    last = request.url.path.rstrip("/").rpartition("/")[2]
    name, _, ext = last.partition(".")
    return name, ext


def cell_text(value: Any, kind: str) -> str:
    """A table cell as the page shows it."""
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "money" and isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.strftime("%-d %b %Y")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@get("/admin/reports", include_in_schema=False)
async def reports_hub(request: Request[Any, Any, Any], actor: Actor) -> Template:
    return page(
        request,
        "booking/reports.html",
        actor=actor,
        nav=NAV,
        reports=reports.list_reports(actor),
    )


@get([f"/admin/reports/{name}" for name in reports.REPORT_NAMES], include_in_schema=False)
async def report_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    name, _ = _name_and_ext(request)
    asked = _asked(request)
    result = await reports.run_report(db, clock, actor, name, asked)
    return _page(request, actor, result, asked)


@get(
    [f"/admin/reports/{name}.{ext}" for name in reports.REPORT_NAMES for ext in ("csv", "xlsx")],
    include_in_schema=False,
)
async def report_download(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    name, ext = _name_and_ext(request)
    asked = _asked(request)
    result = await reports.run_report(db, clock, actor, name, asked)
    if result.report is None:
        return _page(request, actor, result, asked)
    filename = f"{name}-{result.filters.start.isoformat()}-to-{result.filters.end.isoformat()}"
    if name == "compliance":
        filename = "compliance-report"
    if ext == "csv":
        return csv_download(reports.to_csv(result.report), f"{filename}.csv", NO_STORE)
    return Response(
        reports.to_xlsx(result.report),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"', **NO_STORE},
    )


def _page(
    request: Request[Any, Any, Any],
    actor: Actor,
    result: reports.ReportPage,
    asked: dict[str, str],
) -> Template:
    report = result.report
    chart = None
    if report is not None and not report.empty:
        chart = {
            "src": reports.chart_data_url(report.chart),
            "alt": reports.chart_description(report.chart),
        }
    # A refused form keeps what was typed; an accepted one shows the filters applied.
    shown = asked if result.errors else result.filters.query()
    query = urlencode({k: v for k, v in result.filters.query().items() if _sent(k, result)})
    return page(
        request,
        "booking/report.html",
        actor=actor,
        nav=NAV,
        status_code=400 if result.errors else 200,
        info=result.info,
        result=result,
        report=report,
        chart=chart,
        shown=shown,
        download_query=query,
        cell_text=cell_text,
    )


def _sent(key: str, result: reports.ReportPage) -> bool:
    if key in ("from", "to"):
        return "dates" in result.applies
    return key in result.applies


HANDLERS = [reports_hub, report_page, report_download]
