"""What every report's statement shares: the sessions the filters choose, the learners of a
unit and its sub-units, and hours between two moments in SQL (each database its own way)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from booking.models import Booking, Person, Session, SessionFacilitator
from booking.reports.filters import REPORT_ZONE, FilterChoices, ReportFilters

# A place counts as used once booked, whatever came of it afterwards.
USED = ("booked", "attended", "partially_attended", "no_show")


class hours_between(FunctionElement[float]):  # noqa: N801 - reads as the SQL function it is
    """`later - earlier` in hours, as a real number."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between)
def _hours_pg(element: hours_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
        f"{compiler.process(earlier, **kw)})) / 3600.0)"
    )


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 24.0)"
    )


def sessions_chosen(filters: ReportFilters, *, trainer: bool = True) -> list[ColumnElement[bool]]:
    """Sessions starting in the range, of the course and run by the trainer asked for; drafts
    never count (nobody could book them)."""
    first, after = filters.window()
    where: list[ColumnElement[bool]] = [
        Session.starts_at >= first,
        Session.starts_at < after,
        Session.status != "draft",
    ]
    if filters.course_id is not None:
        where.append(Session.course_id == filters.course_id)
    if trainer and filters.trainer_id is not None:
        where.append(
            exists().where(
                SessionFacilitator.session_id == Session.id,
                SessionFacilitator.person_id == filters.trainer_id,
            )
        )
    return where


def learners_chosen(filters: ReportFilters, choices: FilterChoices) -> list[ColumnElement[bool]]:
    """Bookings of learners in the unit asked for or any unit below it."""
    if filters.unit_id is None:
        return []
    units = sorted(choices.unit_and_below(filters.unit_id))
    return [Booking.learner_id.in_(select(Person.id).where(Person.org_unit_id.in_(units)))]


def local_day(moment: datetime) -> date:
    return moment.astimezone(REPORT_ZONE).date()
