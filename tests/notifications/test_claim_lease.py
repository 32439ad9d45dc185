"""A worker holds what it claimed under a short lease that its heartbeat renews while it lives.

Killed mid-delivery (no release, no more renewals), its rows go to a fresh worker once the short
lease (30 s) has passed, not minutes later; alive but slow, it keeps them however long a send
takes, and nothing is sent twice. The clock is the tests' fixed clock, moved by hand; the
heartbeat's own cadence is shortened so the test can wait for it rather than for time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from booking import bookings, notifications, records
from booking.bookings import BookingRequest
from booking.config import ConfigError, Settings
from booking.db import Database
from booking.kernel import claims
from booking.mailer import SmtpMailer
from booking.models import Outbox
from tests import support
from tests.notifications.conftest import Inbox

SHORT_LEASE = timedelta(seconds=30)


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the worker catches it, as when the process is killed."""


class SendThenDie:
    def __init__(self, inner: SmtpMailer) -> None:
        self.inner = inner

    async def send(self, message: EmailMessage) -> None:
        await self.inner.send(message)
        raise WorkerKilled


async def _book_lee(world: support.World) -> None:
    session_id = await support.make_session(world)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))


async def _row(db: Database) -> Outbox:
    async with db.reading() as s:
        [row] = (await s.scalars(select(Outbox))).all()
        return row


def _message_ids(inbox: Inbox) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in inbox.messages())


def test_the_default_lease_is_short() -> None:
    assert Settings().worker_claim_lease == SHORT_LEASE.total_seconds()
    assert notifications.CLAIM_LEASE == SHORT_LEASE


async def test_a_killed_workers_claims_go_to_a_fresh_worker_within_the_short_lease(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await _book_lee(world)
    clock = world.clock

    with pytest.raises(WorkerKilled):
        await notifications.deliver_due(world.db, clock, settings, SendThenDie(mailer))
    dead = await _row(world.db)
    assert dead.claim_token is not None and dead.sent_at is None
    assert dead.claimed_until == clock.now() + SHORT_LEASE

    # Within the lease a fresh worker leaves the row alone (its owner might still be alive) ...
    clock.advance(SHORT_LEASE - timedelta(seconds=1))
    assert (await notifications.deliver_due(world.db, clock, settings, mailer)).claimed == 0
    # ... and just after it, nobody renews a lapsed claim, not even its owner's token ...
    clock.advance(timedelta(seconds=2))
    assert await claims.renew(world.db, clock, dead.claim_token, SHORT_LEASE) == 0
    # ... so the fresh worker sends it, 31 seconds after the kill rather than five minutes.
    report = await notifications.deliver_due(world.db, clock, settings, mailer)
    assert (report.claimed, report.sent) == (1, 1)
    row = await _row(world.db)
    assert row.status == "sent" and row.claim_token is None
    # The dead worker's send and the fresh worker's: one Message-ID, as before.
    assert list(_message_ids(inbox).values()) == [2]


async def test_a_live_workers_long_delivery_is_not_taken_from_it(
    world: support.World,
    settings: Settings,
    mailer: SmtpMailer,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _book_lee(world)
    clock = world.clock
    others: list[notifications.DeliveryReport] = []
    renewals: asyncio.Queue[int] = asyncio.Queue()
    renew = claims.renew

    async def observed_renew(*args: Any, **kwargs: Any) -> int:
        renewed = await renew(*args, **kwargs)
        renewals.put_nowait(renewed)
        return renewed

    monkeypatch.setattr(claims, "renew", observed_renew)

    async def renewed_for_now() -> None:
        # The heartbeat renews to exactly a lease from the fixed clock's present: wait for
        # heartbeats until one has (one already under way may have read the clock before it
        # was moved).
        while (await _row(world.db)).claimed_until != clock.now() + SHORT_LEASE:
            await renewals.get()

    class VerySlow:
        """One send that lasts six minutes by the clock: longer than the short lease many times
        over, and longer than the old five-minute lease."""

        async def send(self, message: EmailMessage) -> None:
            for _ in range(18):
                clock.advance(SHORT_LEASE - timedelta(seconds=10))
                await asyncio.wait_for(renewed_for_now(), timeout=30)
                # Meanwhile another worker looks for due mail and finds this row held.
                others.append(await notifications.deliver_due(world.db, clock, settings, mailer))
            await mailer.send(message)

    report = await notifications.deliver_due(
        world.db, clock, settings, VerySlow(), heartbeat_every=0.02
    )
    assert (report.claimed, report.sent, report.lapsed) == (1, 1, 0)
    assert [o.claimed for o in others] == [0] * 18
    row = await _row(world.db)
    assert row.status == "sent" and row.attempts == 1 and row.claim_token is None
    assert set(_message_ids(inbox).values()) == {1}

    # After success it is never sent again, however much later workers look.
    clock.advance(timedelta(hours=1))
    assert (await notifications.deliver_due(world.db, clock, settings, mailer)).claimed == 0
    assert len(inbox.all()) == 1


async def test_xapi_statements_share_the_short_renewed_lease(world: support.World) -> None:
    """The LRS channel claims through the same mechanism: a worker killed mid-PUT holds its
    statements for the short lease only."""
    settings = replace(world.db.settings, lrs_url="http://lrs.invalid")
    clock = world.clock
    await _book_lee(world)
    clock.advance(records.HISTORY_SETTLE + timedelta(minutes=1))
    await records.queue_xapi_statements(world.db, clock, settings)

    def dies(request: httpx.Request) -> httpx.Response:
        raise WorkerKilled

    with pytest.raises(WorkerKilled):
        await records.deliver_xapi(world.db, clock, settings, transport=httpx.MockTransport(dies))
    async with world.db.reading() as s:
        held = (await s.scalars(select(Outbox).where(Outbox.channel == "xapi"))).all()
    assert held and all(r.claimed_until == clock.now() + SHORT_LEASE for r in held)

    put: list[str] = []

    def stores(request: httpx.Request) -> httpx.Response:
        put.append(request.url.params["statementId"])
        return httpx.Response(204)

    clock.advance(SHORT_LEASE + timedelta(seconds=1))
    report = await records.deliver_xapi(
        world.db, clock, settings, transport=httpx.MockTransport(stores)
    )
    assert report.sent == len(held) == len(put)


def test_the_lease_is_read_from_the_environment() -> None:
    assert Settings.from_env({"BOOKING_WORKER_CLAIM_LEASE": "45"}).worker_claim_lease == 45
    with pytest.raises(ConfigError):
        Settings.from_env({"BOOKING_WORKER_CLAIM_LEASE": "1"})
