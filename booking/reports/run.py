"""The reports administrators can run: their list, and one report run with the filters asked
for (or a message for each filter that cannot be used, and no report)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.reports.attendance import attendance, cancellations
from booking.reports.compliance import compliance
from booking.reports.fees import fee_income
from booking.reports.filters import FilterChoices, ReportFilters, filter_choices, read_filters
from booking.reports.places import fill_rate, trainer_utilisation
from booking.reports.scope import local_day
from booking.reports.views import Report
from booking.reports.waitlist import waitlist_demand


@dataclass(frozen=True, slots=True)
class ReportInfo:
    name: str
    title: str
    description: str


REPORTS: tuple[ReportInfo, ...] = (
    ReportInfo(
        "fill-rate", "Fill rate", "Places used against capacity, per session and per course."
    ),
    ReportInfo(
        "waitlist-demand",
        "Waiting-list demand",
        "Who waits now, who ever joined a waiting list, was promoted or left without a place.",
    ),
    ReportInfo(
        "attendance",
        "Attendance, no-shows and late cancellations",
        "Per course: places on past sessions, attendance, no-shows and late cancellations.",
    ),
    ReportInfo(
        "cancellations", "Cancellations", "Cancelled places by reason and by the notice given."
    ),
    ReportInfo("fees", "Fees and waivers", "Fee income, refunds and waivers per cost code."),
    ReportInfo(
        "trainer-utilisation",
        "Trainer utilisation",
        "Per trainer: sessions run, hours delivered, seats filled and fill rate.",
    ),
    ReportInfo(
        "compliance",
        "Compliance",
        "Required learning by organisation unit and staff type: how much is complete.",
    ),
)
REPORT_NAMES = tuple(r.name for r in REPORTS)
_FILTERED = {"course": "course_id", "unit": "unit_id", "trainer": "trainer_id"}


@dataclass(frozen=True, slots=True)
class ReportPage:
    info: ReportInfo
    filters: ReportFilters
    choices: FilterChoices
    # Messages for filters that cannot be used, by form field; then there is no report.
    errors: dict[str, str]
    report: Report | None
    applies: tuple[str, ...]


APPLIES = {
    "fill-rate": ("dates", "course", "trainer"),
    "waitlist-demand": ("dates", "course", "unit", "trainer"),
    "attendance": ("dates", "course", "unit", "trainer"),
    "cancellations": ("dates", "course", "unit", "trainer"),
    "fees": ("dates",),
    "trainer-utilisation": ("dates", "course", "trainer"),
    "compliance": ("unit",),
}


def list_reports(actor: Actor) -> tuple[ReportInfo, ...]:
    _only_administrators(actor)
    return tuple(r for r in REPORTS if r.name != "compliance" or _sees_compliance(actor))


async def run_report(
    db: Database, clock: Clock, actor: Actor, name: str, asked: Mapping[str, str]
) -> ReportPage:
    """One report with the filters asked for; filters the report does not use are dropped."""
    _only_administrators(actor)
    info = next((r for r in REPORTS if r.name == name), None)
    if info is None:
        raise NotFoundError("There is no such report.")
    if name == "compliance" and not _sees_compliance(actor):
        raise ForbiddenError("Only administrators see the compliance report.")
    now = clock.now()
    applies = APPLIES[name]
    used = {k: v for k, v in asked.items() if k not in _FILTERED or k in applies}
    async with db.reading() as s:
        choices = await filter_choices(s)
        filters, errors = read_filters(used, local_day(now), choices)
        report = None if errors else await _build(s, name, filters, choices, now)
    if name == "compliance" and not errors:
        report = await compliance(db, clock, actor, filters, choices)
    return ReportPage(info, filters, choices, errors, report, applies)


async def _build(
    s: AsyncSession, name: str, filters: ReportFilters, choices: FilterChoices, now: datetime
) -> Report | None:
    if name == "fill-rate":
        return await fill_rate(s, filters, choices)
    if name == "waitlist-demand":
        return await waitlist_demand(s, filters, choices)
    if name == "attendance":
        return await attendance(s, filters, choices, now)
    if name == "cancellations":
        return await cancellations(s, filters, choices)
    if name == "fees":
        return await fee_income(s, filters, choices)
    if name == "trainer-utilisation":
        return await trainer_utilisation(s, filters, choices, now)
    return None  # compliance: the records package reads it in its own transaction


def _only_administrators(actor: Actor) -> None:
    if not policy.can_see_reports(actor):
        raise ForbiddenError("Only administrators can see the reports.")


def _sees_compliance(actor: Actor) -> bool:
    return policy.can_see_compliance_report(actor)
