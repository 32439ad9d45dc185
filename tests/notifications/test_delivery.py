"""Delivery is at least once and effectively once, against a real SMTP server.

A worker claims due rows, sends, and marks each row sent only while it still holds the claim. A
worker that fails (or dies) between sending and marking leaves the row to be sent again with the
same Message-ID; SMTP being down only delays rows; after success nothing is sent twice; after the
last attempt a row is `failed` until an administrator queues it again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from booking import bookings, jobs, notifications
from booking.bookings import BookingRequest
from booking.clock import FixedClock
from booking.config import Settings
from booking.db import Database
from booking.kernel import claims
from booking.kernel.errors import ForbiddenError
from booking.kernel.outbox import queue_email
from booking.mailer import SmtpMailer
from booking.models import Outbox, Person
from tests import support
from tests.notifications.conftest import Inbox, SmtpServer, free_port


async def _book(world: support.World, session_id: int, *emails: str) -> None:
    for email in emails:
        learner = await support.actor(world.db, email)
        await bookings.book_place(world.db, world.clock, learner, BookingRequest(session_id))


async def _rows(db: Database) -> list[Outbox]:
    async with db.reading() as s:
        return list(await s.scalars(select(Outbox).order_by(Outbox.id)))


def _message_ids(inbox: Inbox) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in inbox.messages())


class SendThenFail:
    """Really sends, then fails before the row can be marked: a crash between send and mark."""

    def __init__(self, inner: SmtpMailer) -> None:
        self.inner = inner

    async def send(self, message: EmailMessage) -> None:
        await self.inner.send(message)
        raise RuntimeError("worker crashed after sending")


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the worker catches it, as when the process is killed."""


class SendThenDie:
    def __init__(self, inner: SmtpMailer) -> None:
        self.inner = inner

    async def send(self, message: EmailMessage) -> None:
        await self.inner.send(message)
        raise WorkerKilled


class Refusing:
    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: EmailMessage) -> None:
        self.calls += 1
        raise ConnectionRefusedError("SMTP server unreachable")


