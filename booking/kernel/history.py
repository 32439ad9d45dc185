"""A booking's history: every move of its state, written with the emails it sends."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import announce
from booking.kernel.actors import Actor
from booking.kernel.outbox import INSERT_OUTBOX, outbox_row, session_channel
from booking.models import Booking, BookingHistory, SessionFacilitator

# Built once: building a statement costs more CPU than running it (SQLAlchemy's coercions and
# cache keys), and this runs on every booking. A Core insert, so the row goes in as given.
_HISTORY = cast(Table, BookingHistory.__table__)
_INSERT_HISTORY = insert(_HISTORY).returning(_HISTORY.c.id)


async def record_transition(
    s: AsyncSession,
    *,
    booking: Booking,
    to_state: str,
    actor: Actor,
    now: datetime,
    reason: str | None,
    notify: str | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Move a booking, write its history row and queue the learner's notification, together."""
    from_state = booking.state
    booking.state = to_state
    booking.updated_at = now
    await write_history(
        s,
        booking=booking,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        now=now,
        reason=reason,
        notify=notify,
        extra=extra,
    )


async def write_history(
    s: AsyncSession,
    *,
    booking: Booking,
    from_state: str | None,
    to_state: str,
    actor: Actor,
    now: datetime,
    reason: str | None,
    notify: str | None,
    extra: dict[str, Any] | None = None,
    facilitators: Collection[int] | None = None,
) -> None:
    """Append the transition to the booking's history and queue its emails (to the learner, and
    to the session's trainers — `facilitators`, when the caller has already read them)."""
    await s.flush()
    history_id = (
        await s.execute(
            _INSERT_HISTORY,
            {
                "booking_id": booking.id,
                "at": now,
                "actor_id": actor.person_id,
                "actor": actor.label,
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
            },
        )
    ).scalar_one()
    announce(s, session_channel(booking.session_id))
    payload = {
        "booking_id": booking.id,
        "session_id": booking.session_id,
        "from_state": from_state,
        "state": to_state,
        "sequence": booking.sequence,
        "reason": reason,
        **(extra or {}),
    }
    emails = []
    if notify:
        emails.append(
            outbox_row(
                topic=notify,
                recipient_id=booking.learner_id,
                booking_id=booking.id,
                session_id=booking.session_id,
                now=now,
                dedupe_key=f"{notify}:{booking.id}:{history_id}",
                payload=payload,
            )
        )
    trainer_topic = None
    if to_state == "booked" and from_state != "booked":
        trainer_topic = "trainer.booked"
    elif to_state == "cancelled" and from_state == "booked" and notify != "session.cancelled":
        trainer_topic = "trainer.cancelled"
    if trainer_topic:
        if facilitators is None:
            facilitators = await facilitator_ids(s, booking.session_id)
        emails.extend(
            outbox_row(
                topic=trainer_topic,
                recipient_id=person_id,
                booking_id=booking.id,
                session_id=booking.session_id,
                now=now,
                dedupe_key=f"{trainer_topic}:{history_id}:{person_id}",
                payload=payload,
            )
            for person_id in sorted(facilitators)
        )
    if emails:
        # The learner's and the trainers' emails in one statement.
        await s.execute(INSERT_OUTBOX, emails)


_FACILITATORS = "facilitator_ids"
_FACILITATOR_IDS = select(SessionFacilitator.person_id).where(
    SessionFacilitator.session_id == bindparam("session_id")
)


async def facilitator_ids(s: AsyncSession, session_id: int) -> frozenset[int]:
    """The session's trainers, read once per transaction (a cancellation with a promotion asks
    for them three times). `forget_facilitators` after changing them."""
    known: dict[int, frozenset[int]] = s.info.setdefault(_FACILITATORS, {})
    if session_id not in known:
        known[session_id] = frozenset(
            (await s.scalars(_FACILITATOR_IDS, {"session_id": session_id})).all()
        )
    return known[session_id]


def forget_facilitators(s: AsyncSession) -> None:
    s.info.pop(_FACILITATORS, None)
