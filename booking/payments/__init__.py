"""Payments, cost codes and fees: what a booking costs, who pays, and the finance journal.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from billing import services as billing
from booking.payments.bridge import reference
from booking.payments.cards import PaymentPage, open_card_payment, payment_page
from booking.payments.config import BillingConfig, billing_config
from booking.payments.cost_codes import (
    budget_holder_id,
    check_cost_code,
    cost_code_spend,
    create_cost_code,
    import_cost_codes,
)
from booking.payments.fees import fees_for, on_attendance, settle_cancellation, waive_fee
from booking.payments.journal import journal_csv
from booking.payments.port import port
from booking.payments.prices import (
    booking_price,
    discount_needs_units,
    fee_can_arise,
    price_for,
)
from booking.payments.quotes import (
    PolicyTier,
    QuoteView,
    cancellation_quote,
    cancellation_terms,
    policy_terms,
    quote_for_booking,
    quote_from_rows,
    quotes_for_bookings,
)
from booking.payments.spend import spend_note, spend_requests
from booking.payments.sweeps import run_sweeps

__all__ = [
    "BillingConfig",
    "PaymentPage",
    "PolicyTier",
    "QuoteView",
    "billing",
    "billing_config",
    "budget_holder_id",
    "cancellation_quote",
    "cancellation_terms",
    "policy_terms",
    "check_cost_code",
    "cost_code_spend",
    "create_cost_code",
    "booking_price",
    "discount_needs_units",
    "fee_can_arise",
    "price_for",
    "fees_for",
    "import_cost_codes",
    "journal_csv",
    "on_attendance",
    "open_card_payment",
    "payment_page",
    "port",
    "quote_for_booking",
    "quote_from_rows",
    "quotes_for_bookings",
    "reference",
    "run_sweeps",
    "settle_cancellation",
    "spend_note",
    "spend_requests",
    "waive_fee",
]
