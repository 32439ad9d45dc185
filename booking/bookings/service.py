"""Booking a place, cancelling, answering offers, and the sweeps that close offers and lists.

Concurrency: every use case that changes seats locks the session row first (`SELECT … FOR UPDATE`
on PostgreSQL; SQLite writers are serialised by `BEGIN IMMEDIATE`), then counts and decides. The
seat counter is also only raised by a conditional `UPDATE … WHERE seats_held < capacity`, and a
partial unique index allows one active booking per (session, learner). The seat itself (lock,
take, give back, promote from the waiting list) lives in `booking.seats`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from booking import approvals, eligibility, payments, policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.approvals import ApprovalStep, Booker, approver_label, plan_approvals
from booking.domain.booking_rules import (
    ExistingBooking,
    Overrides,
    SessionFacts,
    SignUp,
    decide_booking,
)
from booking.domain.reasons import Reason
from booking.domain.schedule import DateSlot
from booking.domain.states import ACTIVE, BookingState, state_name
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, slots
from booking.kernel.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    RefusedError,
)
from booking.kernel.history import facilitator_ids, record_transition, write_history
from booking.kernel.locks import lock_booking, lock_bookings, lock_session
from booking.kernel.tx import with_retry
from booking.kernel.views import BookingView, HistoryView, MoneyView, Page
from booking.models import (
    Booking,
    Course,
    IdempotencyKey,
    OrgUnit,
    Person,
    SessionDate,
)
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_view, booking_views, new_booking_view
from booking.seats import booking_access, take_seat, take_waitlist_ticket, withdraw_place

MAX_REASON_LENGTH = 500
ACTIVE_STATES = tuple(s.value for s in ACTIVE)

# The booking path's statements, built once (building one costs more CPU than running it).
_LEARNER = (
    select(Person, OrgUnit.code)
    .outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
    .with_for_update(of=Person)
    .execution_options(populate_existing=True)
)
_LEARNER_BY_ID = _LEARNER.where(Person.id == bindparam("person_id"))
_LEARNER_BY_EMAIL = _LEARNER.where(Person.email == bindparam("email"))
_SESSION_WITH_COURSE = (
    select(SessionRow, Course)
    .join(Course, Course.id == SessionRow.course_id)
    .where(SessionRow.id == bindparam("session_id"))
    .execution_options(populate_existing=True)
)
_EXISTING_BOOKINGS = (
    select(
        Booking.id,
        Booking.session_id,
        Booking.course_id,
        Booking.state,
        Course.title,
        SessionDate.start_at,
        SessionDate.end_at,
        SessionDate.timezone,
    )
    .join(Course, Course.id == Booking.course_id)
    .outerjoin(
        SessionDate,
        and_(SessionDate.session_id == Booking.session_id, SessionDate.removed_at.is_(None)),
    )
    .where(Booking.learner_id == bindparam("learner_id"), Booking.state.in_(ACTIVE_STATES))
    .order_by(Booking.id, SessionDate.start_at)
)


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """The caller's `Idempotency-Key` and a fingerprint of what they sent with it."""

    caller: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, caller: str, key: str, operation: str, body: Any) -> IdempotencyClaim:
        if not key or len(key) > 200:
            raise InvalidError("Idempotency-Key must be 1 to 200 characters.", "Idempotency-Key")
        canonical = json.dumps([operation, body], sort_keys=True, default=str)
        return cls(caller, key, hashlib.sha256(canonical.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class BookingRequest:
    session_id: int
    learner_email: str | None = None
    cost_code: str | None = None
    special_requirements: str | None = None
    answers: dict[str, Any] | None = None
    accept_terms: bool = False
    # Administrators only: book past the sign-up window, audience or clash rules, with a reason;
    # `overbook` also past capacity.
    override_reason: str | None = None
    overbook: bool = False
    # The learner's own booking on another date of the same course, given up in the same
    # transaction when this one succeeds ("move my place to this date").
    move_from: int | None = None


@dataclass(slots=True)
class BookingOutcome:
    booking: BookingView
    status_code: int
    replayed: bool = False
    promoted: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Book a place


async def book_place(
    db: Database,
    clock: Clock,
    actor: Actor,
    request: BookingRequest,
    *,
    idempotency: IdempotencyClaim | None = None,
    seat_guard: bool = True,
) -> BookingOutcome:
    """Take a place on a session, or a place in its waiting list, or refuse with every reason."""
    _validate_booking_request(actor, request)
    billing = payments.billing_config(db.settings)

    async def attempt() -> BookingOutcome:
        async with db.transaction() as s:
            now = clock.now()
            if idempotency is not None:
                replay = await _claim_idempotency(s, idempotency, now)
                if replay is not None:
                    return replay
            outcome = await _book_place(
                s, actor, request, now=now, seat_guard=seat_guard, billing=billing
            )
            if idempotency is not None:
                await _settle_idempotency(s, idempotency, outcome)
            return outcome

    return await _with_idempotent_retry(db, attempt, idempotency)


def _validate_booking_request(actor: Actor, request: BookingRequest) -> None:
    if request.special_requirements is not None and len(request.special_requirements) > 2000:
        raise InvalidError(
            "Special requirements are limited to 2,000 characters.", "special_requirements"
        )
    if request.overbook and not policy.can_override(actor):
        raise ForbiddenError("Only an administrator can book past a session's capacity.")
    if request.override_reason is not None and not request.override_reason.strip():
        raise InvalidError("An override needs a reason.", "override_reason")
    if request.overbook and not (request.override_reason or "").strip():
        raise InvalidError("Overbooking needs a reason.", "override_reason")


async def _book_place(
    s: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    *,
    now: datetime,
    seat_guard: bool,
    billing: payments.BillingConfig,
) -> BookingOutcome:
    """Everything is read and decided before the session row is held; then the seat is taken
    by one conditional UPDATE (which takes the row lock), so a rush on one session queues on a
    short section. When that finds the row changed since it was read (the seat went, the
    session was edited), or the decision was the waiting list, the row is locked and the
    decision made again on it as it is now."""
    # Lock order everywhere: learner, then session. The learner lock serialises one person's
    # concurrent sign-ups, so "one place per course" and clash checks see each other.
    learner, unit_code, for_someone_else = await _resolve_learner(s, actor, request.learner_email)
    found = (await s.execute(_SESSION_WITH_COURSE, {"session_id": request.session_id})).first()
    if found is None or (found[0].status == "draft" and not policy.can_see_drafts(actor)):
        raise NotFoundError(f"There is no session {request.session_id}.")
    session, course = found
    trainers = await facilitator_ids(s, session.id)
    if request.override_reason and not policy.can_override_on(actor, trainers):
        raise ForbiddenError(
            "Only an administrator or the session's trainer can override booking rules."
        )
    if for_someone_else and not (
        policy.can_book_for(actor, learner.id, learner.manager_id)
        or (request.override_reason and policy.can_override_on(actor, trainers))
    ):
        raise ForbiddenError(
            "You can book places for yourself and your direct reports only (a session's "
            "trainer can add learners to it with a reason)."
        )
    # The payer: a cost code that can pay today (else 422 with the reason), or a card when the
    # course has a price and card payments are on, or nobody.
    cost_code = await payments.check_cost_code(
        s, request.cost_code, pattern=billing.cost_code_pattern, now=now
    )
    by_card = cost_code is None and billing.card_payments and payments.fee_can_arise(course)
    dates = (await active_dates(s, [session.id]))[session.id]
    rules = await eligibility.course_rules(s, course)
    facts = eligibility.facts_of(session, course, slots(dates), rules)
    # The units above the learner's matter only to a course for some units.
    audience = facts.audience
    profile = await eligibility.learner_profile(
        s,
        learner,
        completions_of=eligibility.completions_needed(facts),
        unit_path=None if audience and audience.org_units else [unit_code] if unit_code else [],
    )
    overrides = (
        Overrides(capacity=request.overbook, signup_window=True, eligibility=True, clash=True)
        if request.override_reason
        else Overrides()
    )
    existing = await existing_bookings(s, learner.id)
    if request.move_from is not None:
        moving = next((b for b in existing if b.id == request.move_from), None)
        if moving is None or moving.course_id != course.id or moving.session_id == session.id:
            raise InvalidError(
                "move_from must be your own active booking on another date of this course.",
                "move_from",
            )
        existing = [b for b in existing if b.id != request.move_from]
    sign_up = SignUp(request.answers, request.accept_terms)

    def decide(facts: SessionFacts) -> BookingState:
        decision = decide_booking(
            facts, profile, existing, now=now, overrides=overrides, sign_up=sign_up
        )
        if decision.refused:
            raise RefusedError(decision.reasons)
        assert decision.state is not None
        return decision.state

    state = decide(facts)

    # Approvals still needed: the booking waits for them and holds no seat meanwhile. A cost
    # code paying where a fee can arise needs its budget holder, whatever the course lists.
    holder_id = await approvals.budget_holder_for(s, course, cost_code)
    steps = list(facts.approval_steps)
    if holder_id is not None and "budget_holder" not in steps:
        steps.insert(steps.index("admin") if "admin" in steps else len(steps), "budget_holder")
    plan = plan_approvals(
        steps,
        learner_id=learner.id,
        learner_manager_id=learner.manager_id,
        booker=Booker(
            person_id=actor.person_id or 0,
            is_admin=actor.is_admin,
            is_learners_manager=learner.manager_id is not None
            and learner.manager_id == actor.person_id,
        ),
        budget_holder_id=holder_id,
    )
    if request.override_reason:
        plan = [step for step in plan if step.kind == "budget_holder"]
    if cost_code is not None and any(step.kind == "budget_holder" for step in plan):
        # Over the code's annual limit is flagged to the budget holder, never refused.
        note = await payments.spend_note(
            s, course, cost_code, now=now, year_start=billing.year_start
        )
        plan = [
            ApprovalStep(step.kind, step.approver_id, note)
            if step.kind == "budget_holder" and note
            else step
            for step in plan
        ]

    def refuse_card_unless_booked(state: BookingState) -> None:
        if by_card and (plan or state != BookingState.BOOKED):
            # A card payment holds a seat while it is made; a place that waits (for approval
            # or on the waiting list) could later be given without one.
            raise RefusedError(
                [
                    Reason(
                        "card_payment_unavailable",
                        "Places paid by card can only be booked while a seat is free and no "
                        "approval is needed; give a cost code, or ask the training team.",
                    )
                ]
            )

    refuse_card_unless_booked(state)
    waitlist_seq: int | None = None
    if plan:
        state = BookingState.PENDING_APPROVAL  # no seat is taken, so the session is not held
    elif not seat_guard:
        # The concurrency tests' control: a stale read-modify-write, no lock, no condition.
        if state == BookingState.BOOKED:
            await take_seat(s, session, seat_guard=False)
        else:
            waitlist_seq = await take_waitlist_ticket(s, session.id)
    else:
        taken = state == BookingState.BOOKED and await take_seat(
            s, session, seat_guard=True, overbook=request.overbook, unchanged_since=session
        )
        if not taken:
            sequence = session.sequence
            locked = await lock_session(s, session.id)
            if locked is None:
                raise NotFoundError(f"There is no session {request.session_id}.")
            session = locked
            if session.sequence != sequence:
                dates = (await active_dates(s, [session.id]))[session.id]
            state = decide(eligibility.facts_of(session, course, slots(dates), rules))
            refuse_card_unless_booked(state)
            if state == BookingState.BOOKED:
                if not await take_seat(s, session, seat_guard=True, overbook=request.overbook):
                    # Cannot happen under the lock; kept so a bug degrades to a refusal.
                    raise RefusedError([Reason("session_full", "This session has just filled up.")])
            else:
                waitlist_seq = await take_waitlist_ticket(s, session.id)
        if state == BookingState.BOOKED and by_card:
            # The seat is held while the learner pays; the payment webhook books it.
            state = BookingState.PENDING_PAYMENT

    booking = Booking(
        session_id=session.id,
        course_id=course.id,
        learner_id=learner.id,
        state=state.value,
        waitlist_seq=waitlist_seq,
        cost_code=cost_code,
        special_requirements=request.special_requirements,
        answers=request.answers,
        terms_version_accepted=course.terms_version
        if "self" in facts.approval_steps and request.accept_terms
        else None,
        override_reason=request.override_reason,
        created_at=now,
        updated_at=now,
    )
    s.add(booking)
    await s.flush()
    reason = request.override_reason
    if reason:
        reason = f"Override by {actor.name}: {reason}"
        await audit.record(
            s,
            action="booking.override",
            now=now,
            actor=actor,
            target=f"booking {booking.id}",
            details={
                "learner": learner.email,
                "session": session.id,
                "reason": request.override_reason,
                "overbook": request.overbook,
            },
        )
    elif actor.person_id != learner.id:
        # A manager or administrator booking for someone else, within the rules.
        await audit.record(
            s,
            action="booking.made_on_behalf",
            now=now,
            actor=actor,
            target=f"booking {booking.id}",
            details={"learner": learner.email, "session": session.id},
        )
    if not reason and plan:
        reason = "Waiting for " + approver_label(plan[0].kind)
    if state == BookingState.PENDING_PAYMENT:
        reason = "Waiting for card payment"
    await write_history(
        s,
        booking=booking,
        from_state=None,
        to_state=state.value,
        actor=actor,
        now=now,
        reason=reason,
        # The learner is on the payment page: they hear when the payment books the place.
        notify=None if state == BookingState.PENDING_PAYMENT else f"booking.{state.value}",
        facilitators=trainers,
    )
    if state == BookingState.PENDING_PAYMENT:
        await payments.open_card_payment(s, booking, course, learner, hold=billing.hold, now=now)
    if plan:
        await approvals.request_step(s, booking, plan, 0, now=now)
    if request.move_from is not None:
        await _give_up(
            s, request.move_from, actor=actor, now=now, reason=f"Moved to session {session.id}"
        )
    view = await new_booking_view(
        s,
        booking,
        course,
        learner,
        unit_code=unit_code,
        dates=dates,
        history=HistoryView(now, actor.label, None, state.value, reason),
        now=now,
    )
    return BookingOutcome(view, 201)


async def _give_up(
    s: AsyncSession, booking_id: int, *, actor: Actor, now: datetime, reason: str
) -> None:
    """Withdraw the learner's old place (its seat goes to its waiting list) in the caller's
    transaction. Its session is locked after the new one: a rare deadlock with a move the other
    way is retried whole by `with_retry`."""
    old_session_id = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
    assert old_session_id is not None
    old_session = await lock_session(s, old_session_id)
    old = await lock_booking(s, booking_id)
    assert old is not None and old_session is not None
    if old.state in ACTIVE_STATES:
        await withdraw_place(s, old, old_session, actor=actor, now=now, reason=reason, details=None)


async def _resolve_learner(
    s: AsyncSession, actor: Actor, learner_email: str | None
) -> tuple[Person, str | None, bool]:
    """The learner, read and locked (`FOR UPDATE`), their unit's code, and whether the actor is
    booking for someone else (checked by the caller once the session's trainers are known)."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people can book places.")
    if learner_email is None or learner_email.strip().lower() == actor.email:
        row = (await s.execute(_LEARNER_BY_ID, {"person_id": actor.person_id})).first()
        if row is None:
            raise ForbiddenError("Your account no longer exists.")
        return row[0], row[1], False
    row = (await s.execute(_LEARNER_BY_EMAIL, {"email": learner_email.strip().lower()})).first()
    if row is None:
        raise InvalidError(
            f"There is nobody with the email address {learner_email}.", "learner_email"
        )
    return row[0], row[1], True


async def existing_bookings(s: AsyncSession, learner_id: int) -> list[ExistingBooking]:
    """The learner's active bookings with their dates, in one query."""
    rows = (await s.execute(_EXISTING_BOOKINGS, {"learner_id": learner_id})).all()
    found: dict[int, tuple[Any, list[DateSlot]]] = {}
    for r in rows:
        _, dates = found.setdefault(r.id, (r, []))
        if r.start_at is not None:
            dates.append(DateSlot(r.start_at, r.end_at, r.timezone))
    return [
        ExistingBooking(r.id, r.session_id, r.course_id, r.title, r.state, dates)
        for r, dates in found.values()
    ]


# ---------------------------------------------------------------------------------------------
# Idempotency


async def _claim_idempotency(
    s: AsyncSession, claim: IdempotencyClaim, now: datetime
) -> BookingOutcome | None:
    """Replay the first answer for a known key; otherwise reserve the key in this transaction.

    The reservation is a row under a unique constraint: a concurrent request with the same key
    waits on it and, once this transaction commits, fails its insert and replays."""
    existing = await s.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.caller == claim.caller, IdempotencyKey.key == claim.key
        )
    )
    if existing is None:
        s.add(
            IdempotencyKey(
                caller=claim.caller,
                key=claim.key,
                fingerprint=claim.fingerprint,
                status_code=0,
                created_at=now,
            )
        )
        await s.flush()
        return None
    if existing.fingerprint != claim.fingerprint:
        raise InvalidError(
            "This Idempotency-Key was already used with a different request.", "Idempotency-Key"
        )
    if existing.booking_id is None:
        raise ConflictError("A request with this Idempotency-Key is still in progress.")
    return BookingOutcome(
        await booking_view(s, existing.booking_id, now=now), existing.status_code, replayed=True
    )


