"""The booking decision over the gathered facts: the domain's `decide_booking`, and the card
payment's own condition."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from booking.bookings.facts import BookingFacts
from booking.domain.approvals import ApprovalStep
from booking.domain.booking_rules import SessionFacts, decide_booking
from booking.domain.reasons import Reason
from booking.domain.states import BookingState
from booking.kernel.errors import RefusedError


def decide(facts: BookingFacts, session: SessionFacts, *, now: datetime) -> BookingState:
    """A seat or the waiting list on `session` (as read, or as it is under the lock); every
    reason it cannot be at once, as a refusal."""
    decision = decide_booking(
        session,
        facts.profile,
        facts.existing,
        now=now,
        overrides=facts.overrides,
        sign_up=facts.sign_up,
    )
    if decision.refused:
        raise RefusedError(decision.reasons)
    assert decision.state is not None
    return decision.state


def refuse_card_unless_booked(
    facts: BookingFacts, state: BookingState, plan: Sequence[ApprovalStep]
) -> None:
    """A card payment holds a seat while it is made; a place that waits (for approval or on the
    waiting list) could later be given without one."""
    if facts.by_card and (plan or state != BookingState.BOOKED):
        raise RefusedError(
            [
                Reason(
                    "card_payment_unavailable",
                    "Places paid by card can only be booked while a seat is free and no "
                    "approval is needed; give a cost code, or ask the training team.",
                )
            ]
        )
