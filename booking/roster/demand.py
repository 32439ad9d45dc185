"""Waiting-list demand for a course, and inviting those waiting to a session that has room
(administrators)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import catalogue, policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.domain.vocabulary import SessionStatus
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.outbox import queue_email
from booking.models import Booking, Outbox
from booking.models import Session as SessionRow


class SessionDemand(TypedDict):
    session_id: int
    status: SessionStatus
    capacity: int
    booked: int
    waitlisted: int
    # The first date's start, in its own time zone (null for a session without dates).
    starts: datetime | None


@dataclass(slots=True)
class Demand:
    course_id: int
    course_title: str
    sessions: list[SessionDemand]
    waiting_learners: int


async def course_demand(db: Database, clock: Clock, actor: Actor, course_id: int) -> Demand:
    """Waiting-list demand across the course's upcoming sessions (administrators)."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators see demand.")
    course = await catalogue.get_course(db, clock, actor, course_id, upcoming_only=True)
    async with db.reading() as s:
        waiting = set(
            (
                await s.scalars(
                    select(Booking.learner_id).where(
                        Booking.course_id == course_id,
                        Booking.state == BookingState.WAITLISTED,
                    )
                )
            ).all()
        )
    return Demand(
        course_id=course.id,
        course_title=course.title,
        sessions=[
            {
                "session_id": v.id,
                "status": v.status,
                "capacity": v.capacity,
                "booked": v.booked,
                "waitlisted": v.waitlisted,
                "starts": v.dates[0].start if v.dates else None,
            }
            for v in course.sessions
        ],
        waiting_learners=len(waiting),
    )


async def invite_waitlisted(db: Database, clock: Clock, actor: Actor, session_id: int) -> int:
    """Tell everyone waiting on another date of this session's course that this one is open;
    how many were told."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can invite the waiting list.")
    return await tx.run(db, partial(_invite, clock=clock, actor=actor, session_id=session_id))


async def _invite(s: AsyncSession, *, clock: Clock, actor: Actor, session_id: int) -> int:
    now = clock.now()
    session = await s.get(SessionRow, session_id)
    if session is None:
        raise NotFoundError(f"There is no session {session_id}.")
    learners = await _not_yet_invited(s, session)
    for learner_id in learners:
        await queue_email(
            s,
            topic="course.new_session",
            recipient_id=learner_id,
            booking_id=None,
            session_id=session.id,
            now=now,
            dedupe_key=_invitation_key(session.id, learner_id),
            payload={"session_id": session.id},
        )
    await audit.record(
        s,
        action="session.waitlist_invited",
        now=now,
        actor=actor,
        target=f"session {session.id}",
        details={"invited": len(learners)},
    )
    return len(learners)


async def _not_yet_invited(s: AsyncSession, session: SessionRow) -> list[int]:
    """Learners waiting on another date of the course, in id order, less those already invited
    to this session: asking again tells only those not yet told (the outbox's unique dedupe key
    would refuse a second message, as a 500)."""
    waiting = sorted(
        set(
            (
                await s.scalars(
                    select(Booking.learner_id).where(
                        Booking.course_id == session.course_id,
                        Booking.state == BookingState.WAITLISTED,
                        Booking.session_id != session.id,
                    )
                )
            ).all()
        )
    )
    keys = {_invitation_key(session.id, learner_id) for learner_id in waiting}
    told = set(
        (await s.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(keys)))).all()
    )
    return [i for i in waiting if _invitation_key(session.id, i) not in told]


def _invitation_key(session_id: int, learner_id: int) -> str:
    return f"course.new_session:{session_id}:{learner_id}"
