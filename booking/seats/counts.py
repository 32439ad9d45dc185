"""Session views with their seat counts, for many sessions in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain.schedule import SeatCounts, session_status
from booking.kernel.dates import active_dates, date_views
from booking.kernel.views import RoomView, SessionView
from booking.models import Booking, Course, Person, Room, SessionFacilitator
from booking.models import Session as SessionRow


async def session_views(
    s: AsyncSession,
    rows: Sequence[SessionRow],
    *,
    now: datetime,
    courses: dict[int, Course] | None = None,
    reveal_links: bool = False,
) -> list[SessionView]:
    """Views for many sessions in a fixed number of queries, whatever their number."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    dates = await active_dates(s, ids)
    if courses is None:
        course_ids = {r.course_id for r in rows}
        courses = {
            c.id: c for c in await s.scalars(select(Course).where(Course.id.in_(course_ids)))
        }
    room_ids = {r.room_id for r in rows if r.room_id is not None}
    rooms = (
        {r.id: r for r in await s.scalars(select(Room).where(Room.id.in_(room_ids)))}
        if room_ids
        else {}
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for session_id, state, n in await s.execute(
        select(Booking.session_id, Booking.state, func.count())
        .where(
            Booking.session_id.in_(ids),
            Booking.state.in_(
                ("booked", "offered", "pending_payment", "pending_approval", "waitlisted")
            ),
        )
        .group_by(Booking.session_id, Booking.state)
    ):
        counts[session_id][state] = n
    facilitators: dict[int, list[str]] = defaultdict(list)
    facilitator_names: dict[int, list[str]] = defaultdict(list)
    for session_id, email, name in await s.execute(
        select(SessionFacilitator.session_id, Person.email, Person.name)
        .join(Person, Person.id == SessionFacilitator.person_id)
        .where(SessionFacilitator.session_id.in_(ids))
        .order_by(Person.email)
    ):
        facilitators[session_id].append(email)
        facilitator_names[session_id].append(name or email)

    views = []
    for r in rows:
        c = counts[r.id]
        course = courses[r.course_id]
        room = rooms.get(r.room_id) if r.room_id is not None else None
        views.append(
            SessionView(
                id=r.id,
                course_id=r.course_id,
                course_code=course.code,
                course_title=course.title,
                dates=date_views(dates[r.id]),
                capacity=r.capacity,
                booked=c.get("booked", 0),
                offered=c.get("offered", 0),
                pending=c.get("pending_approval", 0) + c.get("pending_payment", 0),
                waitlisted=c.get("waitlisted", 0),
                seats_held=r.seats_held,
                status=session_status(
                    stored=r.status,
                    starts_at=r.starts_at,
                    ends_at=r.ends_at,
                    signup_opens=r.signup_opens,
                    signup_closes=r.signup_closes,
                    seats=SeatCounts(r.capacity, r.seats_held),
                    now=now,
                ),
                waitlist_mode=r.waitlist_mode,
                offer_hours=r.offer_hours,
                signup_opens=r.signup_opens,
                signup_closes=r.signup_closes,
                min_bookings=r.min_bookings,
                room=RoomView(room.name, room.address, room.capacity, room.details)
                if room
                else None,
                virtual=bool(r.virtual_link),
                facilitators=facilitators[r.id],
                facilitator_names=facilitator_names[r.id],
                cancel_reason=r.cancel_reason,
                virtual_link=r.virtual_link if reveal_links else None,
            )
        )
    return views
