"""Moves racing for a small target session never overbook it (PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from booking import bookings, catalogue, roster
from booking.bookings import BookingRequest
from booking.clock import FixedClock
from booking.db import Database
from booking.kernel.errors import ConflictError
from tests import support

pytestmark = pytest.mark.postgres


async def test_concurrent_moves_fill_the_target_exactly(
    pg_only_url: str, clock: FixedClock
) -> None:
    db = Database(support.settings_for(pg_only_url, db_pool_size=12))
    try:
        world = await support.make_world(db, clock)
        source = await support.make_session(world, capacity=12)
        target = await support.make_session(
            world, capacity=3, start=clock.now() + timedelta(days=30)
        )
        emails = await support.make_learners(world, 12, prefix="mover")
        ids = []
        for email in emails:
            who = await support.actor(db, email)
            ids.append(
                (await bookings.book_place(db, clock, who, BookingRequest(source))).booking.id
            )
        results = await asyncio.gather(
            *[
                roster.move_booking(db, clock, world.admin, b, target, reason="Rebalance")
                for b in ids
            ],
            return_exceptions=True,
        )
        moved = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, ConflictError)]
        assert len(moved) == 3, results
        assert len(refused) == 9, [r for r in results if isinstance(r, BaseException)]
        after = await catalogue.get_session(db, clock, world.admin, target)
        assert (after.seats_held, after.booked) == (3, 3)
        before = await catalogue.get_session(db, clock, world.admin, source)
        assert (before.seats_held, before.booked) == (9, 9)
    finally:
        await db.dispose()
