"""Reports on sessions and their places: fill rate (per session, rolled up per course) and
trainer utilisation. Each is one aggregate statement, grouped in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Booking, Course, Person, Session, SessionDate, SessionFacilitator
from booking.reports.filters import FilterChoices, ReportFilters
from booking.reports.scope import USED, hours_between, local_day, sessions_chosen
from booking.reports.views import Chart, Column, Report, Table, percent

FILL_NOTES = [
    "A place counts as used when it is booked, attended, partly attended or a no-show: the "
    "place was held for the learner whatever came of it. Waiting lists, offers and requests "
    "still waiting for approval or payment are not counted.",
    "Cancelled sessions and drafts are left out.",
]
TRAINER_NOTES = [
    "Sessions a trainer runs (or ran) in the range, not cancelled. Sessions run and hours "
    "delivered count those that have started; hours are the length of their dates. Seats "
    "filled and the fill rate count every session in the range, as the fill-rate report does.",
    "A session with two trainers counts in full for each.",
]

SESSION_COLUMNS = (
    Column("Course code"),
    Column("Course"),
    Column("Session date", "date"),
    Column("Session", "number"),
    Column("Capacity", "number"),
    Column("Places used", "number"),
    Column("Fill rate (%)", "percent"),
)
COURSE_COLUMNS = (
    Column("Course code"),
    Column("Course"),
    Column("Sessions", "number"),
    Column("Capacity", "number"),
    Column("Places used", "number"),
    Column("Fill rate (%)", "percent"),
)
TRAINER_COLUMNS = (
    Column("Trainer"),
    Column("Sessions", "number"),
    Column("Sessions run so far", "number"),
    Column("Hours delivered", "number"),
    Column("Capacity", "number"),
    Column("Seats filled", "number"),
    Column("Fill rate (%)", "percent"),
)


def used_places() -> ColumnElement[int]:
    """How many of the grouped bookings hold (or held) a place."""
    return func.coalesce(func.sum(case((Booking.state.in_(USED), 1), else_=0)), 0)


async def fill_rate(s: AsyncSession, filters: ReportFilters, choices: FilterChoices) -> Report:
    used = used_places()
    rows = (
        await s.execute(
            select(
                Session.id,
                Session.starts_at,
                Session.capacity,
                Course.code,
                Course.title,
                used.label("used"),
            )
            .join(Course, Course.id == Session.course_id)
            .outerjoin(Booking, Booking.session_id == Session.id)
            .where(*sessions_chosen(filters), Session.status == "open")
            .group_by(Session.id, Session.starts_at, Session.capacity, Course.code, Course.title)
            .order_by(Session.starts_at, Session.id)
        )
    ).all()
    per_session = [
        (
            r.code,
            r.title,
            local_day(r.starts_at),
            r.id,
            r.capacity,
            int(r.used),
            percent(int(r.used), r.capacity),
        )
        for r in rows
    ]
    per_course = _per_course(rows)
    return Report(
        name="fill-rate",
        title="Fill rate",
        tables=[
            Table(
                "Places used per session",
                SESSION_COLUMNS,
                per_session,
            ),
            Table(
                "Places used per course",
                COURSE_COLUMNS,
                per_course,
            ),
        ],
        chart=Chart(
            "Fill rate per course (%)",
            [str(row[0]) for row in per_course],
            [("Fill rate (%)", [row[5] for row in per_course])],
            "percent",
        ),
        notes=FILL_NOTES,
    )


def _per_course(rows: Sequence[Any]) -> list[tuple[str, str, int, int, int, float | None]]:
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        total = totals[(r.code, r.title)]
        total[0] += 1
        total[1] += r.capacity
        total[2] += int(r.used)
    return [
        (code, title, n, capacity, used, percent(used, capacity))
        for (code, title), (n, capacity, used) in sorted(totals.items())
    ]


def _hours_and_places() -> tuple[Any, Any]:
    """Per session: the hours of its dates, and the places used (grouped apart, so joining
    both to a trainer's sessions multiplies nothing)."""
    hours = (
        select(
            SessionDate.session_id,
            func.sum(hours_between(SessionDate.end_at, SessionDate.start_at)).label("hours"),
        )
        .where(SessionDate.removed_at.is_(None))
        .group_by(SessionDate.session_id)
        .subquery()
    )
    places = (
        select(Booking.session_id, used_places().label("used"))
        .group_by(Booking.session_id)
        .subquery()
    )
    return hours, places


async def trainer_utilisation(
    s: AsyncSession, filters: ReportFilters, choices: FilterChoices, now: datetime
) -> Report:
    scope = [*sessions_chosen(filters), Session.status == "open"]
    hours, places = _hours_and_places()
    rows = (
        await s.execute(
            select(
                Person.id,
                Person.name,
                func.count(Session.id).label("sessions"),
                func.sum(case((Session.starts_at < now, 1), else_=0)).label("run"),
                func.coalesce(
                    func.sum(case((Session.starts_at < now, hours.c.hours), else_=0.0)), 0.0
                ).label("hours"),
                func.coalesce(func.sum(Session.capacity), 0).label("capacity"),
                func.coalesce(func.sum(places.c.used), 0).label("used"),
            )
            .select_from(SessionFacilitator)
            .join(Person, Person.id == SessionFacilitator.person_id)
            .join(Session, Session.id == SessionFacilitator.session_id)
            .outerjoin(hours, hours.c.session_id == Session.id)
            .outerjoin(places, places.c.session_id == Session.id)
            .where(*scope)
            .group_by(Person.id, Person.name)
            .order_by(Person.name, Person.id)
        )
    ).all()
    table_rows = [
        (
            r.name,
            int(r.sessions),
            int(r.run),
            round(float(r.hours), 1),
            int(r.capacity),
            int(r.used),
            percent(int(r.used), int(r.capacity)),
        )
        for r in rows
    ]
    return Report(
        name="trainer-utilisation",
        title="Trainer utilisation",
        tables=[
            Table(
                "Sessions, hours and places per trainer",
                TRAINER_COLUMNS,
                table_rows,
            )
        ],
        chart=Chart(
            "Hours delivered per trainer",
            [str(row[0]) for row in table_rows],
            [("Hours", [float(row[3] or 0) for row in table_rows])],
            "hours",
        ),
        notes=TRAINER_NOTES,
    )
