"""Promotion happens in the transaction that frees the seat, in FIFO order, even when many
cancellations race (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from booking import bookings
from booking.bookings import BookingRequest
from booking.clock import FixedClock
from booking.db import Database
from booking.models import Booking
from booking.models import Session as SessionRow
from tests import support

pytestmark = pytest.mark.postgres


async def test_concurrent_cancellations_promote_first_in_line(
    pg_only_url: str, clock: FixedClock
) -> None:
    db = Database(support.settings_for(pg_only_url, db_pool_size=20))
    try:
        world = await support.make_world(db, clock)
        session_id = await support.make_session(world, capacity=10)
        emails = await support.make_learners(world, 40)
        actors = [await support.actor(db, e) for e in emails]
        placed = [
            (await bookings.book_place(db, clock, a, BookingRequest(session_id))).booking
            for a in actors
        ]
        booked = [b for b in placed if b.state == "booked"]
        waiting = [b for b in placed if b.state == "waitlisted"]
        assert len(booked) == 10 and len(waiting) == 30

        # Watch the session from outside while ten cancellations race: a committed state with a
        # free seat and people still waiting would mean promotion ran in a later transaction.
        stop = asyncio.Event()
        snapshots: list[tuple[int, int]] = []

        async def watch() -> None:
            while not stop.is_set():
                async with db.reading() as s:
                    held = (await s.get_one(SessionRow, session_id)).seats_held
                    booked_now = await s.scalar(
                        select(func.count()).where(
                            Booking.session_id == session_id, Booking.state == "booked"
                        )
                    )
                    snapshots.append((held, booked_now or 0))
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        await asyncio.gather(
            *[
                bookings.cancel_booking(db, clock, actors[placed.index(b)], b.id, reason="Illness")
                for b in booked
            ]
        )
        stop.set()
        await watcher

        assert snapshots, "the watcher saw nothing"
        assert all(snapshot == (10, 10) for snapshot in snapshots), set(snapshots)
        async with db.reading() as s:
            now_booked = set(
                (
                    await s.scalars(
                        select(Booking.id).where(
                            Booking.session_id == session_id, Booking.state == "booked"
                        )
                    )
                ).all()
            )
        assert now_booked == {b.id for b in waiting[:10]}
    finally:
        await db.dispose()
