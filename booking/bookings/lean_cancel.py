"""The lean cancellation: a learner cancelling their own place (booked, offered or waiting) on
a course billing has nothing to do with, and the freed seat filled from the waiting list, through
the driver (`kernel.driver`), no ORM unit of work.

It is the cancellation most learners make (`POST /bookings/{id}/cancel` with a reason, no
idempotency key) on a course with no price, for a booking with no cost code and nothing billing
holds for it (no payment, no ledger row): there is no fee to quote, settle or show. Anything else
— someone else's booking, an idempotency key, a fee, a booking or session changed between the
read and the write, a waiting list too long to decide from one read — is *declined*: the
transaction rolls back and `cancel_booking` takes the full path, which decides the same way
(tests: tests/integration/test_lean_cancel.py, and the suite's cancellations).

The same moves and rows as the full path (`seats.withdraw_place` → `promote_waiting`): the
booking cancelled, its history and emails (the learner's; the trainers' for a booked place),
the seat released; then, for each free seat, the first learner in line who can still take it
(`domain.waitlist.choose_promotions` on the same facts `_blocked_learners` reads) booked or
offered, with its history and emails; webhook events when an endpoint listens. Lock order as
everywhere: the session (by the id its booking names), then the bookings, by the UPDATEs:

    session (locked) + course, booking, learner, trainers, listeners, billed?
    → dates → history → booking cancelled → its history → emails [→ webhooks]
    → seat released → next in line with their other bookings → seat → promoted → history → emails
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import cast

from booking import payments, policy
from booking.bookings import lean_cancel_statements as pg
from booking.bookings import lean_statements as sql
from booking.bookings.lean_rows import Cancelling, Move, date_of, history_of, waiting_line
from booking.bookings.lean_writes import Declined
from booking.bookings.requests import BookingOutcome
from booking.clock import Clock
from booking.db import Database
from booking.domain.schedule import DateSlot
from booking.domain.states import HOLDS_SEAT, BookingState
from booking.domain.vocabulary import BookingStateName
from booking.domain.waitlist import Promotion, WaitingLearner, choose_promotions
from booking.kernel import driver, tx
from booking.kernel.actors import Actor
from booking.kernel.driver import Row, Steps, ask, ask_many
from booking.kernel.history import booking_events
from booking.kernel.outbox import session_channel
from booking.kernel.views import HistoryView, MoneyView
from booking.kernel.webhook_events import fan_out
from booking.models import Booking, SessionDate
from booking.reads.bookings import cancelled_answer

# The states a learner's own cancellation may take on this path (a pending approval or payment
# has requests or a payment to close: the full path).
_PLAIN_STATES = frozenset({BookingState.BOOKED, BookingState.OFFERED, BookingState.WAITLISTED})


def is_plain(db: Database, actor: Actor) -> bool:
    """A person cancelling (whether the booking is theirs is known once it is read)."""
    return driver.speaks(db) and policy.is_person(actor)


async def cancel_lean(
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    *,
    reason: str,
    details: str | None,
    quoted_fee: MoneyView | None,
) -> BookingOutcome | None:
    """The cancellation on the lean path, or None when it is not one for it (nothing written)."""
    work = partial(
        _attempt,
        db,
        clock,
        actor=actor,
        booking_id=booking_id,
        reason=reason,
        details=details,
        quoted_fee=quoted_fee,
    )
    try:
        return await tx.with_retry(work)
    except Declined:
        return None


async def _attempt(
    db: Database,
    clock: Clock,
    *,
    actor: Actor,
    booking_id: int,
    reason: str,
    details: str | None,
    quoted_fee: MoneyView | None,
) -> BookingOutcome:
    async with driver.transaction(db) as d:
        program = _cancelling(
            d,
            actor,
            booking_id,
            reason=reason,
            details=details,
            quoted_fee=quoted_fee,
            now=clock.now(),
        )
        return await driver.run(d, program)


def _cancelling(
    d: driver.Driver,
    actor: Actor,
    booking_id: int,
    *,
    reason: str,
    details: str | None,
    quoted_fee: MoneyView | None,
    now: datetime,
) -> Steps[BookingOutcome]:
    """The cancellation and its promotion as one program of statements (`driver.run`)."""
    found = yield from ask(
        "row", sql.CANCEL_LOCK, booking_id=booking_id, reference=payments.reference(booking_id)
    )
    if found is None:
        raise Declined  # no such booking, or it moved meanwhile: the full path says which
    it = Cancelling(found, sqlite=d.sqlite)
    booking, course = it.booking, it.course
    fee = MoneyView(0, course.price_currency)
    if (
        booking.learner_id != actor.person_id
        or booking.state not in _PLAIN_STATES
        or it.billed
        or booking.cost_code is not None
        or payments.fee_can_arise(course)
        or (quoted_fee is not None and quoted_fee != fee)
    ):
        raise Declined
    held = booking.state in HOLDS_SEAT
    date_rows, history_rows, line_rows = yield from _reads(it, held=held)
    dates = [date_of(r, it.session.id) for r in date_rows]
    history = [history_of(r) for r in history_rows]
    history.append((yield from _cancel(it, actor, reason=reason, details=details, now=now)))
    promoted: list[int] = []
    if held:
        it.session.seats_held -= 1
        promoted = yield from _promote_waiting(it, dates, line_rows, now=now)
    d.events.add(session_channel(it.session.id))
    view = cancelled_answer(
        booking, course, it.learner, unit_code=it.unit_code, dates=dates, history=history, fee=fee
    )
    view.fee = fee
    return BookingOutcome(view, 200, promoted=promoted)


def _reads(it: Cancelling, *, held: bool) -> Steps[tuple[list[Row], list[Row], list[Row]]]:
    """The session's dates (by start), the booking's history (in order) and, for a seat given
    back, the next in line with their other bookings: on PostgreSQL one statement."""
    session_id, booking_id = it.session.id, it.booking.id
    if not it.sqlite:
        found = yield from ask("row", pg.READS, session_id=session_id, booking_id=booking_id)
        assert found is not None
        # (SQLAlchemy's asyncpg dialect sets a JSON codec on its connections: lists arrive.)
        dates, history, line = (
            json.loads(v) if isinstance(v, str | bytes) else list(v)
            for v in (found["dates"], found["history"], found["line"])
        )
        dates.sort(key=lambda r: (driver.read_time(r["start_at"]), r["id"]))
        history.sort(key=lambda r: r["id"])
        return dates, history, line
    dates = yield from ask("rows", sql.SESSION_DATES, session_id=session_id)
    history = yield from ask("rows", sql.HISTORY, booking_id=booking_id)
    line = (yield from ask("rows", sql.NEXT_IN_LINE, session_id=session_id)) if held else []
    return dates, history, line


def _cancel(
    it: Cancelling,
    actor: Actor,
    *,
    reason: str,
    details: str | None,
    now: datetime,
) -> Steps[HistoryView]:
    """The booking cancelled (if unchanged since read), with its history, emails and events."""
    booking = it.booking
    from_state = booking.state
    held = from_state in HOLDS_SEAT
    move = Move(booking, from_state, "cancelled", actor, reason, "booking.cancelled", now)
    if it.sqlite:
        sequence = yield from ask(
            "value",
            sql.CANCEL_BOOKING,
            booking_id=booking.id,
            read_state=from_state,
            read_sequence=booking.sequence,
            reason=reason,
            details=details,
            now=now,
        )
    else:
        found = yield from ask(
            "row",
            pg.CANCEL,
            **move.values(it.trainers),
            details=details,
            held=held,
        )
        sequence = None if found is None else found["sequence"]
        move.history_id = None if found is None else found["history_id"]
    if sequence is None:
        raise Declined  # changed since read (the session's lock does not cover every change)
    booking.state = BookingState.CANCELLED.value
    booking.cancel_reason = reason
    booking.cancel_details = details
    booking.offer_expires_at = None
    booking.sequence = sequence
    booking.updated_at = now
    yield from _moved(it, move)
    if it.sqlite and held:
        yield from ask("value", sql.RELEASE_SEAT, session_id=it.session.id)
    return HistoryView(now, actor.label, cast(BookingStateName, from_state), "cancelled", reason)


def _moved(it: Cancelling, move: Move) -> Steps[None]:
    """`write_history` for a move already made: on SQLite the history row and the emails (on
    PostgreSQL the move's statement wrote them), and the webhook events where anyone listens."""
    booking = move.booking
    if it.sqlite:
        move.history_id = yield from ask("value", sql.INSERT_MOVE, **move.history_values())
        yield from ask_many(sql.INSERT_EMAIL, move.email_rows(it.trainers))
    if it.listening:
        events = booking_events(
            booking, move.from_state, move.to_state, actor=move.actor, reason=move.reason
        )
        stmt, params = fan_out(
            events, now=move.now, booking_id=booking.id, session_id=booking.session_id
        )
        yield from ask(
            "execute",
            stmt,
            **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()},
        )


