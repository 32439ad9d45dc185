"""Scheduling and cancelling sessions (administrators)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.catalogue.clashes import refuse_clashes
from booking.catalogue.inputs import SessionInput
from booking.catalogue.rooms_and_trainers import room_id, set_trainers, trainer_ids
from booking.catalogue.validation import check_session_settings, slots_of
from booking.clock import Clock
from booking.db import Database, announce
from booking.domain.schedule import DateSlot, ScheduleError, signup_window
from booking.domain.states import ACTIVE
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.kernel.locks import lock_bookings, lock_session
from booking.kernel.outbox import session_channel
from booking.kernel.views import SessionView
from booking.kernel.webhook_events import queue_event
from booking.models import Booking, Course, SessionDate
from booking.models import Session as SessionRow
from booking.seats import withdraw_place
from booking.seats.counts import session_views


async def create_session(
    db: Database, clock: Clock, actor: Actor, course_id: int, data: SessionInput
) -> SessionView:
    """Schedule a session of a course. Sign-up closes 24 h before the first date by default."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can schedule sessions.")
    check_session_settings(data.capacity, data.waitlist_mode, data.offer_hours, data.min_bookings)
    if data.status not in ("open", "draft"):
        raise InvalidError("A new session's status is open or draft.", "status")
    slots = slots_of(data.dates)
    try:
        opens, closes = signup_window(slots[0].start, data.signup_opens, data.signup_closes)
    except ScheduleError as exc:
        raise InvalidError(exc.message, exc.field) from exc

    async def schedule(s: AsyncSession) -> SessionView:
        now = clock.now()
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        if course.archived_at is not None:
            raise ConflictError(
                f"{course.code} is archived: restore the course before scheduling a session."
            )
        trainers = await trainer_ids(s, data.facilitators)
        room = await room_id(s, data.room)
        await refuse_clashes(s, None, slots, room, trainers, override=data.override_reason)
        session = _new_session(course, data, slots, room, opens, closes, now=now)
        s.add(session)
        await s.flush()
        s.add_all(_date_rows(session.id, slots))
        await set_trainers(s, session.id, trainers, replace=False)
        await s.flush()
        await audit.record(
            s,
            action="session.created",
            now=now,
            actor=actor,
            target=f"session {session.id}",
            details={"course": course.code, "override": data.override_reason},
        )
        return (await session_views(s, [session], now=now, reveal_links=True))[0]

    return await tx.run(db, schedule)


def _new_session(
    course: Course,
    data: SessionInput,
    slots: list[DateSlot],
    room: int | None,
    opens: datetime | None,
    closes: datetime | None,
    *,
    now: datetime,
) -> SessionRow:
    return SessionRow(
        course_id=course.id,
        capacity=data.capacity,
        seats_held=0,
        waitlist_seq=0,
        room_id=room,
        virtual_link=data.virtual_link or None,
        waitlist_mode=data.waitlist_mode,
        offer_hours=data.offer_hours,
        signup_opens=opens,
        signup_closes=closes,
        min_bookings=data.min_bookings,
        auto_cancel_below_min=data.auto_cancel_below_min,
        status=data.status,
        starts_at=slots[0].start,
        ends_at=max(x.end for x in slots),
        sequence=0,
        created_at=now,
        updated_at=now,
    )


def _date_rows(session_id: int, slots: list[DateSlot]) -> list[SessionDate]:
    return [
        SessionDate(
            session_id=session_id, start_at=slot.start, end_at=slot.end, timezone=slot.timezone
        )
        for slot in slots
    ]


async def cancel_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, *, reason: str
) -> SessionView:
    """Cancel a session: every booking and waitlist place is cancelled without fee, and told."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can cancel sessions.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError("Give a reason for cancelling the session.", "reason")
    if len(reason) > 500:
        raise InvalidError("The reason is limited to 500 characters.", "reason")

    async def cancel(s: AsyncSession) -> SessionView:
        now = clock.now()
        session = await lock_session(s, session_id)
        if session is None:
            raise NotFoundError(f"There is no session {session_id}.")
        if session.status == "cancelled":
            raise ConflictError("This session is already cancelled.")
        # Stored status first, so releasing seats below promotes nobody.
        session.status = "cancelled"
        session.cancel_reason = reason
        session.sequence += 1
        session.updated_at = now
        await _withdraw_every_place(s, session, actor=actor, now=now, reason=reason)
        await audit.record(
            s,
            action="session.cancelled",
            now=now,
            actor=actor,
            target=f"session {session.id}",
            details={"reason": reason},
        )
        await queue_event(
            s,
            "session.cancelled",
            {"session_id": session.id, "course_id": session.course_id, "reason": reason},
            now=now,
            session_id=session.id,
        )
        announce(s, session_channel(session.id))
        return (await session_views(s, [session], now=now, reveal_links=True))[0]

    return await tx.run(db, cancel)


async def _withdraw_every_place(
    s: AsyncSession, session: SessionRow, *, actor: Actor, now: datetime, reason: str
) -> None:
    """Cancel every booking and waiting-list place (each learner told), and free the seats."""
    for booking in await lock_bookings(
        s, Booking.session_id == session.id, Booking.state.in_(ACTIVE)
    ):
        await withdraw_place(
            s,
            booking,
            session,
            actor=actor,
            now=now,
            reason=f"Session cancelled by the organiser: {reason}",
            details=None,
            notify="session.cancelled",
        )
    await s.execute(update(SessionRow).where(SessionRow.id == session.id).values(seats_held=0))
    session.seats_held = 0
