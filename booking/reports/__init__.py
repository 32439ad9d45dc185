"""Reports for administrators: read-only figures over bookings, sessions, the billing ledger
and the records, each aggregated in SQL, with a chart and CSV and XLSX files.

This package's public face. Inside: `run` (the list of reports and running one), `filters`,
`scope` (what every statement shares), one module per group of reports (`places`, `waitlist`,
`attendance`, `fees`, `compliance`), `views`, `charts` and `exports`."""

from booking.reports.charts import chart_data_url, chart_description, chart_svg
from booking.reports.exports import to_csv, to_xlsx
from booking.reports.filters import Choice, FilterChoices, ReportFilters
from booking.reports.run import (
    REPORT_NAMES,
    REPORTS,
    ReportInfo,
    ReportPage,
    list_reports,
    run_report,
)
from booking.reports.views import Chart, Column, Report, Table

__all__ = [
    "REPORTS",
    "REPORT_NAMES",
    "Chart",
    "Choice",
    "Column",
    "FilterChoices",
    "Report",
    "ReportFilters",
    "ReportInfo",
    "ReportPage",
    "Table",
    "chart_data_url",
    "chart_description",
    "chart_svg",
    "list_reports",
    "run_report",
    "to_csv",
    "to_xlsx",
]
