"""Reading bookings through the API: one booking, and the actor's own, a page at a time."""

from __future__ import annotations

from sqlalchemy import select

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.views import BookingView, Page
from booking.models import Booking
from booking.reads.bookings import booking_view, booking_views
from booking.seats import booking_access


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
