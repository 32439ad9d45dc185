"""Taking a seat, giving one back, and filling it from the waiting list.

The seat counter is only raised by a conditional `UPDATE … WHERE seats_held < capacity`, and a
partial unique index allows one active booking per (session, learner). Every function here runs
in the caller's transaction, with the session row already locked (`lock_session`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from booking.domain.booking_rules import ExistingBooking, booking_conflict
from booking.domain.schedule import DateSlot
from booking.domain.states import BLOCKS_CALENDAR, HOLDS_SEAT, BookingState
from booking.domain.waitlist import Promotion, WaitingLearner, choose_promotions
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, slots
from booking.kernel.history import record_transition
from booking.models import Booking, Course, Person
from booking.models import Session as SessionRow

_SESSIONS = cast(Table, SessionRow.__table__)
_TAKE_SEAT_OVERBOOKING = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"))
    .values(seats_held=_SESSIONS.c.seats_held + 1)
    .returning(_SESSIONS.c.seats_held)
)
_TAKE_SEAT = _TAKE_SEAT_OVERBOOKING.where(_SESSIONS.c.seats_held < _SESSIONS.c.capacity)
_TAKE_SEAT_IF_UNCHANGED = _TAKE_SEAT.where(
    _SESSIONS.c.status == bindparam("read_status"),
    _SESSIONS.c.sequence == bindparam("read_sequence"),
)


async def take_seat(
    s: AsyncSession,
    session: SessionRow,
    *,
    seat_guard: bool,
    overbook: bool = False,
    unchanged_since: SessionRow | None = None,
) -> bool:
    """Raise the seat count by one if a seat is free (any time, with `overbook`). With
    `unchanged_since`, only if the session's status and dates are still those read then: the
    booking decided on them before it held the row (the UPDATE takes the row lock)."""
    if not seat_guard:
        # The control for the concurrency tests: read-modify-write with no lock and no condition,
        # exactly the lost update the guard exists to prevent.
        await s.execute(
            update(SessionRow)
            .where(SessionRow.id == session.id)
            .values(seats_held=session.seats_held + 1)
        )
        return True
    params: dict[str, Any] = {"session_id": session.id}
    if overbook:
        stmt = _TAKE_SEAT_OVERBOOKING
    elif unchanged_since is not None:
        stmt = _TAKE_SEAT_IF_UNCHANGED
        params |= {
            "read_status": unchanged_since.status,
            "read_sequence": unchanged_since.sequence,
        }
    else:
        stmt = _TAKE_SEAT
    taken = await s.scalar(stmt, params)
    if taken is not None:
        # The row already says so: record the value as loaded, so no flush writes it again.
        set_committed_value(session, "seats_held", taken)
    return taken is not None


async def release_seat(s: AsyncSession, session: SessionRow) -> None:
    held = await s.scalar(
        update(SessionRow)
        .where(SessionRow.id == session.id)
        .values(seats_held=SessionRow.seats_held - 1)
        .returning(SessionRow.seats_held)
    )
    assert held is not None
    set_committed_value(session, "seats_held", held)


async def take_waitlist_ticket(s: AsyncSession, session_id: int) -> int:
    seq = await s.scalar(
        update(SessionRow)
        .where(SessionRow.id == session_id)
        .values(waitlist_seq=SessionRow.waitlist_seq + 1)
        .returning(SessionRow.waitlist_seq)
    )
    assert seq is not None
    return seq


async def withdraw_place(
    s: AsyncSession,
    booking: Booking,
    session: SessionRow,
    *,
    actor: Actor,
    now: datetime,
    reason: str,
    details: str | None,
    notify: str = "booking.cancelled",
) -> list[int]:
    """Cancel a booking inside the caller's transaction (session row locked); a seat it held is
    released and filled from the waiting list. Returns the promoted bookings' ids."""
    held = booking.state in HOLDS_SEAT
    booking.cancel_reason = reason
    booking.cancel_details = details
    booking.sequence += 1
    booking.offer_expires_at = None
    await record_transition(
        s,
        booking=booking,
        to_state=BookingState.CANCELLED,
        actor=actor,
        now=now,
        reason=reason,
        notify=notify,
    )
    if not held:
        return []
    await release_seat(s, session)
    return await promote_waiting(s, session, now=now)


