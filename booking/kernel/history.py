"""A booking's history: every move of its state, written with the emails it sends."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import announce
from booking.domain.states import BookingState, can_move
from booking.kernel.actors import Actor
from booking.kernel.outbox import INSERT_OUTBOX, outbox_row, session_channel
from booking.kernel.webhook_events import EventType, queue_events
from booking.models import Booking, BookingHistory, SessionFacilitator
from booking.models import Session as SessionRow

# Built once: building a statement costs more CPU than running it (SQLAlchemy's coercions and
# cache keys), and this runs on every booking. A Core insert, so the row goes in as given.
_HISTORY = cast(Table, BookingHistory.__table__)
_INSERT_HISTORY = insert(_HISTORY).returning(_HISTORY.c.id)


class TransitionError(RuntimeError):
    """A move the booking state machine does not allow: a bug in the caller, never the user's
    input (use cases check the state they expect and refuse with a `ConflictError` first)."""


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
    """Move a booking, write its history row and queue the learner's notification, together.
    Only a move `domain.states.TRANSITIONS` lists is made."""
    from_state = booking.state
    if not can_move(from_state, to_state):
        raise TransitionError(f"booking {booking.id} cannot move from {from_state} to {to_state}")
    to_state = BookingState(to_state).value  # a plain string in the row, history and payload
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
    history_id = await _insert_history(
        s, booking, from_state, to_state, actor=actor, now=now, reason=reason
    )
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
    topic = trainer_topic(from_state, to_state, notify)
    if topic:
        if facilitators is None:
            facilitators = await facilitator_ids(s, booking.session_id)
        emails.extend(_trainer_emails(topic, booking, facilitators, history_id, now, payload))
    if emails:
        # The learner's and the trainers' emails in one statement.
        await s.execute(INSERT_OUTBOX, emails)
    await _queue_webhooks(s, booking, from_state, to_state, actor=actor, now=now, reason=reason)


async def _queue_webhooks(
    s: AsyncSession,
    booking: Booking,
    from_state: str | None,
    to_state: str,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None,
) -> None:
    """`booking.state_changed` for every move (and `booking.created` for a new booking), for
    the endpoints listening: one statement, whatever their number."""
    events = booking_events(booking, from_state, to_state, actor=actor, reason=reason)
    await queue_events(s, events, now=now, booking_id=booking.id, session_id=booking.session_id)


def booking_events(
    booking: Booking,
    from_state: str | None,
    to_state: str,
    *,
    actor: Actor,
    reason: str | None,
) -> list[tuple[EventType, dict[str, Any]]]:
    """The webhook events of a booking's move."""
    data = {
        "booking_id": booking.id,
        "session_id": booking.session_id,
        "learner": {"id": booking.learner_id},
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "actor": actor.label,
    }
    events: list[tuple[EventType, dict[str, Any]]] = [("booking.state_changed", data)]
    if from_state is None:
        events.insert(0, ("booking.created", data))
    return events


async def _insert_history(
    s: AsyncSession,
    booking: Booking,
    from_state: str | None,
    to_state: str,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None,
) -> int:
    row = {
        "booking_id": booking.id,
        "at": now,
        "actor_id": actor.person_id,
        "actor": actor.label,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
    }
    return int((await s.execute(_INSERT_HISTORY, row)).scalar_one())


def trainer_topic(from_state: str | None, to_state: str, notify: str | None) -> str | None:
    """Trainers hear of a learner newly booked, and of a booked place given up (a cancelled
    session tells them once, by its own email)."""
    if to_state == BookingState.BOOKED and from_state != BookingState.BOOKED:
        return "trainer.booked"
    if (
        to_state == BookingState.CANCELLED
        and from_state == BookingState.BOOKED
        and notify != "session.cancelled"
    ):
        return "trainer.cancelled"
    return None


def _trainer_emails(
    topic: str,
    booking: Booking,
    facilitators: Collection[int],
    history_id: int,
    now: datetime,
    payload: dict[str, Any],
) -> list[dict[str, Any]]:
    return [
        outbox_row(
            topic=topic,
            recipient_id=person_id,
            booking_id=booking.id,
            session_id=booking.session_id,
            now=now,
            dedupe_key=f"{topic}:{history_id}:{person_id}",
            payload=payload,
        )
        for person_id in sorted(facilitators)
    ]


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


# The session's trainers as one text column ("12,40"; NULL for none) of a query that reads the
# session anyway: `string_agg` on PostgreSQL, `group_concat` on SQLite.
FACILITATORS_COLUMN = (
    select(func.aggregate_strings(sql_cast(SessionFacilitator.person_id, String), ","))
    .where(SessionFacilitator.session_id == SessionRow.id)
    .scalar_subquery()
    .label("facilitator_ids")
)


def note_facilitators(s: AsyncSession, session_id: int, column: str | None) -> frozenset[int]:
    """Keep the trainers read by `FACILITATORS_COLUMN` for this transaction (as
    `facilitator_ids` would have read them)."""
    ids = facilitators_of(column)
    s.info.setdefault(_FACILITATORS, {})[session_id] = ids
    return ids


def facilitators_of(column: str | None) -> frozenset[int]:
    """The trainers' ids in a `FACILITATORS_COLUMN` value."""
    return frozenset(int(i) for i in column.split(",")) if column else frozenset()


def forget_facilitators(s: AsyncSession) -> None:
    s.info.pop(_FACILITATORS, None)