def _promote_waiting(
    it: Cancelling, dates: Sequence[SessionDate], rows: list[Row], *, now: datetime
) -> Steps[list[int]]:
    """`seats.promote_waiting` for the seat just released: the first in line who can still take
    it, booked or offered. Declined where the full path would read a second batch of the line."""
    session = it.session
    if session.status != "open" or session.waitlist_mode == "off" or now >= session.starts_at:
        return []
    line, blocked = waiting_line(
        rows,
        session_id=session.id,
        course=it.course,
        dates=[DateSlot(x.start_at, x.end_at, x.timezone) for x in dates],
    )
    free = session.capacity - session.seats_held
    if free <= 0 or not line:
        return []
    choices = choose_promotions(
        [WaitingLearner(b.id, b.waitlist_seq or 0, blocked.get(b.learner_id)) for b in line],
        free_seats=free,
        mode=session.waitlist_mode,
        now=now,
        offer_hours=session.offer_hours,
        starts_at=session.starts_at,
    )
    if len(choices) < free and len(line) == 50:
        raise Declined  # the full path reads on down the line
    by_id = {b.id: b for b in line}
    promoted: list[int] = []
    for choice in choices:
        if not (yield from _promote(it, by_id[choice.booking_id], choice, now=now)):
            break
        session.seats_held += 1
        promoted.append(choice.booking_id)
    return promoted