async def promote_waiting(
    s: AsyncSession, session: SessionRow, *, now: datetime, actor: Actor | None = None
) -> list[int]:
    """Fill free seats from the waiting list, FIFO, in the caller's transaction (session locked).

    Learners who can no longer take the place (they have since booked another date of the
    course, or something that clashes) are skipped and stay in line."""
    actor = actor or Actor.system()
    if session.status != "open" or session.waitlist_mode == "off" or now >= session.starts_at:
        return []
    course = await s.get_one(Course, session.course_id)
    dates = slots((await active_dates(s, [session.id]))[session.id])
    promoted: list[int] = []
    after_seq = 0
    while session.capacity - session.seats_held > 0:
        batch = await _next_in_line(s, session.id, after_seq)
        if not batch:
            break
        after_seq = batch[-1].waitlist_seq or after_seq
        blocked = await _blocked_learners(s, session.id, batch, course, dates)
        choices = choose_promotions(
            [WaitingLearner(b.id, b.waitlist_seq or 0, blocked.get(b.id)) for b in batch],
            free_seats=session.capacity - session.seats_held,
            mode=session.waitlist_mode,
            now=now,
            offer_hours=session.offer_hours,
            starts_at=session.starts_at,
        )
        by_id = {b.id: b for b in batch}
        for choice in choices:
            if not await take_seat(s, session, seat_guard=True):
                return promoted
            await _promote(s, by_id[choice.booking_id], choice, actor=actor, now=now)
            promoted.append(choice.booking_id)
    return promoted


async def _next_in_line(s: AsyncSession, session_id: int, after_seq: int) -> Sequence[Booking]:
    """The next 50 waiting bookings behind `after_seq`, in the order they joined. A deactivated
    learner is passed over and keeps their place in line (people/activation.py)."""
    return (
        await s.scalars(
            select(Booking)
            .join(Person, Person.id == Booking.learner_id)
            .where(
                Booking.session_id == session_id,
                Booking.state == BookingState.WAITLISTED,
                Booking.waitlist_seq > after_seq,
                Person.active.is_(True),
            )
            .order_by(Booking.waitlist_seq)
            .limit(50)
        )
    ).all()


async def _promote(
    s: AsyncSession, booking: Booking, choice: Promotion, *, actor: Actor, now: datetime
) -> None:
    """Give the waiting booking the seat just taken for it: booked, or offered until a time."""
    booking.offer_expires_at = choice.offer_expires_at
    booking.waitlist_seq = None
    booking.sequence += 1
    offered = choice.to_state == BookingState.OFFERED
    held_until = (
        f"; offer held until {choice.offer_expires_at.isoformat()}"
        if offered and choice.offer_expires_at
        else ""
    )
    await record_transition(
        s,
        booking=booking,
        to_state=choice.to_state.value,
        actor=actor,
        now=now,
        reason="A place became free" + held_until,
        notify="booking.offered" if offered else "booking.promoted",
    )


async def _blocked_learners(
    s: AsyncSession,
    session_id: int,
    waiting: Sequence[Booking],
    course: Course,
    dates: list[DateSlot],
) -> dict[int, str]:
    """For each waiting booking, why its learner can no longer take the place (if they can't):
    the booking rule's own conflict check (`booking_conflict`) against each of the learner's
    bookings that holds or awaits a seat."""
    others = (
        await s.execute(
            select(
                Booking.id, Booking.learner_id, Booking.session_id, Booking.course_id, Booking.state
            ).where(
                Booking.learner_id.in_([b.learner_id for b in waiting]),
                Booking.state.in_(BLOCKS_CALENDAR),
            )
        )
    ).all()
    other_dates = await active_dates(s, list({o.session_id for o in others}))
    blocked_learners: dict[int, str] = {}
    for o in others:
        code = booking_conflict(
            # The title only words a refusal; promotion needs the code.
            ExistingBooking(
                o.id, o.session_id, o.course_id, "", o.state, slots(other_dates[o.session_id])
            ),
            session_id=session_id,
            course_id=course.id,
            allow_multiple_bookings=course.allow_multiple_bookings,
            dates=dates,
        )
        if code is not None:
            blocked_learners[o.learner_id] = code
    return {
        b.id: blocked_learners[b.learner_id] for b in waiting if b.learner_id in blocked_learners
    }
