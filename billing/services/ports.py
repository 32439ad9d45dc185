"""What billing talks to without knowing it: the payment gateway (Stripe) and the listener booking
registers, and the transaction factory for the functions that own their transactions."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Now = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str
    reference: str | None
    client_secret: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    type: str
    object_type: str
    object_id: str
    payment_intent_id: str | None


class PaymentGateway(Protocol):
    async def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        reference: str,
        description: str,
        email: str,
        idempotency_key: str,
        payment_method: str | None = None,
    ) -> Intent: ...

    async def retrieve_intent(self, intent_id: str) -> Intent: ...

    async def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent: ...

    async def refund(self, intent_id: str, amount: int, *, idempotency_key: str) -> str: ...

    def verify_event(self, payload: bytes, signature: str | None, secret: str) -> WebhookEvent: ...


class BillingListener(Protocol):
    """What billing tells booking, inside billing's transaction (so booking's change and the
    stored webhook event commit together)."""

    async def lock(self, s: AsyncSession, reference: str) -> None:
        """Take booking's locks for this reference first (a fixed lock order avoids deadlocks)."""
        ...

    async def on_payment_succeeded(self, s: AsyncSession, reference: str, *, now: datetime) -> bool:
        """Book the place the payment was for; False if the booking can no longer take it
        (billing then refunds the payment in full)."""
        ...
