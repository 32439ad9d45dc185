"""The booking state machine."""

from __future__ import annotations

from enum import StrEnum


class BookingState(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    PENDING_PAYMENT = "pending_payment"
    BOOKED = "booked"
    OFFERED = "offered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    ATTENDED = "attended"
    PARTIALLY_ATTENDED = "partially_attended"
    NO_SHOW = "no_show"


S = BookingState

# How people read a state, the same words everywhere (pages, emails, exports, messages).
_NAMES = {
    S.PENDING_APPROVAL: "Pending approval",
    S.PENDING_PAYMENT: "Pending payment",
    S.PARTIALLY_ATTENDED: "Partly attended",
    S.NO_SHOW: "No-show",
}


def state_name(state: str) -> str:
    """A booking state for people: "Booked", "Partly attended", "No-show" (capitalised; lower
    it in the middle of a sentence)."""
    try:
        return _NAMES.get(BookingState(state), state.capitalize())
    except ValueError:
        return state.replace("_", " ").capitalize()


# Hold or wait for a place; one of these per (session, learner) at most.
ACTIVE = frozenset({S.PENDING_APPROVAL, S.PENDING_PAYMENT, S.BOOKED, S.OFFERED, S.WAITLISTED})
# Count against capacity.
HOLDS_SEAT = frozenset({S.PENDING_PAYMENT, S.BOOKED, S.OFFERED})
# Count for clashes with the learner's other sessions (waitlisted ones do not).
BLOCKS_CALENDAR = frozenset({S.PENDING_APPROVAL, S.PENDING_PAYMENT, S.BOOKED, S.OFFERED})
# What a trainer marks on the roster once the session has run.
ATTENDANCE = frozenset({S.ATTENDED, S.PARTIALLY_ATTENDED, S.NO_SHOW})
# Registered for the session: booked, or booked but for the card payment.
REGISTERED = frozenset({S.BOOKED, S.PENDING_PAYMENT})
# In the learner's calendar (an invitation was sent and not withdrawn).
IN_CALENDAR = REGISTERED | ATTENDANCE
# Nothing moves out of these.
FINAL = frozenset({S.CANCELLED, S.DECLINED})
# Waiting for someone's yes: an approver's, or the card payment's.
PENDING = frozenset({S.PENDING_APPROVAL, S.PENDING_PAYMENT})
# In the waiting list, or at its front with an offer: the list closes when the session starts.
IN_LINE = frozenset({S.WAITLISTED, S.OFFERED})

TRANSITIONS: dict[BookingState, frozenset[BookingState]] = {
    # To itself: one approver said yes and the request moves on to the next in the chain.
    S.PENDING_APPROVAL: frozenset(
        {S.PENDING_APPROVAL, S.BOOKED, S.WAITLISTED, S.PENDING_PAYMENT, S.DECLINED, S.CANCELLED}
    ),
    S.PENDING_PAYMENT: frozenset({S.BOOKED, S.CANCELLED}),
    S.WAITLISTED: frozenset({S.BOOKED, S.OFFERED, S.CANCELLED}),
    S.OFFERED: frozenset({S.BOOKED, S.CANCELLED}),
    # To itself: a trainer moved the place to another session of the course.
    S.BOOKED: frozenset({S.BOOKED, S.CANCELLED, S.ATTENDED, S.PARTIALLY_ATTENDED, S.NO_SHOW}),
    S.ATTENDED: frozenset({S.PARTIALLY_ATTENDED, S.NO_SHOW}),
    S.PARTIALLY_ATTENDED: frozenset({S.ATTENDED, S.NO_SHOW}),
    S.NO_SHOW: frozenset({S.ATTENDED, S.PARTIALLY_ATTENDED}),
    S.CANCELLED: frozenset(),
    S.DECLINED: frozenset(),
}


def can_move(from_state: BookingState | str, to_state: BookingState | str) -> bool:
    """Whether the state machine allows the move (`record_transition` refuses any other)."""
    return BookingState(to_state) in TRANSITIONS[BookingState(from_state)]
