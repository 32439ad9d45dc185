"""The lean booking path's writes (`bookings.lean`): the seat or the waiting-list ticket, the
booking, its history, its emails and webhook events — the rows `record_booking` and
`write_history` write for a new booking, sent by the driver. On PostgreSQL the place and the
rows are one statement (`lean_statements.SEAT_AND_ROWS`); on SQLite one statement each, under
the write lock."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from booking.bookings import lean_statements as sql
from booking.bookings.facts import BookingFacts
from booking.bookings.requests import BookingRequest
from booking.domain.states import BookingState
from booking.kernel import driver
from booking.kernel.actors import Actor
from booking.kernel.history import booking_events
from booking.kernel.webhook_events import fan_out
from booking.models import Booking


class Declined(Exception):
    """Not a booking for the lean path: rolled back, and the full path takes it."""


def place_and_rows_in_thread(
    t: driver.InThread,
    actor: Actor,
    request: BookingRequest,
    facts: BookingFacts,
    state: BookingState,
    unchanged: dict[str, Any],
    *,
    now: datetime,
) -> Booking:
    """SQLite: the seat or the ticket, then the booking, its history and its emails, one
    statement each, in SQLite's thread (the write lock is held throughout)."""
    seq: int | None = None
    if state == BookingState.BOOKED:
        taken = t.value(sql.TAKE_SEAT, **unchanged)
    else:
        taken = seq = t.value(sql.TAKE_TICKET, **unchanged)
    if taken is None:
        raise Declined  # the session changed since it was read: the full path decides again
    written = t.row(sql.INSERT_BOOKING, **_booking_values(request, facts, state, seq, now))
    assert written is not None
    booking = as_written(request, facts, state, seq, written["id"], written["sequence"], now=now)
    history_id = t.value(
        sql.INSERT_HISTORY,
        booking_id=booking.id,
        at=now,
        actor_id=actor.person_id,
        actor=actor.label,
        to_state=booking.state,
    )
    payload = json.dumps(_payload(booking))
    t.execute_many(
        sql.INSERT_EMAIL,
        [
            {
                "topic": topic,
                "recipient_id": recipient,
                "booking_id": booking.id,
                "session_id": booking.session_id,
                "payload": payload,
                "dedupe_key": f"{topic}:{booking.id}:{history_id}"
                if n == 0
                else f"{topic}:{history_id}:{recipient}",
                "now": now,
            }
            for n, (topic, recipient) in enumerate(_recipients(booking, facts.trainers))
        ],
    )
    return booking


async def place_and_rows_at_once(
    d: driver.Driver,
    actor: Actor,
    request: BookingRequest,
    facts: BookingFacts,
    state: BookingState,
    unchanged: dict[str, Any],
    *,
    now: datetime,
) -> Booking:
    """PostgreSQL: the same rows in one statement (`lean_statements.SEAT_AND_ROWS`)."""
    recipients = recipients_of(state, facts.learner.id, facts.trainers)
    params = _booking_values(request, facts, state, None, now) | unchanged
    written = await d.row(
        sql.SEAT_AND_ROWS if state == BookingState.BOOKED else sql.TICKET_AND_ROWS,
        **params,
        actor_id=actor.person_id,
        actor=actor.label,
        payload=json.dumps(payload_of(facts.session.id, state.value, 0)),
        topics=[topic for topic, _ in recipients],
        recipients=[person for _, person in recipients],
    )
    if written is None:
        raise Declined  # the session changed since it was read: the full path decides again
    return as_written(
        request,
        facts,
        state,
        written["waitlist_seq"],
        written["id"],
        written["sequence"],
        now=now,
    )


def _booking_values(
    request: BookingRequest,
    facts: BookingFacts,
    state: BookingState,
    seq: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The booking row's values, as `record_booking` gives them."""
    return {
        "session_id": facts.session.id,
        "course_id": facts.course.id,
        "learner_id": facts.learner.id,
        "state": state.value,
        "waitlist_seq": seq,
        "price_amount": facts.price.amount if facts.price is not None else 0,
        "answers": json.dumps(request.answers),
        "created_at": now,
        "updated_at": now,
        "now": now,
    }


def as_written(
    request: BookingRequest,
    facts: BookingFacts,
    state: BookingState,
    seq: int | None,
    booking_id: int,
    sequence: int,
    *,
    now: datetime,
) -> Booking:
    """The booking as written, for the answer (never added to a session)."""
    return driver.transient(
        Booking,
        {
            "id": booking_id,
            "session_id": facts.session.id,
            "course_id": facts.course.id,
            "learner_id": facts.learner.id,
            "state": state.value,
            "waitlist_seq": seq,
            "offer_expires_at": None,
            "cost_code": None,
            "special_requirements": None,
            "answers": request.answers,
            "cancel_reason": None,
            "cancel_details": None,
            "terms_version_accepted": None,
            "price_amount": facts.price.amount if facts.price is not None else 0,
            "override_reason": None,
            "sequence": sequence,
            "created_at": now,
            "updated_at": now,
        },
    )


def _recipients(booking: Booking, trainers: frozenset[int]) -> list[tuple[str, int]]:
    return recipients_of(BookingState(booking.state), booking.learner_id, trainers)


def recipients_of(
    state: BookingState, learner_id: int, trainers: frozenset[int]
) -> list[tuple[str, int]]:
    """`write_history`'s emails for a new booking: the learner's, then (for a seat) each
    trainer's, by id."""
    emails = [(f"booking.{state.value}", learner_id)]
    if state == BookingState.BOOKED:
        emails += [("trainer.booked", p) for p in sorted(trainers)]
    return emails


def _payload(booking: Booking) -> dict[str, Any]:
    payload = payload_of(booking.session_id, booking.state, booking.sequence)
    return {"booking_id": booking.id, **payload}


def payload_of(session_id: int, state: str, sequence: int) -> dict[str, Any]:
    """`write_history`'s payload, less the booking's id (the statement adds it)."""
    return {
        "session_id": session_id,
        "from_state": None,
        "state": state,
        "sequence": sequence,
        "reason": None,
    }


def webhook_rows(actor: Actor, booking: Booking, *, now: datetime) -> tuple[Any, dict[str, Any]]:
    """The statement queueing the booking's webhook events for the endpoints listening, and its
    values (`write_history`)."""
    events = booking_events(booking, None, booking.state, actor=actor, reason=None)
    stmt, params = fan_out(events, now=now, booking_id=booking.id, session_id=booking.session_id)
    return stmt, {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
