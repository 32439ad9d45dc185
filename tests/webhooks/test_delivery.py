"""Webhook delivery to a real HTTP receiver on loopback, on SQLite and PostgreSQL: signed as
Standard Webhooks says (checked by the `standardwebhooks` package, not by our code), retried
until a 2xx and never after it, only to active, unpaused, subscribed endpoints; paused after
repeated failures, and sent again on request."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from booking import catalogue, jobs, webhooks
from booking.config import Settings
from booking.models import AuditEvent, Outbox, WebhookEndpoint
from tests import support
from tests.webhooks.helpers import LOOPBACK, add_endpoint, book, deliver
from tests.webhooks.receiver import running_receiver


async def test_a_booking_event_reaches_a_real_receiver_signed_as_standard_webhooks_says(
    world: support.World,
) -> None:
    # Real time: the independent verifier refuses timestamps more than five minutes off.
    world.clock.set(datetime.now(UTC))
    with running_receiver() as receiver:
        made = await add_endpoint(world, receiver.url)
        session_id = await support.make_session(world)
        booking_id = await book(world, session_id)
        report = await deliver(world)
    assert (report.delivered, report.failed) == (2, 0)
    created, changed = receiver.received
    verifier = Webhook(made.secret)
    for request in (created, changed):
        verifier.verify(request.body, request.headers)
        assert request.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        verifier.verify(created.body.replace(b"booked", b"cancelled"), created.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.signing.new_secret()).verify(created.body, created.headers)
    event = json.loads(created.body)
    assert event["type"] == "booking.created"
    assert event["id"] == created.headers["webhook-id"]
    assert datetime.fromisoformat(event["created_at"]) == world.clock.now()
    data = event["data"]
    assert data["booking_id"] == booking_id
    assert data["session_id"] == session_id
    assert data["course_code"] == "SAFE-1"
    assert data["learner"]["email"] == "lee@example.org"
    assert (data["from_state"], data["to_state"]) == (None, "booked")
    moved = json.loads(changed.body)
    assert moved["type"] == "booking.state_changed" and moved["id"] != event["id"]


async def test_a_receiver_that_fails_twice_gets_the_event_once_and_then_nothing_more(
    world: support.World,
) -> None:
    with running_receiver(500, 503) as receiver:
        made = await add_endpoint(world, receiver.url, ["booking.created"])
        await book(world, await support.make_session(world))
        for _ in range(6):
            await deliver(world)
            world.clock.advance(timedelta(hours=2))
    assert [r.status for r in receiver.received] == [500, 503, 200]
    assert len(set(receiver.ids())) == 1
    log, _ = await webhooks.list_deliveries(world.db, world.admin, made.id)
    (row,) = log
    assert (row.status, row.attempts, row.last_status) == ("delivered", 3, 200)
    assert row.delivered_at is not None and row.event_id == receiver.ids()[0]
    endpoint = await webhooks.webhook(world.db, world.admin, made.id)
    assert (endpoint.status, endpoint.consecutive_failures) == ("active", 0)


async def test_only_active_unpaused_subscribed_endpoints_hear_of_an_event(
    world: support.World,
) -> None:
    with running_receiver() as receiver:
        await add_endpoint(world, receiver.url + "?bookings", ["booking.state_changed"])
        await add_endpoint(world, receiver.url + "?sessions", ["session.cancelled"])
        await add_endpoint(world, receiver.url + "?off", active=False)
        paused = await add_endpoint(world, receiver.url + "?paused")
        async with world.db.transaction() as s:
            await s.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == paused.id)
                .values(paused_at=world.clock.now(), pause_reason="test")
            )
        session_id = await support.make_session(world)
        await book(world, session_id)
        await catalogue.cancel_session(
            world.db, world.clock, world.admin, session_id, reason="Trainer ill"
        )
        await deliver(world)
    assert Counter(r.path for r in receiver.received) == {
        "/hooks?bookings": 2,
        "/hooks?sessions": 1,
    }
    states = [json.loads(r.body)["data"]["to_state"] for r in receiver.received[:2]]
    assert states == ["booked", "cancelled"]
    async with world.db.reading() as s:
        rows = await s.scalar(select(func.count()).where(Outbox.channel == "webhook"))
    assert rows == 3  # nothing was even queued for the inactive and the paused endpoints


async def test_repeated_failures_pause_the_endpoint_and_resend_delivers_again(
    world: support.World,
) -> None:
    with running_receiver(always=500) as down:
        made = await add_endpoint(world, down.url, ["booking.created"])
        await book(world, await support.make_session(world))
        for _ in range(webhooks.PAUSE_AFTER + 3):
            await deliver(world)
            world.clock.advance(timedelta(hours=2))
    assert len(down.received) == webhooks.PAUSE_AFTER  # paused: nothing more was tried
    endpoint = await webhooks.webhook(world.db, world.admin, made.id)
    assert endpoint.status == "paused"
    assert endpoint.pause_reason and "10 failed deliveries in a row" in endpoint.pause_reason
    assert "HTTP 500: receiver is down" in endpoint.pause_reason
    async with world.db.reading() as s:
        actions = (await s.scalars(select(AuditEvent.action))).all()
    assert "webhook.paused" in actions
    (waiting,), _ = await webhooks.list_deliveries(world.db, world.admin, made.id)
    assert waiting.status == "pending" and waiting.last_status == 500
    assert waiting.last_error and len(waiting.last_error) < 400  # an excerpt, not the body

    with running_receiver() as up:
        await webhooks.update_webhook(
            world.db,
            world.clock,
            world.admin,
            made.id,
            webhooks.WebhookChanges(url=up.url, active=True),
            allow_private=True,
        )
        assert (await deliver(world)).delivered == 1
        (sent,), _ = await webhooks.list_deliveries(world.db, world.admin, made.id)
        assert sent.status == "delivered"
        again = await webhooks.resend_delivery(world.db, world.clock, world.admin, made.id, sent.id)
        assert again.id != sent.id and again.status == "pending"
        assert (await deliver(world)).delivered == 1
        assert (await deliver(world)).delivered == 0
    assert len(up.received) == 2 and len(set(up.ids())) == 1  # the same event, twice


async def test_a_url_that_turned_private_is_not_called_at_delivery(world: support.World) -> None:
    with running_receiver() as receiver:
        made = await add_endpoint(world, receiver.url)
        await book(world, await support.make_session(world))
        report = await deliver(world, Settings())  # production: loopback refused
    assert receiver.received == []
    assert report.failed == 2
    log, _ = await webhooks.list_deliveries(world.db, world.admin, made.id)
    assert all(row.last_error and row.last_error.startswith("Not sent") for row in log)


async def test_the_worker_tick_delivers_webhooks(world: support.World) -> None:
    with running_receiver() as receiver:
        await add_endpoint(world, receiver.url, ["booking.created"])
        await book(world, await support.make_session(world))
        report = await jobs.tick(world.db, world.clock, LOOPBACK)
    assert (report.webhooks_delivered, report.webhook_failures) == (1, 0)
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["booking.created"]
