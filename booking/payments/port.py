"""The port billing's pages use (billing/web.py): what only booking knows, behind one object."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from billing import webhooks
from booking import policy
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel.actors import Actor
from booking.payments.cards import PaymentPage, payment_page, stripe_webhook
from booking.payments.config import BillingConfig, billing_config
from booking.payments.cost_codes import add_cost_code, load_cost_codes
from booking.payments.spend import SpendRequest, committed_by_code, spend_requests


class BookingBillingPort:
    def __init__(self, config: BillingConfig) -> None:
        self.config = config
        self.year_start = config.year_start
        self.cost_code_pattern = config.cost_code_pattern

    def can_manage_billing(self, actor: Actor) -> bool:
        return policy.can_manage_billing(actor)

    def can_see_spending(self, actor: Actor) -> bool:
        return policy.can_see_spending(actor)

    def sees_all_spending(self, actor: Actor) -> bool:
        return policy.sees_all_spending(actor)

    async def spend_requests(self, db: Database, clock: Clock, actor: Actor) -> list[SpendRequest]:
        return await spend_requests(db, clock, actor, self.config)

    async def committed(self, s: AsyncSession, cost_codes: Sequence[str]) -> dict[str, int]:
        return await committed_by_code(s, cost_codes)

    async def payment_page(
        self, db: Database, clock: Clock, actor: Actor, booking_id: int
    ) -> PaymentPage:
        return await payment_page(db, clock, actor, self.config, booking_id)

    async def stripe_webhook(
        self, db: Database, clock: Clock, payload: bytes, signature: str | None
    ) -> webhooks.WebhookResult:
        return await stripe_webhook(db, clock, self.config, payload, signature)

    async def create_cost_code(
        self, db: Database, clock: Clock, actor: Actor, data: billing.CostCodeInput
    ) -> billing.CostCodeView:
        return await add_cost_code(db, clock, actor, self.config, data)

    async def import_cost_codes(
        self, db: Database, clock: Clock, actor: Actor, text: str
    ) -> list[billing.ImportResult]:
        return await load_cost_codes(db, clock, actor, self.config, text)


def port(settings: Settings) -> BookingBillingPort:
    return BookingBillingPort(billing_config(settings))
