"""The lean cancellation's rows as the objects its decisions and answer take (`lean_cancel`):
what the lock's statement read, the session's dates, the booking's history, and the waiting line
with why each learner in it can no longer take a place."""

from __future__ import annotations

from typing import cast

from booking.domain.booking_rules import ExistingBooking, booking_conflict
from booking.domain.schedule import DateSlot
from booking.domain.states import BookingState
from booking.domain.vocabulary import BookingStateName
from booking.kernel import driver
from booking.kernel.driver import Row
from booking.kernel.history import facilitators_of
from booking.kernel.views import HistoryView
from booking.kernel.webhook_events import LISTENING
from booking.models import Booking, Course, Person, SessionDate
from booking.models import Session as SessionRow


class Cancelling:
    """What the lock's statement read: the session, its course, the booking and its learner."""

    def __init__(self, row: Row, *, sqlite: bool) -> None:
        self.session = driver.entity(SessionRow, row, "s_", sqlite=sqlite)
        self.course = driver.entity(Course, row, "c_", sqlite=sqlite)
        self.booking = driver.entity(Booking, row, "b_", sqlite=sqlite)
        self.learner = driver.entity(Person, row, "p_", sqlite=sqlite)
        self.unit_code: str | None = row["unit_code"]
        self.trainers = facilitators_of(row["facilitator_ids"])
        self.listening = bool(row[LISTENING])
        self.billed = bool(row["billed"])


def date_of(row: Row, session_id: int) -> SessionDate:
    return driver.transient(
        SessionDate,
        {
            "id": row["id"],
            "session_id": session_id,
            "start_at": driver.read_time(row["start_at"]),
            "end_at": driver.read_time(row["end_at"]),
            "timezone": row["timezone"],
            "removed_at": None,
        },
    )


def history_of(row: Row) -> HistoryView:
    at = driver.read_time(row["at"])
    assert at is not None
    return HistoryView(
        at,
        row["actor"],
        cast(BookingStateName | None, row["from_state"]),
        cast(BookingStateName, row["to_state"]),
        row["reason"],
    )


def waiting_line(
    rows: list[Row], *, session_id: int, course: Course, dates: list[DateSlot]
) -> tuple[list[Booking], dict[int, str]]:
    """The waiting bookings in order, and why each learner who can no longer take the place
    cannot (`_blocked_learners`: the booking rule's own conflict check against each of their
    bookings that holds or awaits a seat)."""
    line: dict[int, Booking] = {}
    others: dict[int, tuple[Row, list[DateSlot]]] = {}
    for r in rows:
        if r["id"] not in line:
            line[r["id"]] = driver.transient(
                Booking,
                {
                    "id": r["id"],
                    "session_id": session_id,
                    "course_id": course.id,
                    "learner_id": r["learner_id"],
                    "state": BookingState.WAITLISTED.value,
                    "waitlist_seq": r["waitlist_seq"],
                    "sequence": r["sequence"],
                },
            )
        if r["other_id"] is None:
            continue
        _, other_dates = others.setdefault(r["other_id"], (r, []))
        start, end = driver.read_time(r["start_at"]), driver.read_time(r["end_at"])
        if start is not None and end is not None:
            other_dates.append(DateSlot(start, end, r["timezone"]))
    blocked: dict[int, str] = {}
    for r, other_dates in others.values():
        code = booking_conflict(
            ExistingBooking(
                r["other_id"],
                r["other_session_id"],
                r["other_course_id"],
                "",
                r["other_state"],
                sorted(other_dates, key=lambda x: x.start),
            ),
            session_id=session_id,
            course_id=course.id,
            allow_multiple_bookings=course.allow_multiple_bookings,
            dates=dates,
        )
        if code is not None:
            blocked[r["learner_id"]] = code
    return list(line.values()), blocked
