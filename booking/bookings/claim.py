"""Claiming the place decided on: a seat, or a ticket in the waiting list.

The seat is taken by one conditional UPDATE (which takes the row lock), so a rush on one session
queues on a short section. When that finds the row changed since it was read (the seat went,
the session was edited), or the decision was the waiting list, the row is locked and the
decision made again on it as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booking import eligibility
from booking.bookings.decision import decide, refuse_card_unless_booked
from booking.bookings.facts import BookingFacts
from booking.bookings.requests import BookingRequest
from booking.domain.approvals import ApprovalStep
from booking.domain.reasons import Reason
from booking.domain.states import BookingState
from booking.kernel.dates import active_dates, slots
from booking.kernel.errors import NotFoundError, RefusedError
from booking.kernel.locks import lock_session
from booking.models import Session as SessionRow
from booking.models import SessionDate
from booking.seats import take_seat, take_waitlist_ticket


@dataclass(slots=True)
class Claim:
    """The place taken: its state, the session row (locked, if it had to be) and its dates."""

    state: BookingState
    session: SessionRow
    dates: list[SessionDate]
    waitlist_seq: int | None = None


async def claim_place(
    s: AsyncSession,
    facts: BookingFacts,
    state: BookingState,
    plan: Sequence[ApprovalStep],
    *,
    request: BookingRequest,
    now: datetime,
    seat_guard: bool,
) -> Claim:
    if plan:
        # No seat is taken while approvals are awaited, so the session is not held.
        return Claim(BookingState.PENDING_APPROVAL, facts.session, facts.dates)
    if not seat_guard:
        return await _claim_unguarded(s, facts, state)
    claim = await _claim_seat(s, facts, state, overbook=request.overbook)
    if claim is None:
        claim = await _claim_under_lock(s, facts, overbook=request.overbook, now=now)
    if claim.state == BookingState.BOOKED and facts.by_card:
        # The seat is held while the learner pays; the payment webhook books it.
        claim.state = BookingState.PENDING_PAYMENT
    return claim


async def _claim_unguarded(s: AsyncSession, facts: BookingFacts, state: BookingState) -> Claim:
    """The concurrency tests' control: a stale read-modify-write, no lock, no condition."""
    if state == BookingState.BOOKED:
        await take_seat(s, facts.session, seat_guard=False)
        return Claim(state, facts.session, facts.dates)
    return Claim(state, facts.session, facts.dates, await take_waitlist_ticket(s, facts.session.id))


async def _claim_seat(
    s: AsyncSession, facts: BookingFacts, state: BookingState, *, overbook: bool
) -> Claim | None:
    """The seat decided on, if the session row is still as read; None otherwise."""
    session = facts.session
    if state == BookingState.BOOKED and await take_seat(
        s, session, seat_guard=True, overbook=overbook, unchanged_since=session
    ):
        return Claim(state, session, facts.dates)
    return None


async def _claim_under_lock(
    s: AsyncSession, facts: BookingFacts, *, overbook: bool, now: datetime
) -> Claim:
    """Lock the session row, decide again on it as it is now, then take the seat or a ticket."""
    sequence = facts.session.sequence
    session = await lock_session(s, facts.session.id)
    if session is None:
        raise NotFoundError(f"There is no session {facts.session.id}.")
    dates = facts.dates
    if session.sequence != sequence:
        dates = (await active_dates(s, [session.id]))[session.id]
    state = decide(
        facts, eligibility.facts_of(session, facts.course, slots(dates), facts.rules), now=now
    )
    refuse_card_unless_booked(facts, state, ())
    if state != BookingState.BOOKED:
        return Claim(state, session, dates, await take_waitlist_ticket(s, session.id))
    if not await take_seat(s, session, seat_guard=True, overbook=overbook):
        # Cannot happen under the lock; kept so a bug degrades to a refusal.
        raise RefusedError([Reason("session_full", "This session has just filled up.")])
    return Claim(state, session, dates)
