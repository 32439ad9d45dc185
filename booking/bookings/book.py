"""Book a place: a seat on a session, a place in its waiting list, or a refusal with every reason.

The use case reads top to bottom: gather the facts (a fixed number of queries) → let the domain
decide → the approvals still needed → claim the seat or the waiting-list ticket → record (row,
history, emails, payment or approval request) → answer.

Concurrency: the learner's row is locked first, then the session's; the seat counter is only
raised by a conditional `UPDATE … WHERE seats_held < capacity`, and a partial unique index
allows one active booking per (session, learner). The seat itself lives in `booking.seats`.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from booking import payments
from booking.bookings import group, lean
from booking.bookings.approval_plan import approvals_needed
from booking.bookings.claim import claim_place
from booking.bookings.decision import decide, refuse_card_unless_booked
from booking.bookings.facts import gather_facts
from booking.bookings.idempotency import IdempotencyClaim, run_once
from booking.bookings.recording import record_booking
from booking.bookings.requests import BookingOutcome, BookingRequest, validate_request
from booking.bookings.vouch import Unvouched
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor, UnreadToken, Vouch
from booking.kernel.views import HistoryView
from booking.reads.bookings import new_booking_view


async def book_place(
    db: Database,
    clock: Clock,
    actor: Actor,
    request: BookingRequest,
    *,
    idempotency: IdempotencyClaim | None = None,
    seat_guard: bool = True,
    vouch: Vouch | None = None,
) -> BookingOutcome:
    """Take a place on a session, or a place in its waiting list, or refuse with every reason.
    With a `vouch`, the actor was remembered for its token, not read: only the lean path's own
    read checks it (`bookings.vouch`); anywhere else it is read afresh first."""
    plain = idempotency is None and seat_guard and lean.is_plain(db, actor, request)
    if vouch is not None and not plain:
        actor, vouch = await vouch.recheck(), None
    validate_request(actor, request)
    billing = payments.billing_config(db.settings)
    if plain:
        token_hash = vouch.token_hash if vouch is not None else None
        try:
            outcome = await group.LINES.book(
                db, clock, actor, request, billing=billing, token_hash=token_hash
            )
        except Unvouched:
            assert vouch is not None
            actor = await vouch.recheck()
            return await book_place(db, clock, actor, request, seat_guard=seat_guard)
        if outcome is not None:
            return outcome
        if vouch is not None:
            actor = await vouch.recheck()
    work = partial(_book, actor=actor, request=request, seat_guard=seat_guard, billing=billing)
    return await run_once(db, clock, idempotency, work)


async def book_on_token(
    db: Database,
    clock: Clock,
    unread: UnreadToken,
    request: BookingRequest,
    *,
    seat_guard: bool = True,
) -> BookingOutcome:
    """`book_place` for a plain request (PostgreSQL) whose bearer token is not read yet: the
    lean path finds the learner by the token in its own first statement (`bookings.vouch`).
    Where it cannot (a line of bookings waiting for a group, a token that stands for no active
    person), the actor is read first and booked with as any other; where it declines after its
    read, the full path takes the actor it read."""
    billing = payments.billing_config(db.settings)
    try:
        outcome = await group.LINES.book(db, clock, None, request, billing=billing, unread=unread)
    except Unvouched:  # (`read` counts the attempt as `on_read` would have)
        actor = await unread.read()
        return await book_place(db, clock, actor, request, seat_guard=seat_guard)
    if outcome is not None:
        return outcome
    assert unread.actor is not None, "declined after the read"
    actor = unread.actor
    validate_request(actor, request)
    work = partial(_book, actor=actor, request=request, seat_guard=seat_guard, billing=billing)
    return await run_once(db, clock, None, work)


async def _book(
    s: AsyncSession,
    now: datetime,
    *,
    actor: Actor,
    request: BookingRequest,
    seat_guard: bool,
    billing: payments.BillingConfig,
) -> BookingOutcome:
    """Everything is read and decided before the session row is held; `claim_place` then takes
    the seat (and, when the row changed meanwhile, locks it and decides again)."""
    facts = await gather_facts(s, actor, request, now=now, billing=billing)
    state = decide(facts, facts.session_facts, now=now)
    plan = await approvals_needed(s, actor, request, facts, now=now, billing=billing)
    refuse_card_unless_booked(facts, state, plan)
    claim = await claim_place(
        s, facts, state, plan, request=request, now=now, seat_guard=seat_guard
    )
    booking, reason = await record_booking(
        s, actor, request, facts, claim, plan, now=now, billing=billing
    )
    view = await new_booking_view(
        s,
        booking,
        facts.course,
        facts.learner,
        unit_code=facts.unit_code,
        dates=claim.dates,
        history=HistoryView(now, actor.label, None, claim.state.value, reason),
        now=now,
    )
    return BookingOutcome(view, 201)