async def _settle_idempotency(
    s: AsyncSession, claim: IdempotencyClaim, outcome: BookingOutcome
) -> None:
    await s.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.caller == claim.caller, IdempotencyKey.key == claim.key)
        .values(booking_id=outcome.booking.id, status_code=outcome.status_code)
    )


async def _with_idempotent_retry(
    db: Database, attempt: Any, idempotency: IdempotencyClaim | None
) -> BookingOutcome:
    try:
        return await with_retry(attempt)
    except IntegrityError:
        if idempotency is None:
            raise
        # Lost the race for the key to a twin request that has committed: replay its answer.
        return await with_retry(attempt)


# ---------------------------------------------------------------------------------------------
# Cancel, accept, decline


async def cancel_booking(
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    *,
    reason: str,
    details: str | None = None,
    quoted_fee: MoneyView | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> BookingOutcome:
    """Cancel a booking (or leave the waiting list); a freed seat promotes in this transaction."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError("Give a reason for cancelling.", "reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidError("The reason is limited to 500 characters.", "reason")
    if details is not None and len(details) > 4000:
        raise InvalidError("Details are limited to 4,000 characters.", "details")

    async def attempt() -> BookingOutcome:
        async with db.transaction() as s:
            now = clock.now()
            if idempotency is not None:
                replay = await _claim_idempotency(s, idempotency, now)
                if replay is not None:
                    return replay
            booking, session = await _lock_booking(s, actor, booking_id, policy.can_cancel_booking)
            if booking.state not in ACTIVE_STATES:
                raise ConflictError(f"This booking is already {state_name(booking.state).lower()}.")
            course = await s.get_one(Course, booking.course_id)
            # The fee is the quote at this moment; a quote the learner saw that no longer
            # matches (a tier deadline passed meanwhile) is refused rather than overcharged.
            quote = await payments.quote_for(s, booking, course, now=now)
            fee = MoneyView(quote.fee.amount, quote.fee.currency)
            if quoted_fee is not None and (
                quoted_fee.amount != fee.amount or quoted_fee.currency != fee.currency
            ):
                raise ConflictError(
                    "The cancellation fee has changed since it was quoted; look at the new quote."
                )
            promoted = await withdraw_place(
                s, booking, session, actor=actor, now=now, reason=reason, details=details
            )
            if actor.person_id != booking.learner_id:
                # Someone else's place (a trainer removing, an administrator cancelling).
                await audit.record(
                    s,
                    action="booking.cancelled",
                    now=now,
                    actor=actor,
                    target=f"booking {booking.id}",
                    details={"session": session.id, "reason": reason},
                )
            await payments.settle_cancellation(
                s, booking, course, fee=quote.fee, actor=actor, reason=reason, now=now
            )
            view = await booking_view(s, booking.id, now=now)
            view.fee = fee
            outcome = BookingOutcome(view, 200, promoted=promoted)
            if idempotency is not None:
                await _settle_idempotency(s, idempotency, outcome)
            return outcome

    return await _with_idempotent_retry(db, attempt, idempotency)


async def accept_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    """Take the place a waitlist offer holds."""

    async def attempt() -> BookingView:
        async with db.transaction() as s:
            now = clock.now()
            booking, _ = await _lock_booking(s, actor, booking_id, policy.can_answer_offer)
            if booking.state != BookingState.OFFERED:
                raise ConflictError("There is no open offer on this booking.")
            if booking.offer_expires_at is not None and now >= booking.offer_expires_at:
                raise ConflictError("This offer has expired.")
            booking.offer_expires_at = None
            booking.sequence += 1
            await record_transition(
                s,
                booking=booking,
                to_state="booked",
                actor=actor,
                now=now,
                reason="Offer accepted",
                notify="booking.booked",
            )
            return await booking_view(s, booking.id, now=now)

    return await with_retry(attempt)


async def decline_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    """Turn down a waitlist offer: the place passes to the next learner in line."""

    async def attempt() -> BookingView:
        async with db.transaction() as s:
            now = clock.now()
            booking, session = await _lock_booking(s, actor, booking_id, policy.can_answer_offer)
            if booking.state != BookingState.OFFERED:
                raise ConflictError("There is no open offer on this booking.")
            await withdraw_place(
                s, booking, session, actor=actor, now=now, reason="Offer declined", details=None
            )
            return await booking_view(s, booking.id, now=now)

    return await with_retry(attempt)


async def _lock_booking(
    s: AsyncSession, actor: Actor, booking_id: int, allowed: Any
) -> tuple[Booking, SessionRow]:
    """Find the booking (404 if hidden), lock its session row, then re-read the booking."""
    found = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
    if found is None:
        raise NotFoundError(f"There is no booking {booking_id}.")
    session = await lock_session(s, found)
    assert session is not None
    booking = await lock_booking(s, booking_id)
    assert booking is not None
    access = await booking_access(s, booking)
    if not policy.can_view_booking(actor, access):
        raise NotFoundError(f"There is no booking {booking_id}.")
    if not allowed(actor, access):
        raise ForbiddenError("You cannot change this booking.")
    return booking, session


async def expire_offers(db: Database, clock: Clock) -> int:
    """Withdraw offers past their hold time; each freed seat goes to the next in line."""
    return await _sweep(
        db,
        clock,
        due=lambda now: and_(Booking.state == "offered", Booking.offer_expires_at <= now),
        reason="The offer expired",
        notify="booking.offer_expired",
    )


async def close_started_waitlists(db: Database, clock: Clock) -> int:
    """At a session's start its waiting list closes; those left in line are told."""
    return await _sweep(
        db,
        clock,
        due=lambda now: and_(
            Booking.state.in_(("waitlisted", "offered")),
            Booking.session_id.in_(select(SessionRow.id).where(SessionRow.starts_at <= now)),
        ),
        reason="The session has started and its waiting list is closed",
        notify="booking.waitlist_closed",
    )


async def _sweep(
    db: Database,
    clock: Clock,
    *,
    due: Callable[[datetime], ColumnElement[bool]],
    reason: str,
    notify: str,
) -> int:
    """Cancel the bookings `due(now)` selects, one session per transaction, under its lock.

    The condition is applied again after the locks are taken, so a booking accepted meanwhile,
    or already handled by another worker, is left alone."""
    async with db.reading() as s:
        session_ids = (
            await s.scalars(select(Booking.session_id).where(due(clock.now())).distinct())
        ).all()
    done = 0
    for session_id in sorted(session_ids):

        async def attempt(session_id: int = session_id) -> int:
            async with db.transaction() as s:
                now = clock.now()
                session = await lock_session(s, session_id)
                assert session is not None
                count = 0
                for booking in await lock_bookings(s, Booking.session_id == session_id, due(now)):
                    await withdraw_place(
                        s,
                        booking,
                        session,
                        actor=Actor.system(),
                        now=now,
                        reason=reason,
                        details=None,
                        notify=notify,
                    )
                    count += 1
                return count

        done += await with_retry(attempt)
    return done


# ---------------------------------------------------------------------------------------------
# Reads


async def get_booking(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    async with db.reading() as s:
        booking = await s.get(Booking, booking_id)
        if booking is None or not policy.can_view_booking(actor, await booking_access(s, booking)):
            raise NotFoundError(f"There is no booking {booking_id}.")
        return await booking_view(s, booking_id, now=clock.now())


async def my_bookings(
    db: Database, clock: Clock, actor: Actor, *, cursor: int | None = None, limit: int = 50
) -> Page:
    """The actor's own bookings, soonest session first… by id for stable pages."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people have bookings.")
    async with db.reading() as s:
        stmt = (
            select(Booking.id)
            .where(Booking.learner_id == actor.person_id)
            .order_by(Booking.id.desc())
            .limit(limit + 1)
        )
        if cursor is not None:
            stmt = stmt.where(Booking.id < cursor)
        ids = list((await s.scalars(stmt)).all())
        more = len(ids) > limit
        ids = ids[:limit]
        views = await booking_views(s, ids, now=clock.now(), with_history=False)
        return Page(views, str(ids[-1]) if more and ids else None)
