"""Copying a session: the same room, trainers, capacity and modes on new dates."""

from __future__ import annotations

from collections.abc import Sequence

from booking import catalogue, policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import Session as SessionRow


async def copy_session(
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    dates: Sequence[catalogue.DateInput],
    *,
    override_reason: str | None = None,
) -> catalogue.SessionView:
    """A new session like this one (room, trainers, capacity, modes) on new dates."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can schedule sessions.")
    source = await catalogue.get_session(db, clock, actor, session_id)
    async with db.reading() as s:
        row = await s.get_one(SessionRow, session_id)
        auto_cancel = row.auto_cancel_below_min
    return await catalogue.create_session(
        db,
        clock,
        actor,
        source.course_id,
        catalogue.SessionInput(
            dates=list(dates),
            capacity=source.capacity,
            room=catalogue.RoomInput(source.room.name) if source.room else None,
            virtual_link=source.virtual_link,
            facilitators=list(source.facilitators),
            waitlist_mode=source.waitlist_mode,
            offer_hours=source.offer_hours,
            min_bookings=source.min_bookings,
            auto_cancel_below_min=auto_cancel,
            override_reason=override_reason,
        ),
    )
