"""Attendance per course (no-shows and late cancellations) and cancellations by reason and
notice. Each is one statement grouped in SQL; a course's "late" notice is read from its
cancellation policy first (one statement for every course)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.fees import FeePolicy, PolicyError
from booking.models import Booking, BookingHistory, Course, Session
from booking.reports.filters import FilterChoices, ReportFilters
from booking.reports.scope import USED, hours_between, learners_chosen, sessions_chosen
from booking.reports.views import Chart, Column, Report, Table, percent

# Without a cancellation fee in the course's policy, a cancellation is late inside 48 hours.
DEFAULT_LATE_HOURS = 48
# A policy that charges for any cancellation at all: every cancellation is late.
ALWAYS_LATE = 10**6
# States a place was cancelled from (leaving a waiting list is not cancelling a place).
HELD = ("booked", "pending_payment", "pending_approval", "offered")
BANDS = (
    ("more_14d", "More than 14 days"),
    ("7_14d", "7 to 14 days"),
    ("2_7d", "2 to 7 days"),
    ("under_48h", "Less than 48 hours"),
    ("after", "After the start"),
)
ATTENDANCE_NOTES = [
    "Past sessions only (started before now, not cancelled). Places: booked, attended, partly "
    "attended or no-show. Not marked: still booked, attendance not taken yet.",
    "A late cancellation is a place cancelled (booked, offered, or waiting for approval or "
    "payment; not a waiting-list entry) with less notice than the course's "
    "cancellation policy allows free of charge (where it charges for cancelling), otherwise "
    "with less than 48 hours' notice, or after the start. The no-show rate is of the places; "
    "the late-cancellation rate is of the places and the late cancellations together.",
]
CANCELLATION_NOTES = [
    "Every place cancelled (booked, offered, or waiting for approval or payment) on sessions "
    "starting in the range, by the reason given and the notice before the session's start. "
    "Leaving a waiting list is not counted.",
]

ATTENDANCE_COLUMNS = (
    Column("Course code"),
    Column("Course"),
    Column("Places (booked and past)", "number"),
    Column("Attended", "number"),
    Column("Partly attended", "number"),
    Column("No-show", "number"),
    Column("Not marked", "number"),
    Column("Late cancellations", "number"),
    Column("No-show rate (%)", "percent"),
    Column("Late-cancellation rate (%)", "percent"),
)


def late_hours(policy: Mapping[str, Any] | None) -> int:
    """Notice (hours) below which cancelling a place is late: inside the course's fee-free
    notice when its policy charges for cancelling, otherwise 48 hours."""
    try:
        tiers = FeePolicy.from_json(policy).tiers
    except PolicyError:
        return DEFAULT_LATE_HOURS
    if not any(t.fee_percent > 0 for t in tiers):
        return DEFAULT_LATE_HOURS
    free_from: int | None = None
    for tier in tiers:  # longest notice first
        if tier.fee_percent > 0:
            break
        free_from = tier.min_notice_hours
    return ALWAYS_LATE if free_from is None else free_from


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _cancellations() -> Any:
    """When each place was cancelled (a booking is cancelled once: it is final)."""
    return (
        select(
            BookingHistory.booking_id.label("booking_id"),
            func.max(BookingHistory.at).label("at"),
        )
        .where(BookingHistory.to_state == "cancelled", BookingHistory.from_state.in_(HELD))
        .group_by(BookingHistory.booking_id)
        .subquery()
    )


def _attendance_statement(
    filters: ReportFilters, choices: FilterChoices, now: datetime, thresholds: dict[int, int]
) -> Any:
    cancelled = _cancellations()
    notice = hours_between(Session.starts_at, cancelled.c.at)
    late_within: Any = literal(DEFAULT_LATE_HOURS)
    if thresholds:  # a CASE needs at least one WHEN
        late_within = case(thresholds, value=Booking.course_id, else_=DEFAULT_LATE_HOURS)
    return (
        select(
            Course.code,
            Course.title,
            _count(Booking.state.in_(USED)).label("places"),
            _count(Booking.state == "attended").label("attended"),
            _count(Booking.state == "partially_attended").label("partly"),
            _count(Booking.state == "no_show").label("no_show"),
            _count(Booking.state == "booked").label("unmarked"),
            _count(cancelled.c.at.is_not(None) & (notice < late_within)).label("late"),
        )
        .select_from(Booking)
        .join(Session, Session.id == Booking.session_id)
        .join(Course, Course.id == Session.course_id)
        .outerjoin(cancelled, cancelled.c.booking_id == Booking.id)
        .where(
            *sessions_chosen(filters),
            *learners_chosen(filters, choices),
            Session.status == "open",
            Session.starts_at < now,
        )
        .group_by(Course.code, Course.title)
        .order_by(Course.code)
    )


async def attendance(
    s: AsyncSession, filters: ReportFilters, choices: FilterChoices, now: datetime
) -> Report:
    policies = (await s.execute(select(Course.id, Course.cancellation_policy))).all()
    thresholds = {p.id: late_hours(p.cancellation_policy) for p in policies}
    rows = (await s.execute(_attendance_statement(filters, choices, now, thresholds))).all()
    table_rows = [
        (
            r.code,
            r.title,
            int(r.places),
            int(r.attended),
            int(r.partly),
            int(r.no_show),
            int(r.unmarked),
            int(r.late),
            percent(int(r.no_show), int(r.places)),
            percent(int(r.late), int(r.places) + int(r.late)),
        )
        for r in rows
        if int(r.places) or int(r.late)
    ]
    return Report(
        name="attendance",
        title="Attendance, no-shows and late cancellations",
        tables=[
            Table(
                "Attendance per course",
                ATTENDANCE_COLUMNS,
                table_rows,
            )
        ],
        chart=Chart(
            "No-show and late-cancellation rates per course (%)",
            [str(row[0]) for row in table_rows],
            [
                ("No-show rate (%)", [_float(row[8]) for row in table_rows]),
                ("Late-cancellation rate (%)", [_float(row[9]) for row in table_rows]),
            ],
            "percent",
        ),
        notes=ATTENDANCE_NOTES,
    )


async def cancellations(s: AsyncSession, filters: ReportFilters, choices: FilterChoices) -> Report:
    cancelled = _cancellations()
    notice = hours_between(Session.starts_at, cancelled.c.at)
    band = case(
        (notice > 14 * 24, literal("more_14d")),
        (notice > 7 * 24, literal("7_14d")),
        (notice >= 48, literal("2_7d")),
        (notice > 0, literal("under_48h")),
        else_=literal("after"),
    ).label("band")
    reason = func.coalesce(Booking.cancel_reason, "").label("reason")
    rows = (
        await s.execute(
            select(reason, band, func.count().label("n"))
            .select_from(Booking)
            .join(cancelled, cancelled.c.booking_id == Booking.id)
            .join(Session, Session.id == Booking.session_id)
            .where(*sessions_chosen(filters), *learners_chosen(filters, choices))
            .group_by(reason, band)
        )
    ).all()
    keys = [key for key, _ in BANDS]
    by_reason: dict[str, list[int]] = {}
    for r in rows:
        counts = by_reason.setdefault(r.reason or "(no reason given)", [0] * len(BANDS))
        counts[keys.index(r.band)] += int(r.n)
    totals = [sum(c[i] for c in by_reason.values()) for i in range(len(BANDS))]
    table_rows: list[tuple[Any, ...]] = [
        (name, *counts, sum(counts))
        for name, counts in sorted(by_reason.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    ]
    if table_rows:
        table_rows.append(("All reasons", *totals, sum(totals)))
    return Report(
        name="cancellations",
        title="Cancellations",
        tables=[
            Table(
                "Cancellations by reason and notice given",
                (
                    Column("Reason"),
                    *(Column(label, "number") for _, label in BANDS),
                    Column("Total", "number"),
                ),
                table_rows,
            )
        ],
        chart=Chart(
            "Cancellations by notice given",
            [label for _, label in BANDS],
            [("Cancellations", [float(n) for n in totals])] if table_rows else [],
            "cancellations",
        ),
        notes=CANCELLATION_NOTES,
    )


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
