"""Recording a new booking: its row, the audit trail, its history and emails, the card payment
or the first approval request it waits for, and the place it moves from given up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import approvals, payments
from booking.bookings.claim import Claim
from booking.bookings.facts import BookingFacts
from booking.bookings.requests import BookingRequest
from booking.domain.approvals import ApprovalStep, approver_label
from booking.domain.states import ACTIVE, BookingState
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.history import write_history
from booking.kernel.locks import lock_booking, lock_session
from booking.models import Booking
from booking.seats import withdraw_place


async def record_booking(
    s: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    facts: BookingFacts,
    claim: Claim,
    plan: Sequence[ApprovalStep],
    *,
    now: datetime,
    billing: payments.BillingConfig,
) -> tuple[Booking, str | None]:
    """Write the booking and everything that goes with it; its history reason too."""
    booking = await _insert_booking(s, request, facts, claim, now=now)
    reason = await _audit(s, actor, request, facts, booking, now=now)
    if not reason and plan:
        reason = "Waiting for " + approver_label(plan[0].kind)
    paying = claim.state == BookingState.PENDING_PAYMENT
    if paying:
        reason = "Waiting for card payment"
    await write_history(
        s,
        booking=booking,
        from_state=None,
        to_state=claim.state.value,
        actor=actor,
        now=now,
        reason=reason,
        # The learner is on the payment page: they hear when the payment books the place.
        notify=None if paying else f"booking.{claim.state.value}",
        facilitators=facts.trainers,
    )
    if paying:
        await payments.open_card_payment(
            s, booking, facts.course, facts.learner, hold=billing.hold, now=now
        )
    if plan:
        await approvals.request_step(s, booking, plan, 0, now=now)
    if request.move_from is not None:
        moved = f"Moved to session {booking.session_id}"
        await _give_up(s, request.move_from, actor=actor, now=now, reason=moved)
    return booking, reason


async def _insert_booking(
    s: AsyncSession, request: BookingRequest, facts: BookingFacts, claim: Claim, *, now: datetime
) -> Booking:
    course = facts.course
    booking = Booking(
        session_id=claim.session.id,
        course_id=course.id,
        learner_id=facts.learner.id,
        state=claim.state.value,
        waitlist_seq=claim.waitlist_seq,
        cost_code=facts.cost_code,
        price_amount=facts.price.amount if facts.price is not None else 0,
        special_requirements=request.special_requirements,
        answers=request.answers,
        terms_version_accepted=course.terms_version
        if "self" in facts.session_facts.approval_steps and request.accept_terms
        else None,
        override_reason=request.override_reason,
        created_at=now,
        updated_at=now,
    )
    s.add(booking)
    await s.flush()
    return booking


async def _audit(
    s: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    facts: BookingFacts,
    booking: Booking,
    *,
    now: datetime,
) -> str | None:
    """An override, or a booking made for someone else within the rules, goes in the audit
    trail. Returns the override's history reason, if it was one."""
    learner = facts.learner
    if request.override_reason:
        await audit.record(
            s,
            action="booking.override",
            now=now,
            actor=actor,
            target=f"booking {booking.id}",
            details={
                "learner": learner.email,
                "session": booking.session_id,
                "reason": request.override_reason,
                "overbook": request.overbook,
            },
        )
        return f"Override by {actor.name}: {request.override_reason}"
    if actor.person_id != learner.id:
        # A manager or administrator booking for someone else, within the rules.
        await audit.record(
            s,
            action="booking.made_on_behalf",
            now=now,
            actor=actor,
            target=f"booking {booking.id}",
            details={"learner": learner.email, "session": booking.session_id},
        )
    return None


async def _give_up(
    s: AsyncSession, booking_id: int, *, actor: Actor, now: datetime, reason: str
) -> None:
    """Withdraw the learner's old place (its seat goes to its waiting list) in the caller's
    transaction. Its session is locked after the new one: a rare deadlock with a move the other
    way is retried whole by `tx.run`."""
    old_session_id = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
    assert old_session_id is not None
    old_session = await lock_session(s, old_session_id)
    old = await lock_booking(s, booking_id)
    assert old is not None and old_session is not None
    if old.state in ACTIVE:
        await withdraw_place(s, old, old_session, actor=actor, now=now, reason=reason, details=None)
