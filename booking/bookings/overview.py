"""Reads the HTML pages need beyond the API's: the learner's own place on each session shown, and
their bookings split into upcoming and past."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import ACTIVE
from booking.kernel.actors import Actor
from booking.kernel.views import BookingView
from booking.models import Booking
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_views

# The most recent past bookings a page lists; older ones are in the record of learning.
PAST_LIMIT = 100


@dataclass(slots=True)
class MyBookings:
    upcoming: list[BookingView] = field(default_factory=list)
    past: list[BookingView] = field(default_factory=list)


async def own_bookings_on(
    db: Database, clock: Clock, actor: Actor, session_ids: Sequence[int]
) -> dict[int, BookingView]:
    """The actor's booking on each of these sessions: the active one if any, else the latest."""
    if not policy.is_person(actor) or not session_ids:
        return {}
    async with db.reading() as s:
        rows = (
            await s.execute(
                select(Booking.id, Booking.session_id, Booking.state)
                .where(
                    Booking.learner_id == actor.person_id,
                    Booking.session_id.in_(list(session_ids)),
                )
                .order_by(Booking.id)
            )
        ).all()
        chosen: dict[int, int] = {}
        active: set[int] = set()
        for booking_id, session_id, state in rows:
            # Later rows win, except that an active booking is never replaced by an old one.
            if session_id in active:
                continue
            chosen[session_id] = booking_id
            if state in ACTIVE:
                active.add(session_id)
        views = await booking_views(s, list(chosen.values()), now=clock.now(), with_history=False)
        return {v.session_id: v for v in views}


async def my_bookings_overview(db: Database, clock: Clock, actor: Actor) -> MyBookings:
    """Upcoming places (active, session not yet over) soonest first; the rest, latest first."""
    if not policy.is_person(actor):
        return MyBookings()
    async with db.reading() as s:
        now = clock.now()
        rows = (
            await s.execute(
                select(Booking.id, Booking.state, SessionRow.starts_at, SessionRow.ends_at)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(Booking.learner_id == actor.person_id)
            )
        ).all()
        upcoming = sorted(
            (r for r in rows if r.state in ACTIVE and r.ends_at > now),
            key=lambda r: (r.starts_at, r.id),
        )
        upcoming_ids = {r.id for r in upcoming}
        past = sorted(
            (r for r in rows if r.id not in upcoming_ids),
            key=lambda r: (r.starts_at, r.id),
            reverse=True,
        )[:PAST_LIMIT]
        views = await booking_views(
            s, [r.id for r in upcoming] + [r.id for r in past], now=now, with_history=False
        )
        by_id = {v.id: v for v in views}
        return MyBookings(
            upcoming=[by_id[r.id] for r in upcoming if r.id in by_id],
            past=[by_id[r.id] for r in past if r.id in by_id],
        )
