"""Waiting-list demand per session, rolled up per course: who waits now, who ever joined the
list, who got a place from it and who left it without one. One statement, grouped in SQL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Booking, BookingHistory, Course, Session
from booking.reports.filters import FilterChoices, ReportFilters
from booking.reports.scope import learners_chosen, local_day, sessions_chosen
from booking.reports.views import Cell, Chart, Column, Report, Table

NOTES = [
    "Waiting now counts those on the list and those holding an offer they have not answered. "
    "Ever joined counts every booking that was on the session's waiting list at some point.",
    "Promoted: joined the list and later held a place (booked, or booked but for the card "
    "payment). Left without a place: joined the list, never held a place, and is now "
    "cancelled or declined.",
]
# A place held after the waiting list: booked, or held while the card payment is made.
PLACED = ("booked", "pending_payment")


COUNTS = (
    Column("Waiting now", "number"),
    Column("Ever joined", "number"),
    Column("Promoted", "number"),
    Column("Left without a place", "number"),
)
SESSION_COLUMNS = (
    Column("Course code"),
    Column("Course"),
    Column("Session date", "date"),
    Column("Session", "number"),
    *COUNTS,
)
COURSE_COLUMNS = (Column("Course code"), Column("Course"), *COUNTS)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _statement(filters: ReportFilters, choices: FilterChoices) -> Any:
    ever = exists().where(
        BookingHistory.booking_id == Booking.id, BookingHistory.to_state == "waitlisted"
    )
    placed = exists().where(
        BookingHistory.booking_id == Booking.id, BookingHistory.to_state.in_(PLACED)
    )
    joined = _count(ever)
    return (
        select(
            Session.id,
            Session.starts_at,
            Course.code,
            Course.title,
            _count(Booking.state.in_(("waitlisted", "offered"))).label("waiting"),
            joined.label("joined"),
            _count(ever & placed).label("promoted"),
            _count(ever & ~placed & Booking.state.in_(("cancelled", "declined"))).label("left"),
        )
        .join(Course, Course.id == Session.course_id)
        .join(Booking, Booking.session_id == Session.id)
        .where(*sessions_chosen(filters), *learners_chosen(filters, choices))
        .group_by(Session.id, Session.starts_at, Course.code, Course.title)
        .having(joined > 0)
        .order_by(Session.starts_at, Session.id)
    )


async def waitlist_demand(
    s: AsyncSession, filters: ReportFilters, choices: FilterChoices
) -> Report:
    rows = (await s.execute(_statement(filters, choices))).all()
    per_session = [
        (
            r.code,
            r.title,
            local_day(r.starts_at),
            r.id,
            int(r.waiting),
            int(r.joined),
            int(r.promoted),
            int(r.left),
        )
        for r in rows
    ]
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        total = totals[(r.code, r.title)]
        for i, figure in enumerate((r.waiting, r.joined, r.promoted, r.left)):
            total[i] += int(figure)
    ordered = sorted(totals.items())
    per_course: list[tuple[Cell, ...]] = [
        (code, title, *figures) for (code, title), figures in ordered
    ]
    return Report(
        name="waitlist-demand",
        title="Waiting-list demand",
        tables=[
            Table(
                "Waiting lists per session",
                SESSION_COLUMNS,
                per_session,
            ),
            Table(
                "Waiting lists per course",
                COURSE_COLUMNS,
                per_course,
            ),
        ],
        chart=Chart(
            "Waiting-list demand per course",
            [code for (code, _), _ in ordered],
            [
                (column.title, [float(figures[i]) for _, figures in ordered])
                for i, column in enumerate(COUNTS)
            ],
            "people",
        ),
        notes=NOTES,
    )
