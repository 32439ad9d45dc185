"""Reading a session's roster: its learners by state, and where a booked learner could move."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import ACTIVE, BookingState
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, date_views
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.history import FACILITATORS_COLUMN, facilitators_of
from booking.kernel.views import BookingView, MoveTargetView, RosterRowView, RosterView
from booking.models import Booking, Course, SessionDate
from booking.models import Session as SessionRow
from booking.reads.bookings import session_booking_views
from booking.seats.counts import row_status, session_views

S = BookingState


async def read_roster(db: Database, clock: Clock, actor: Actor, session_id: int) -> RosterView:
    """Booked, offered, waitlisted (in promotion order), pending and cancelled learners."""
    async with db.reading() as s:
        row, course = await _session_for_roster(s, actor, session_id)
        now = clock.now()
        return await _roster(s, row, course, now=now, dates=await active_dates(s, [row.id]))


async def roster_and_move_targets(
    db: Database, clock: Clock, actor: Actor, session_id: int
) -> tuple[RosterView, list[MoveTargetView]]:
    """The roster page: the roster, and the course's other upcoming sessions, open or full, that
    a booked learner could be moved to (read together, without building their views)."""
    async with db.reading() as s:
        now = clock.now()
        row, course = await _session_for_roster(s, actor, session_id)
        targets = await _move_target_rows(s, row, now=now)
        # The session's dates and its move targets' in one read.
        dates = await active_dates(s, [row.id, *(t.id for t in targets)])
        view = await _roster(s, row, course, now=now, dates=dates)
        return view, [
            MoveTargetView(t.id, date_views(dates[t.id]), t.booked, t.capacity) for t in targets
        ]


async def _roster(
    s: AsyncSession,
    row: SessionRow,
    course: Course,
    *,
    now: datetime,
    dates: dict[int, list[SessionDate]],
) -> RosterView:
    """The roster of a session the actor may see (`_session_for_roster`), its dates read."""
    mine = {row.id: dates[row.id]}
    bookings = await session_booking_views(s, row.id, now=now, dates=mine)
    # Its active bookings by state, as `session_views` would count them: all of them are here.
    counts: dict[str, int] = dict(Counter(str(b.state) for b in bookings if b.state in ACTIVE))
    view = RosterView(
        session=(
            await session_views(
                s,
                [row],
                now=now,
                reveal_links=True,
                dates=mine,
                courses={course.id: course},
                counts={row.id: counts},
            )
        )[0],
        booked=[],
        offered=[],
        waitlisted=[],
        pending=[],
        cancelled=[],
        attended=[],
    )
    _sort_into(view, bookings)
    return view


# The session with its course and its trainers' ids, in one statement.
_SESSION = (
    select(SessionRow, Course, FACILITATORS_COLUMN)
    .join(Course, Course.id == SessionRow.course_id)
    .where(SessionRow.id == bindparam("session_id"))
)


async def _session_for_roster(
    s: AsyncSession, actor: Actor, session_id: int
) -> tuple[SessionRow, Course]:
    """The session and its course, if the actor may see its roster: the session's trainers and
    administrators. Others who may know the session exists are refused (403); to the rest it
    does not (404)."""
    found = (await s.execute(_SESSION, {"session_id": session_id})).first()
    if found is None:
        raise NotFoundError(f"There is no session {session_id}.")
    row, course, trainers = found
    if not policy.can_view_roster(actor, set(facilitators_of(trainers))):
        if policy.is_person(actor) and policy.can_see_session(actor, row.status):
            raise ForbiddenError("Only the session's trainers and administrators see its roster.")
        raise NotFoundError(f"There is no session {session_id}.")
    return row, course


def _sort_into(view: RosterView, bookings: list[BookingView]) -> None:
    """Each booking into its list by state (attendance states and any other into `attended`);
    the waiting list in promotion order."""
    buckets: dict[str, list[RosterRowView]] = {
        S.BOOKED: view.booked,
        S.OFFERED: view.offered,
        S.WAITLISTED: view.waitlisted,
        S.PENDING_APPROVAL: view.pending,
        S.PENDING_PAYMENT: view.pending,
        S.CANCELLED: view.cancelled,
        S.DECLINED: view.cancelled,
    }
    for b in bookings:
        item = RosterRowView(
            booking_id=b.id,
            learner=b.learner,
            state=b.state,
            waitlist_position=b.waitlist_position,
            special_requirements=b.special_requirements,
            answers=b.answers,
            offer_expires_at=b.offer_expires_at,
            cancel_reason=b.cancel_reason,
            override_reason=b.override_reason,
        )
        buckets.get(b.state, view.attended).append(item)
    view.waitlisted.sort(key=lambda r: r.waitlist_position or 0)


async def _move_target_rows(s: AsyncSession, session: SessionRow, *, now: datetime) -> list[Any]:
    """The course's other sessions a booked learner could move to: open or full, to come."""
    booked = (
        select(func.count())
        .where(Booking.session_id == SessionRow.id, Booking.state == S.BOOKED)
        .correlate(SessionRow)
        .scalar_subquery()
    )
    rows = (
        await s.execute(
            select(
                SessionRow.id,
                SessionRow.status,
                SessionRow.starts_at,
                SessionRow.ends_at,
                SessionRow.signup_opens,
                SessionRow.signup_closes,
                SessionRow.capacity,
                SessionRow.seats_held,
                booked.label("booked"),
            )
            .where(
                SessionRow.course_id == session.course_id,
                SessionRow.id != session.id,
                SessionRow.status.not_in(("draft", "cancelled")),
                SessionRow.ends_at > now,
            )
            .order_by(SessionRow.starts_at, SessionRow.id)
        )
    ).all()
    # The same test as the session's status everywhere else: open or full, nothing else.
    return [r for r in rows if row_status(r, now=now) in ("open", "full")]
