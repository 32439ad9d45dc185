"""Helpers for the webhook tests: endpoints on a loopback receiver, a booking, a delivery run."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from booking import bookings, webhooks
from booking.bookings import BookingRequest
from booking.config import Settings
from tests import support

# Loopback receivers need the setting; production refuses them.
LOOPBACK = replace(Settings(), webhooks_allow_private=True)


async def add_endpoint(
    world: support.World, url: str, types: list[str] | None = None, **kw: Any
) -> webhooks.NewWebhook:
    return await webhooks.create_webhook(
        world.db,
        world.clock,
        world.admin,
        webhooks.WebhookInput(url=url, event_types=types or [], **kw),
        allow_private=True,
    )


async def book(world: support.World, session_id: int, email: str = "lee@example.org") -> int:
    outcome = await bookings.book_place(
        world.db, world.clock, world.admin, BookingRequest(session_id, learner_email=email)
    )
    return outcome.booking.id


async def deliver(world: support.World, settings: Settings = LOOPBACK) -> webhooks.WebhookReport:
    return await webhooks.deliver_webhooks(world.db, world.clock, settings)
