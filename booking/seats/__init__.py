"""Seats: the session row's lock, taking and giving back a place, and the waiting list behind it.

The lower layer every use case that touches a seat builds on (booking, approvals, payments,
roster, catalogue). It never imports those use cases: they call down into it.
"""

from booking.kernel.locks import lock_session
from booking.seats.access import booking_access
from booking.seats.approved import place_after_approval
from booking.seats.places import (
    promote_waiting,
    release_seat,
    take_seat,
    take_waitlist_ticket,
    withdraw_place,
)

__all__ = [
    "booking_access",
    "lock_session",
    "place_after_approval",
    "promote_waiting",
    "release_seat",
    "take_seat",
    "take_waitlist_ticket",
    "withdraw_place",
]
