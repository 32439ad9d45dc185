"""The lean cancellation's rows as the objects its decisions and answer take (`lean_cancel`):
what the lock's statement read, the session's dates, the booking's history, and the waiting line
with why each learner in it can no longer take a place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from booking.domain.booking_rules import ExistingBooking, booking_conflict
from booking.domain.schedule import DateSlot
from booking.domain.states import BookingState
from booking.domain.vocabulary import BookingStateName
from booking.kernel import driver
from booking.kernel.actors import Actor
from booking.kernel.driver import Row
from booking.kernel.history import facilitators_of, trainer_topic
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
        self.sqlite = sqlite


@dataclass(slots=True)
class Move:
    """A booking's move, for the rows `write_history` writes with it: the history row (its id,
    once written), the learner's email and the trainers' (where `trainer_topic` says they hear
    of it), with its payload and dedupe keys."""

    booking: Booking
    from_state: str
    to_state: str
    actor: Actor
    reason: str
    notify: str
    now: datetime
    history_id: int | None = None

    def recipients(self, trainers: frozenset[int]) -> list[tuple[str, int]]:
        emails = [(self.notify, self.booking.learner_id)]
        topic = trainer_topic(self.from_state, self.to_state, self.notify)
        if topic:
            emails += [(topic, p) for p in sorted(trainers)]
        return emails

    def payload(self) -> str:
        return json.dumps(
            {
                "booking_id": self.booking.id,
                "session_id": self.booking.session_id,
                "from_state": self.from_state,
                "state": self.to_state,
                "sequence": self.booking.sequence,
                "reason": self.reason,
            }
        )

    def history_values(self) -> dict[str, Any]:
        return {
            "booking_id": self.booking.id,
            "at": self.now,
            "actor_id": self.actor.person_id,
            "actor": self.actor.label,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "reason": self.reason,
        }

    def values(self, trainers: frozenset[int]) -> dict[str, Any]:
        """PostgreSQL: the values of the statement making the move with its rows
        (`lean_cancel_statements`), the booking as read (its sequence before the move)."""
        recipients = self.recipients(trainers)
        return {
            **self.history_values(),
            "read_sequence": self.booking.sequence,
            "session_id": self.booking.session_id,
            "now": self.now,
            "payload": self.payload(),
            "topics": [topic for topic, _ in recipients],
            "recipients": [person for _, person in recipients],
        }

    def email_rows(self, trainers: frozenset[int]) -> list[dict[str, Any]]:
        """SQLite: the emails' rows, once the booking moved and its history row is written."""
        payload = self.payload()
        b = self.booking
        return [
            {
                "topic": topic,
                "recipient_id": person,
                "booking_id": b.id,
                "session_id": b.session_id,
                "payload": payload,
                "dedupe_key": f"{topic}:{b.id}:{self.history_id}"
                if n == 0
                else f"{topic}:{self.history_id}:{person}",
                "now": self.now,
            }
            for n, (topic, person) in enumerate(self.recipients(trainers))
        ]


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
