"""Session views with their seat counts, for many sessions in a fixed number of queries.

One short reader per source (dates, courses, rooms, bookings by state, trainers), each one query
for all the sessions, then one view per session from what they read (as pretix counts quotas)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain.schedule import SeatCounts, session_status
from booking.domain.states import ACTIVE, PENDING, BookingState
from booking.domain.vocabulary import SessionStatus, WaitlistMode
from booking.kernel.dates import active_dates, date_views
from booking.kernel.views import RoomView, SessionView
from booking.models import Booking, Course, Person, Room, SessionDate, SessionFacilitator
from booking.models import Session as SessionRow


@dataclass(slots=True)
class _Read:
    """What the views of a list of sessions are built from, read for all of them at once."""

    dates: dict[int, list[SessionDate]]
    courses: dict[int, Course]
    rooms: dict[int, Room]
    counts: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    facilitators: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    facilitator_names: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


async def session_views(
    s: AsyncSession,
    rows: Sequence[SessionRow],
    *,
    now: datetime,
    courses: dict[int, Course] | None = None,
    reveal_links: bool = False,
    dates: dict[int, list[SessionDate]] | None = None,
    counts: dict[int, dict[str, int]] | None = None,
) -> list[SessionView]:
    """Views for many sessions in a fixed number of queries, whatever their number (one fewer
    for each of their `dates` and their active bookings' `counts` by state already known)."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    read = _Read(
        dates=dates if dates is not None else await active_dates(s, ids),
        courses=courses if courses is not None else await _courses(s, rows),
        rooms=await _rooms(s, rows),
    )
    if counts is None:
        await _count_bookings(s, ids, read)
    else:
        read.counts.update(counts)
    await _read_facilitators(s, ids, read)
    return [_view(r, read, now=now, reveal_links=reveal_links) for r in rows]


async def _courses(s: AsyncSession, rows: Sequence[SessionRow]) -> dict[int, Course]:
    course_ids = {r.course_id for r in rows}
    return {c.id: c for c in await s.scalars(select(Course).where(Course.id.in_(course_ids)))}


async def _rooms(s: AsyncSession, rows: Sequence[SessionRow]) -> dict[int, Room]:
    room_ids = {r.room_id for r in rows if r.room_id is not None}
    if not room_ids:
        return {}
    return {r.id: r for r in await s.scalars(select(Room).where(Room.id.in_(room_ids)))}


async def _count_bookings(s: AsyncSession, ids: list[int], read: _Read) -> None:
    """The sessions' active bookings, counted by state."""
    for session_id, state, n in await s.execute(
        select(Booking.session_id, Booking.state, func.count())
        .where(Booking.session_id.in_(ids), Booking.state.in_(ACTIVE))
        .group_by(Booking.session_id, Booking.state)
    ):
        read.counts[session_id][state] = n


async def _read_facilitators(s: AsyncSession, ids: list[int], read: _Read) -> None:
    for session_id, email, name in await s.execute(
        select(SessionFacilitator.session_id, Person.email, Person.name)
        .join(Person, Person.id == SessionFacilitator.person_id)
        .where(SessionFacilitator.session_id.in_(ids))
        .order_by(Person.email)
    ):
        read.facilitators[session_id].append(email)
        read.facilitator_names[session_id].append(name or email)


def _view(r: SessionRow, read: _Read, *, now: datetime, reveal_links: bool) -> SessionView:
    counts = read.counts[r.id]
    course = read.courses[r.course_id]
    room = read.rooms.get(r.room_id) if r.room_id is not None else None
    return SessionView(
        id=r.id,
        course_id=r.course_id,
        course_code=course.code,
        course_title=course.title,
        dates=date_views(read.dates[r.id]),
        capacity=r.capacity,
        booked=counts.get(BookingState.BOOKED, 0),
        offered=counts.get(BookingState.OFFERED, 0),
        pending=sum(counts.get(state, 0) for state in PENDING),
        waitlisted=counts.get(BookingState.WAITLISTED, 0),
        seats_held=r.seats_held,
        status=cast(SessionStatus, row_status(r, now=now)),
        waitlist_mode=cast(WaitlistMode, r.waitlist_mode),
        offer_hours=r.offer_hours,
        signup_opens=r.signup_opens,
        signup_closes=r.signup_closes,
        min_bookings=r.min_bookings,
        room=RoomView(room.name, room.address, room.capacity, room.details) if room else None,
        virtual=bool(r.virtual_link),
        facilitators=read.facilitators[r.id],
        facilitator_names=read.facilitator_names[r.id],
        cancel_reason=r.cancel_reason,
        virtual_link=r.virtual_link if reveal_links else None,
    )


def row_status(r: SessionRow | Row[Any], *, now: datetime) -> str:
    """A session's status from its row (or a query's row with the same columns): the one test
    used everywhere, open or full or one of the others."""
    return session_status(
        stored=r.status,
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        signup_opens=r.signup_opens,
        signup_closes=r.signup_closes,
        seats=SeatCounts(r.capacity, r.seats_held),
        now=now,
    )
