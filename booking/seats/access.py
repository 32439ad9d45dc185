"""Who stands in what relation to a booking: the facts `policy` decides access on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.kernel.history import facilitator_ids
from booking.models import Booking, Person


async def booking_access(s: AsyncSession, booking: Booking) -> policy.BookingAccess:
    manager_id = await s.scalar(select(Person.manager_id).where(Person.id == booking.learner_id))
    facilitators = await facilitator_ids(s, booking.session_id)
    return policy.BookingAccess(booking.learner_id, manager_id, facilitators)