async def test_failure_between_send_and_mark_resends_with_the_same_message_id(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    await _book(world, session_id, "lee@example.org")

    report = await notifications.deliver_due(world.db, world.clock, settings, SendThenFail(mailer))
    assert (report.claimed, report.sent, report.failed) == (1, 0, 1)
    [row] = await _rows(world.db)
    assert (row.status, row.sent_at, row.attempts) == ("pending", None, 1)
    assert row.last_error is not None and "worker crashed after sending" in row.last_error
    assert len(inbox.all()) == 1

    # Not before the backoff has passed.
    assert (await notifications.deliver_due(world.db, world.clock, settings, mailer)).claimed == 0
    world.clock.advance(claims.backoff(1) + timedelta(seconds=1))
    report = await notifications.deliver_due(world.db, world.clock, settings, mailer)
    assert (report.sent, report.failed) == (1, 0)

    ids = _message_ids(inbox)
    assert len(ids) == 1 and list(ids.values()) == [2]  # two copies, one Message-ID
    [row] = await _rows(world.db)
    assert row.status == "sent" and row.sent_at == world.clock.now() and row.last_error is None

    world.clock.advance(timedelta(hours=2))
    again = await notifications.deliver_due(world.db, world.clock, settings, mailer)
    assert (again.claimed, again.sent) == (0, 0)
    assert len(inbox.all()) == 2


async def test_killed_worker_leaves_its_claim_to_lapse_then_the_row_goes_again(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    await _book(world, session_id, "lee@example.org")

    with pytest.raises(WorkerKilled):
        await notifications.deliver_due(world.db, world.clock, settings, SendThenDie(mailer))
    [row] = await _rows(world.db)
    assert row.status == "pending" and row.claim_token is not None
    assert row.claimed_until == world.clock.now() + notifications.CLAIM_LEASE

    # Another worker leaves a claimed row alone until the lease lapses...
    world.clock.advance(notifications.CLAIM_LEASE - timedelta(seconds=1))
    assert (await notifications.deliver_due(world.db, world.clock, settings, mailer)).claimed == 0
    # ... then sends it again, with the same Message-ID.
    world.clock.advance(timedelta(seconds=2))
    assert (await notifications.deliver_due(world.db, world.clock, settings, mailer)).sent == 1
    ids = _message_ids(inbox)
    assert list(ids.values()) == [2]
    [row] = await _rows(world.db)
    assert row.status == "sent" and row.claim_token is None


async def test_slow_worker_cannot_mark_a_row_another_worker_has_since_claimed(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    await _book(world, session_id, "lee@example.org")
    clock = world.clock
    second: list[notifications.DeliveryReport] = []

    class Slow:
        async def send(self, message: EmailMessage) -> None:
            # While this worker is stuck, its lease lapses and another worker delivers the row.
            clock.advance(notifications.CLAIM_LEASE + timedelta(seconds=1))
            second.append(await notifications.deliver_due(world.db, clock, settings, mailer))
            await mailer.send(message)

    first = await notifications.deliver_due(world.db, clock, settings, Slow())
    assert (first.claimed, first.sent, first.failed) == (1, 0, 0)
    assert (second[0].claimed, second[0].sent) == (1, 1)
    [row] = await _rows(world.db)
    assert row.status == "sent" and row.attempts == 2
    assert list(_message_ids(inbox).values()) == [2]


async def test_worker_whose_lease_lapses_mid_batch_leaves_the_rest_to_others(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    await _book(world, session_id, "lee@example.org", "kim@example.org")
    clock = world.clock

    class Stalling:
        """The first send takes longer than the whole lease (a very slow SMTP server)."""

        async def send(self, message: EmailMessage) -> None:
            clock.advance(notifications.CLAIM_LEASE + timedelta(seconds=1))
            await mailer.send(message)

    first = await notifications.deliver_due(world.db, clock, settings, Stalling())
    assert (first.claimed, first.sent, first.lapsed) == (2, 1, 1)
    second = await notifications.deliver_due(world.db, clock, settings, mailer)
    assert (second.claimed, second.sent) == (1, 1)
    assert sorted(r.rcpt_tos[0] for r in inbox.all()) == ["kim@example.org", "lee@example.org"]
    assert set(_message_ids(inbox).values()) == {1}


async def test_smtp_down_rows_wait_and_go_out_when_it_returns(
    world: support.World, clock: FixedClock, settings: Settings, inbox: Inbox
) -> None:
    session_id = await support.make_session(world, facilitators=["trainer@example.org"])
    await _book(world, session_id, "lee@example.org", "kim@example.org")
    queued = await _rows(world.db)
    assert len(queued) == 4  # two learners, and the trainer told of each

    down = SmtpMailer(
        support.settings_for(settings.database_url, smtp_host="127.0.0.1", smtp_port=free_port())
    )
    report = await notifications.deliver_due(world.db, clock, settings, down)
    assert (report.claimed, report.sent, report.failed) == (4, 0, 4)
    for row in await _rows(world.db):
        assert row.status == "pending" and row.sent_at is None and row.attempts == 1
        assert row.last_error and row.available_at > clock.now()
    assert inbox.all() == []

    # Still down a while later: a second attempt, a longer wait.
    clock.advance(timedelta(minutes=1))
    report = await notifications.deliver_due(world.db, clock, settings, down)
    assert report.failed == 4
    for row in await _rows(world.db):
        assert row.attempts == 2
        assert row.available_at == clock.now() + claims.backoff(2)

    # Back up: everything goes, once.
    up = SmtpMailer(settings)
    clock.advance(claims.backoff(2))
    report = await notifications.deliver_due(world.db, clock, settings, up)
    assert (report.sent, report.failed) == (4, 0)
    assert sorted(r.rcpt_tos[0] for r in inbox.all()) == [
        "kim@example.org",
        "lee@example.org",
        "trainer@example.org",
        "trainer@example.org",
    ]
    assert set(_message_ids(inbox).values()) == {1}
    assert all(r.status == "sent" for r in await _rows(world.db))


async def test_after_success_repeated_ticks_send_nothing_twice(
    world: support.World, clock: FixedClock, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world, capacity=1)
    await _book(world, session_id, "lee@example.org", "kim@example.org")

    first = await jobs.tick(world.db, clock, settings, mailer)
    assert (first.sent, first.send_failures) == (2, 0)
    for _ in range(3):
        clock.advance(notifications.CLAIM_LEASE + timedelta(minutes=1))
        report = await jobs.tick(world.db, clock, settings, mailer)
        assert (report.sent, report.send_failures) == (0, 0)
    assert len(inbox.all()) == 2
    assert set(_message_ids(inbox).values()) == {1}
    assert [r.status for r in await _rows(world.db)] == ["sent", "sent"]


async def test_row_fails_after_max_attempts_and_an_admin_can_requeue_it(
    world: support.World, clock: FixedClock, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    await _book(world, session_id, "lee@example.org")
    refusing = Refusing()

    for attempt in range(1, notifications.MAX_ATTEMPTS + 1):
        report = await notifications.deliver_due(world.db, clock, settings, refusing)
        assert report.failed == 1, attempt
        [row] = await _rows(world.db)
        assert row.attempts == attempt
        assert row.status == ("failed" if attempt == notifications.MAX_ATTEMPTS else "pending")
        clock.advance(timedelta(hours=2))
    assert refusing.calls == notifications.MAX_ATTEMPTS
    [row] = await _rows(world.db)
    assert row.last_error == "ConnectionRefusedError: SMTP server unreachable"

    # Failed rows are left alone by the worker...
    assert (await notifications.deliver_due(world.db, clock, settings, mailer)).claimed == 0
    failed = await notifications.list_outbox(world.db, world.admin, status="failed")
    assert [item.id for item in failed] == [row.id]

    # ... until an administrator (and only an administrator) queues them again.
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(ForbiddenError):
        await notifications.requeue(world.db, clock, lee, row.id)
    await notifications.requeue(world.db, clock, world.admin, row.id)
    [row] = await _rows(world.db)
    assert (row.status, row.attempts) == ("pending", 0)

    report = await notifications.deliver_due(world.db, clock, settings, mailer)
    assert report.sent == 1
    assert [r.rcpt_tos for r in inbox.all()] == [["lee@example.org"]]
    [row] = await _rows(world.db)
    assert row.status == "sent"


async def _queue_new_session_notices(
    db: Database, clock: FixedClock, session_id: int, emails: list[str]
) -> None:
    """One outbox row per learner, queued in one transaction (as a use case would)."""
    async with db.transaction() as s:
        ids = (await s.execute(select(Person.id).where(Person.email.in_(emails)))).scalars()
        for person_id in ids:
            await queue_email(
                s,
                topic="course.new_session",
                recipient_id=person_id,
                booking_id=None,
                session_id=session_id,
                now=clock.now(),
                dedupe_key=f"test:{session_id}:{person_id}",
                payload={"session_id": session_id},
            )


@pytest.mark.postgres
async def test_two_workers_on_postgresql_send_each_message_once(
    pg_only_url: str, smtp_server: SmtpServer, inbox: Inbox
) -> None:
    clock = FixedClock(support.T0)
    settings = support.settings_for(
        pg_only_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from="training@example.org",
        base_url="https://training.example.org",
    )
    setup = Database(settings)
    workers = [Database(settings), Database(settings)]
    try:
        world = await support.make_world(setup, clock)
        session_id = await support.make_session(world, capacity=30)
        emails = await support.make_learners(world, 30)
        await _queue_new_session_notices(setup, clock, session_id, emails)
        assert len(await _rows(setup)) == 30

        mailer = SmtpMailer(settings)

        class Paced:
            async def send(self, message: EmailMessage) -> None:
                await asyncio.sleep(0.005)  # let the other worker in between sends
                await mailer.send(message)

        async def work(db: Database) -> int:
            sent = 0
            while True:
                report = await notifications.deliver_due(db, clock, settings, Paced(), limit=4)
                assert report.failed == 0
                if report.claimed == 0:
                    return sent
                sent += report.sent

        counts = await asyncio.gather(*(work(db) for db in workers))
        assert sum(counts) == 30
        assert all(n > 0 for n in counts), counts  # both workers really took part
        ids = _message_ids(inbox)
        assert len(ids) == 30 and set(ids.values()) == {1}
        assert sorted(r.rcpt_tos[0] for r in inbox.all()) == sorted(emails)
        assert {r.status for r in await _rows(setup)} == {"sent"}
    finally:
        for db in (setup, *workers):
            await db.dispose()


@pytest.mark.postgres
async def test_claim_skips_rows_another_worker_has_locked(
    pg_only_url: str, smtp_server: SmtpServer, inbox: Inbox
) -> None:
    """FOR UPDATE SKIP LOCKED: a worker does not wait for (or take) rows held by another."""
    clock = FixedClock(support.T0)
    settings = support.settings_for(
        pg_only_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from="training@example.org",
    )
    db = Database(settings)
    try:
        world = await support.make_world(db, clock)
        session_id = await support.make_session(world, capacity=5)
        emails = await support.make_learners(world, 4)
        await _queue_new_session_notices(db, clock, session_id, emails)
        rows = await _rows(db)
        held = [r.id for r in rows[:2]]
        async with db.transaction() as s:
            # Another worker's claim transaction, still open, holds the first two rows.
            await s.execute(select(Outbox.id).where(Outbox.id.in_(held)).with_for_update())
            report = await asyncio.wait_for(
                notifications.deliver_due(db, clock, settings, SmtpMailer(settings)), timeout=10
            )
        assert (report.claimed, report.sent) == (2, 2)
        got = sorted(r.rcpt_tos[0] for r in inbox.all())
        assert got == sorted(emails[2:])
    finally:
        await db.dispose()
