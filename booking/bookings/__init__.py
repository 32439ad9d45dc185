"""Booking a place: book, cancel, accept or decline an offer, and a learner's bookings.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.bookings.service import (
    ACTIVE_STATES,
    BookingOutcome,
    BookingRequest,
    IdempotencyClaim,
    accept_offer,
    book_place,
    cancel_booking,
    close_started_waitlists,
    decline_offer,
    existing_bookings,
    expire_offers,
    get_booking,
    my_bookings,
)

__all__ = [
    "ACTIVE_STATES",
    "BookingOutcome",
    "BookingRequest",
    "IdempotencyClaim",
    "accept_offer",
    "book_place",
    "cancel_booking",
    "close_started_waitlists",
    "decline_offer",
    "existing_bookings",
    "expire_offers",
    "get_booking",
    "my_bookings",
]
