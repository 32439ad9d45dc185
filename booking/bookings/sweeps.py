"""The worker's sweeps over bookings: offers past their hold time, and waiting lists that close
when their session starts. Computed from the database at each tick, so two workers (or a
restarted one) are harmless."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from booking.clock import Clock
from booking.db import Database
from booking.domain.states import IN_LINE, BookingState
from booking.kernel import tx
from booking.kernel.actors import Actor
from booking.kernel.locks import lock_bookings, lock_session
from booking.models import Booking
from booking.models import Session as SessionRow
from booking.seats import withdraw_place

# Which bookings a sweep withdraws, as of `now`.
Due = Callable[[datetime], ColumnElement[bool]]


async def expire_offers(db: Database, clock: Clock) -> int:
    """Withdraw offers past their hold time; each freed seat goes to the next in line."""
    return await _sweep(
        db,
        clock,
        due=_offers_expired,
        reason="The offer expired",
        notify="booking.offer_expired",
    )


async def close_started_waitlists(db: Database, clock: Clock) -> int:
    """At a session's start its waiting list closes; those left in line are told."""
    return await _sweep(
        db,
        clock,
        due=_in_line_at_started_sessions,
        reason="The session has started and its waiting list is closed",
        notify="booking.waitlist_closed",
    )


def _offers_expired(now: datetime) -> ColumnElement[bool]:
    return and_(Booking.state == BookingState.OFFERED, Booking.offer_expires_at <= now)


def _in_line_at_started_sessions(now: datetime) -> ColumnElement[bool]:
    return and_(
        Booking.state.in_(IN_LINE),
        Booking.session_id.in_(select(SessionRow.id).where(SessionRow.starts_at <= now)),
    )


async def _sweep(db: Database, clock: Clock, *, due: Due, reason: str, notify: str) -> int:
    """Cancel the bookings `due(now)` selects, one session per transaction, under its lock.

    The condition is applied again after the locks are taken, so a booking accepted meanwhile,
    or already handled by another worker, is left alone."""
    async with db.reading() as s:
        session_ids = (
            await s.scalars(select(Booking.session_id).where(due(clock.now())).distinct())
        ).all()
    done = 0
    for session_id in sorted(session_ids):
        work = partial(
            _withdraw_due, clock=clock, session_id=session_id, due=due, reason=reason, notify=notify
        )
        done += await tx.run(db, work)
    return done


async def _withdraw_due(
    s: AsyncSession, *, clock: Clock, session_id: int, due: Due, reason: str, notify: str
) -> int:
    now = clock.now()
    session = await lock_session(s, session_id)
    assert session is not None
    bookings = await lock_bookings(s, Booking.session_id == session_id, due(now))
    for booking in bookings:
        await withdraw_place(
            s,
            booking,
            session,
            actor=Actor.system(),
            now=now,
            reason=reason,
            details=None,
            notify=notify,
        )
    return len(bookings)
