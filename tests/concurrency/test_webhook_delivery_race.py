"""Two workers delivering webhooks at once never send one event twice (PostgreSQL).

Each worker claims its rows under its own token with `FOR UPDATE SKIP LOCKED`, so the second
skips what the first holds. The control does what a worker without the claim would do — read
the due rows and send them — and the receiver gets events twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking import webhooks
from booking.clock import FixedClock
from booking.db import Database
from booking.models import Outbox, WebhookEndpoint
from booking.webhooks import delivery
from tests import support
from tests.webhooks.helpers import LOOPBACK, add_endpoint, book
from tests.webhooks.receiver import Receiver, running_receiver

pytestmark = pytest.mark.postgres

LEARNERS = 25


async def _queue_events(world: support.World, receiver: Receiver) -> int:
    await add_endpoint(world, receiver.url)
    session_id = await support.make_session(world, capacity=LEARNERS)
    for email in await support.make_learners(world, LEARNERS, prefix="hook"):
        await book(world, session_id, email)
    return LEARNERS * 2  # booking.created and booking.state_changed each


async def test_two_workers_deliver_each_event_once(pg_only_url: str, clock: FixedClock) -> None:
    one = Database(support.settings_for(pg_only_url, db_pool_size=5))
    two = Database(support.settings_for(pg_only_url, db_pool_size=5))
    try:
        world = await support.make_world(one, clock)
        with running_receiver() as receiver:
            events = await _queue_events(world, receiver)
            rounds = []
            for _ in range(events // 10 + 2):
                reports = await asyncio.gather(
                    webhooks.deliver_webhooks(one, clock, LOOPBACK, limit=10),
                    webhooks.deliver_webhooks(two, clock, LOOPBACK, limit=10),
                )
                rounds.append([r.delivered for r in reports])
                clock.advance(timedelta(minutes=1))
        assert rounds[0] == [10, 10]  # both at work at once, on different rows
        assert rounds[-1] == [0, 0]  # the last round found nothing due
        assert sum(map(sum, rounds)) == events
        assert all(r.failed == 0 for r in reports)
        per_event = Counter(receiver.ids())
        assert len(per_event) == events
        assert set(per_event.values()) == {1}
    finally:
        await one.dispose()
        await two.dispose()


async def _due_without_claiming(db: Database) -> list[delivery.Due]:
    """What a worker without the claim would send: every due row, read, not claimed."""
    async with db.reading() as s:
        rows = (
            await s.execute(
                select(
                    Outbox.id,
                    WebhookEndpoint.id,
                    WebhookEndpoint.url,
                    WebhookEndpoint.secret,
                    Outbox.payload,
                )
                .join(WebhookEndpoint, WebhookEndpoint.id == Outbox.webhook_endpoint_id)
                .where(Outbox.channel == "webhook", Outbox.sent_at.is_(None))
                .order_by(Outbox.id)
            )
        ).all()
    return [delivery.Due(int(a), int(b), c, d, dict(e)) for a, b, c, d, e in rows]


async def _send_unclaimed(db: Database, clock: FixedClock) -> None:
    due = await _due_without_claiming(db)
    async with delivery.httpx.AsyncClient(timeout=delivery.TIMEOUT) as client:
        for item in due:
            await delivery._deliver(db, clock, LOOPBACK, client, "no-claim", item)


async def test_control_without_the_claim_two_workers_send_events_twice(
    pg_only_url: str, clock: FixedClock
) -> None:
    one = Database(support.settings_for(pg_only_url, db_pool_size=5))
    two = Database(support.settings_for(pg_only_url, db_pool_size=5))
    try:
        world = await support.make_world(one, clock)
        with running_receiver() as receiver:
            events = await _queue_events(world, receiver)
            await asyncio.gather(_send_unclaimed(one, clock), _send_unclaimed(two, clock))
        per_event = Counter(receiver.ids())
        assert len(per_event) == events
        assert max(per_event.values()) == 2  # repeats: the claim is what prevents them
    finally:
        await one.dispose()
        await two.dispose()
