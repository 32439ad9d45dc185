from booking import bookings
from booking.bookings import BookingRequest
from tests import support


async def test_book_then_waitlist(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=1)
    lee = await support.actor(world.db, "lee@example.org")
    kim = await support.actor(world.db, "kim@example.org")
    first = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    second = await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    assert first.booking.state == "booked"
    assert second.booking.state == "waitlisted"
    assert second.booking.waitlist_position == 1