def _promote(it: Cancelling, booking: Booking, choice: Promotion, *, now: datetime) -> Steps[bool]:
    """`seats.places._promote`: a seat taken and given to the waiting booking (False: no seat)."""
    offered = choice.to_state == BookingState.OFFERED
    held_until = (
        f"; offer held until {choice.offer_expires_at.isoformat()}"
        if offered and choice.offer_expires_at
        else ""
    )
    move = Move(
        booking,
        BookingState.WAITLISTED.value,
        choice.to_state.value,
        Actor.system(),
        "A place became free" + held_until,
        "booking.offered" if offered else "booking.promoted",
        now,
    )
    if it.sqlite:
        if (yield from ask("value", sql.TAKE_FREED_SEAT, session_id=it.session.id)) is None:
            return False
        sequence = yield from ask(
            "value",
            sql.PROMOTE,
            booking_id=booking.id,
            read_sequence=booking.sequence,
            to_state=choice.to_state.value,
            offer_expires_at=choice.offer_expires_at,
            now=now,
        )
    else:
        # The seat is free (the lock is held, and one was just given back): no row is a
        # booking changed, as on SQLite.
        found = yield from ask(
            "row", pg.PROMOTE, **move.values(it.trainers), offer_expires_at=choice.offer_expires_at
        )
        sequence = None if found is None else found["sequence"]
        move.history_id = None if found is None else found["history_id"]
    if sequence is None:
        raise Declined  # not possible under the session's lock; the full path decides again
    booking.state = choice.to_state.value
    booking.offer_expires_at = choice.offer_expires_at
    booking.waitlist_seq = None
    booking.sequence = sequence
    yield from _moved(it, move)
    return True
