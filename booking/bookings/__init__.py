"""Booking a place: book, cancel, accept or decline an offer, and a learner's bookings.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own: `book` (the booking use case, over `facts` → `decision` → `approval_plan` →
`claim` → `recording`), `cancel`, `offer_replies`, `sweeps`, `idempotency`, `queries`, and the
pages' reads `offers` (what the session table offers), `overview` and `person_bookings` (a
person's bookings on the administrators' person page).
"""

from booking.bookings.book import book_on_token, book_place
from booking.bookings.cancel import cancel_booking
from booking.bookings.facts import existing_bookings
from booking.bookings.idempotency import IdempotencyClaim
from booking.bookings.lean import names_only_the_session
from booking.bookings.offer_replies import accept_offer, decline_offer
from booking.bookings.offers import SessionOffer, course_offers
from booking.bookings.overview import my_bookings_overview, own_bookings_on
from booking.bookings.person_bookings import PersonBooking, PersonBookings, person_bookings
from booking.bookings.queries import get_booking, my_bookings
from booking.bookings.requests import BookingOutcome, BookingRequest
from booking.bookings.sweeps import close_started_waitlists, expire_offers
from booking.domain.states import ACTIVE

# The states that hold or wait for a place (the domain's set), by the name callers know.
ACTIVE_STATES = ACTIVE

__all__ = [
    "names_only_the_session",
    "book_on_token",
    "ACTIVE_STATES",
    "BookingOutcome",
    "BookingRequest",
    "IdempotencyClaim",
    "PersonBooking",
    "PersonBookings",
    "SessionOffer",
    "accept_offer",
    "book_place",
    "cancel_booking",
    "close_started_waitlists",
    "course_offers",
    "decline_offer",
    "existing_bookings",
    "expire_offers",
    "get_booking",
    "my_bookings",
    "my_bookings_overview",
    "own_bookings_on",
    "person_bookings",
]
