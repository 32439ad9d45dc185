"""A trainer's message to everyone holding a place on the session, queued in the outbox like
every other email."""

from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.domain.states import HOLDS_SEAT
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError
from booking.kernel.outbox import queue_email
from booking.models import Booking
from booking.roster.access import session_for_trainer

MAX_SUBJECT = 200
MAX_MESSAGE = 10_000


async def message_attendees(
    db: Database, clock: Clock, actor: Actor, session_id: int, *, subject: str, body: str
) -> int:
    """Email everyone booked on the session (queued in the outbox like every message); how
    many were written to."""
    work = partial(
        _send, clock=clock, actor=actor, session_id=session_id, subject=subject, body=body
    )
    return await tx.run(db, work)


async def _send(
    s: AsyncSession, *, clock: Clock, actor: Actor, session_id: int, subject: str, body: str
) -> int:
    now = clock.now()
    # Who may do this is checked before what they sent: a stranger learns nothing either way.
    session = await session_for_trainer(s, actor, session_id)
    subject, body = _checked(subject, body)
    # Booked, offered a place, or booked but for the card payment: everyone holding a seat.
    recipients = (
        await s.execute(
            select(Booking.id, Booking.learner_id).where(
                Booking.session_id == session.id, Booking.state.in_(HOLDS_SEAT)
            )
        )
    ).all()
    # Each message is its own, even two sent in the same instant.
    stamp = uuid.uuid4().hex
    for booking_id, learner_id in recipients:
        await queue_email(
            s,
            topic="trainer.message",
            recipient_id=learner_id,
            booking_id=booking_id,
            session_id=session.id,
            now=now,
            dedupe_key=f"trainer.message:{session.id}:{stamp}:{learner_id}",
            payload={
                "booking_id": booking_id,
                "session_id": session.id,
                "subject": subject,
                "body": body,
                "from_name": actor.name,
            },
        )
    await audit.record(
        s,
        action="session.messaged",
        now=now,
        actor=actor,
        target=f"session {session.id}",
        details={"subject": subject, "recipients": len(recipients)},
    )
    return len(recipients)


def _checked(subject: str, body: str) -> tuple[str, str]:
    """The subject on one line and the body trimmed, or the refusal."""
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise InvalidError("A subject of at most 200 characters is needed.", "subject")
    if not body or len(body) > MAX_MESSAGE:
        raise InvalidError("A message of at most 10,000 characters is needed.", "body")
    return subject, body
