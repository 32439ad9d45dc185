"""A person's bookings for the administrators' person page: the latest sessions first, a
bounded number, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from booking import policy
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import Booking, Course, SessionDate
from booking.models import Session as SessionRow

PERSON_BOOKINGS_LIMIT = 25


@dataclass(frozen=True, slots=True)
class PersonBooking:
    id: int
    state: str
    course_id: int
    course_title: str
    session_id: int
    starts_at: datetime
    timezone: str | None
    booked_at: datetime


@dataclass(slots=True)
class PersonBookings:
    items: list[PersonBooking]
    # Whether they have older bookings than those listed.
    more: bool


async def person_bookings(
    db: Database, actor: Actor, person_id: int, *, limit: int = PERSON_BOOKINGS_LIMIT
) -> PersonBookings:
    """Every state (cancelled and declined too), the most recent session first."""
    if not policy.can_look_up_people(actor):
        raise ForbiddenError("Only administrators can see someone's bookings here.")
    first_zone = (
        select(SessionDate.timezone)
        .where(SessionDate.session_id == SessionRow.id)
        .order_by(SessionDate.start_at)
        .limit(1)
        .correlate(SessionRow)
        .scalar_subquery()
    )
    stmt = (
        select(
            Booking.id,
            Booking.state,
            Course.id,
            Course.title,
            SessionRow.id,
            SessionRow.starts_at,
            first_zone,
            Booking.created_at,
        )
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .join(Course, Course.id == SessionRow.course_id)
        .where(Booking.learner_id == person_id)
        .order_by(SessionRow.starts_at.desc(), Booking.id.desc())
        .limit(limit + 1)
    )
    async with db.reading() as s:
        rows = (await s.execute(stmt)).all()
    return PersonBookings([PersonBooking(*r) for r in rows[:limit]], len(rows) > limit)
