"""Stripe webhooks: verify the signature on the raw body, process each event once, and act on
the PaymentIntent as Stripe reports it now (re-fetched), never on the payload's copy of it.

The event id is stored in the same transaction as the change the event caused, so an event is
applied exactly once even when Stripe delivers it twice at the same moment (the second insert
of the same id fails and that transaction changes nothing). Because each event only triggers a
re-read of the intent, events arriving out of order converge on the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from billing import services
from billing.models import StripeEvent
from billing.services import BillingListener, PaymentGateway, Transaction

log = logging.getLogger(__name__)

# Events that may change a payment; anything else is acknowledged and recorded.
HANDLED_PREFIXES = ("payment_intent.", "charge.")


@dataclass(frozen=True, slots=True)
class WebhookResult:
    event_id: str
    outcome: str
    duplicate: bool = False


async def process(
    payload: bytes,
    signature: str | None,
    *,
    secret: str,
    gateway: PaymentGateway,
    transaction: Transaction,
    listener: BillingListener,
    now: Callable[[], datetime],
) -> WebhookResult:
    """Raises `services.SignatureError` (answer 400) when the signature does not verify, and
    `services.GatewayError` (answer 5xx: Stripe retries) when the intent cannot be re-fetched."""
    event = gateway.verify_event(payload, signature, secret)
    async with transaction() as s:
        if await s.get(StripeEvent, event.id) is not None:
            return WebhookResult(event.id, "already processed", duplicate=True)
    intent = None
    if event.type.startswith(HANDLED_PREFIXES) and event.payment_intent_id:
        intent = await gateway.retrieve_intent(event.payment_intent_id)
    try:
        async with transaction() as s:
            if await s.get(StripeEvent, event.id) is not None:
                return WebhookResult(event.id, "already processed", duplicate=True)
            moment = now()
            outcome = (
                await services.apply_intent(s, intent, listener=listener, now=moment)
                if intent is not None
                else "ignored"
            )
            s.add(
                StripeEvent(event_id=event.id, type=event.type, received_at=moment, outcome=outcome)
            )
            await s.flush()
    except IntegrityError:
        # The same event, delivered twice at once, was stored by the other delivery first.
        return WebhookResult(event.id, "already processed", duplicate=True)
    log.info("stripe event %s (%s): %s", event.id, event.type, outcome)
    return WebhookResult(event.id, outcome)


async def processed(transaction: Transaction, event_id: str) -> str | None:
    async with transaction() as s:
        return await s.scalar(select(StripeEvent.outcome).where(StripeEvent.event_id == event_id))
