"""Billing's configuration as booking reads it from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from billing import services as billing
from billing.domain.cost_codes import parse_year_start
from booking.config import Settings


@dataclass(frozen=True, slots=True)
class BillingConfig:
    gateway: billing.PaymentGateway | None
    webhook_secret: str | None
    publishable_key: str | None
    hold: timedelta
    year_start: tuple[int, int]
    cost_code_pattern: str

    @property
    def card_payments(self) -> bool:
        return self.gateway is not None


def billing_config(settings: Settings) -> BillingConfig:
    gateway: billing.PaymentGateway | None = None
    if settings.stripe_api_key:
        # Imported only when card payments are configured: it loads the Stripe SDK (not a cycle).
        from billing.stripe_gateway import StripeGateway

        gateway = StripeGateway(settings.stripe_api_key, api_base=settings.stripe_api_base)
    return BillingConfig(
        gateway=gateway,
        webhook_secret=settings.stripe_webhook_secret,
        publishable_key=settings.stripe_publishable_key,
        hold=timedelta(minutes=settings.payment_hold_minutes),
        year_start=parse_year_start(settings.financial_year_start),
        cost_code_pattern=settings.cost_code_pattern,
    )
