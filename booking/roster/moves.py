"""Moving a booked learner to another date of the same course.

The target's seat rules apply (its seat is taken with the same conditional update as a sign-up,
so a move never overbooks); the freed seat on the old session goes to its waiting list; the
learner's calendar gets a CANCEL for the old dates and a REQUEST for the new ones.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import eligibility
from booking.bookings import existing_bookings
from booking.clock import Clock
from booking.db import Database
from booking.domain.booking_rules import Overrides, decide_booking
from booking.domain.states import BookingState
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, slots
from booking.kernel.errors import ConflictError, InvalidError, NotFoundError, RefusedError
from booking.kernel.history import record_transition
from booking.kernel.locks import lock_booking, lock_sessions
from booking.kernel.outbox import queue_email
from booking.kernel.views import BookingView
from booking.models import Booking, Course, Person
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_view
from booking.roster.access import session_for_trainer
from booking.seats import promote_waiting, release_seat, take_seat


async def move_booking(
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    target_session_id: int,
    *,
    reason: str,
    override_reason: str | None = None,
) -> BookingView:
    """Move a booked learner to another session of the same course (see the module's
    docstring). A trainer's `override_reason` passes the target's eligibility and clash rules."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError("Give a reason for the move.", "reason")
    work = partial(
        _move,
        clock=clock,
        actor=actor,
        booking_id=booking_id,
        target_session_id=target_session_id,
        reason=reason,
        override_reason=override_reason,
    )
    return await tx.run(db, work)


async def _move(
    s: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    target_session_id: int,
    reason: str,
    override_reason: str | None,
) -> BookingView:
    now = clock.now()
    source, target = await _lock_both(s, actor, booking_id, target_session_id)
    booking = await lock_booking(s, booking_id)
    assert booking is not None
    if booking.state != BookingState.BOOKED:
        raise ConflictError("Only a booked place can be moved.")
    if target.course_id != source.course_id:
        raise InvalidError(
            "A booking can only move to another date of the same course.", "target_session_id"
        )
    await _claim_target_seat(s, booking, target, now=now, override_reason=override_reason)
    old_dates = [d.id for d in (await active_dates(s, [source.id]))[source.id]]
    await _switch_session(
        s, actor, booking, source, target, now=now, reason=reason, override_reason=override_reason
    )
    await _tell_old_dates_removed(s, booking, source, old_dates, now=now)
    await release_seat(s, source)
    await promote_waiting(s, source, now=now)
    await audit.record(
        s,
        action="booking.moved",
        now=now,
        actor=actor,
        target=f"booking {booking.id}",
        details={
            "from": f"session {source.id}",
            "to": f"session {target.id}",
            "reason": reason,
            "override": override_reason,
        },
    )
    return await booking_view(s, booking.id, now=now)


async def _lock_both(
    s: AsyncSession, actor: Actor, booking_id: int, target_session_id: int
) -> tuple[SessionRow, SessionRow]:
    """The booking's session and the target, locked in id order (two opposite moves cannot
    deadlock), once the actor is known to run the booking's session."""
    source_id = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
    if source_id is None:
        raise NotFoundError(f"There is no booking {booking_id}.")
    # Allowed at all? (before anything about the move itself is said)
    await session_for_trainer(s, actor, source_id)
    if source_id == target_session_id:
        raise ConflictError("The booking is already on that session.")
    locked = await lock_sessions(s, {source_id, target_session_id})
    for sid in sorted({source_id, target_session_id}):
        if sid not in locked:
            raise NotFoundError(f"There is no session {sid}.")
    source, target = locked[source_id], locked[target_session_id]
    # The source session's trainers (and administrators) move its learners to any other date
    # of the same course; the target's seat rules still apply.
    await session_for_trainer(s, actor, source.id)
    return source, target


async def _claim_target_seat(
    s: AsyncSession,
    booking: Booking,
    target: SessionRow,
    *,
    now: datetime,
    override_reason: str | None,
) -> None:
    """The target's booking rules, as for a sign-up (its sign-up window aside), then its seat."""
    learner = await s.get_one(Person, booking.learner_id)
    course = await s.get_one(Course, target.course_id)
    target_dates = (await active_dates(s, [target.id]))[target.id]
    facts = await eligibility.session_facts(s, target, course, slots(target_dates))
    existing = [b for b in await existing_bookings(s, learner.id) if b.id != booking.id]
    decision = decide_booking(
        facts,
        await eligibility.learner_profile(s, learner),
        existing,
        now=now,
        overrides=Overrides(
            signup_window=True,
            eligibility=bool(override_reason),
            clash=bool(override_reason),
        ),
    )
    if decision.refused:
        raise RefusedError(decision.reasons)
    if decision.state != BookingState.BOOKED or not await take_seat(s, target, seat_guard=True):
        raise ConflictError("That session is full: a booking can only move to a free seat.")


async def _switch_session(
    s: AsyncSession,
    actor: Actor,
    booking: Booking,
    source: SessionRow,
    target: SessionRow,
    *,
    now: datetime,
    reason: str,
    override_reason: str | None,
) -> None:
    """The booking now belongs to the target (a new calendar sequence); its history says why and
    the learner is told (with the new dates' invitation)."""
    booking.session_id = target.id
    booking.sequence += 1
    booking.override_reason = override_reason or booking.override_reason
    await record_transition(
        s,
        booking=booking,
        to_state=BookingState.BOOKED.value,
        actor=actor,
        now=now,
        reason=f"Moved from session {source.id}: {reason}",
        notify="booking.moved",
    )


async def _tell_old_dates_removed(
    s: AsyncSession, booking: Booking, source: SessionRow, old_dates: list[int], *, now: datetime
) -> None:
    """The old dates leave the learner's calendar (same UIDs, METHOD:CANCEL)."""
    await queue_email(
        s,
        topic="session.date_removed",
        recipient_id=booking.learner_id,
        booking_id=booking.id,
        session_id=source.id,
        now=now,
        dedupe_key=f"booking.moved.cancel:{booking.id}:{booking.sequence}",
        payload={
            "booking_id": booking.id,
            "session_id": source.id,
            "sequence": booking.sequence,
            "date_ids": old_dates,
            "from_state": BookingState.BOOKED.value,
        },
    )
