"""Billing's public functions: cost codes, spend, the ledger, card payments, the finance export.

Functions that take an `AsyncSession` run inside the caller's transaction (booking calls them
while it holds its own locks, so a fee and the cancellation it belongs to commit together).
Functions that take a `transaction` factory own their transactions: they are called after
commit, because they talk to Stripe, which must never happen inside a transaction.

This package's public face (`from billing import services`); the modules inside are its own.
"""

from billing.services.actions import (
    ACTION_LEASE,
    ACTION_MAX_ATTEMPTS,
    Delivery,
    deliver_actions,
)
from billing.services.cost_codes import (
    IMPORT_COLUMNS,
    CostCodeInput,
    CostCodeView,
    ImportResult,
    ImportStatus,
    check_cost_code,
    create_cost_code,
    get_cost_code,
    import_cost_codes,
    list_cost_codes,
    parse_pounds,
)
from billing.services.errors import (
    BillingError,
    Conflict,
    GatewayError,
    Invalid,
    NotFound,
    SignatureError,
)
from billing.services.intents import (
    apply_intent,
)
from billing.services.journal import (
    JOURNAL_HEADER,
    journal_csv,
    journal_period,
    read_journal,
)
from billing.services.ledger import (
    FEE_KINDS,
    LedgerView,
    anything_recorded,
    fees_for,
    ledger_for,
    record,
)
from billing.services.payments import (
    PaymentView,
    cancel_open_payment,
    expired_holds,
    intent_key,
    open_card_payment,
    payment_for,
    start_intent,
    unsettled_paid_references,
)
from billing.services.ports import (
    BillingListener,
    Intent,
    Now,
    PaymentGateway,
    Transaction,
    WebhookEvent,
)
from billing.services.settlement import (
    record_attendance,
    refund_in_full,
    settle_cancellation,
    waive_fees,
)
from billing.services.spend import (
    CodeSummary,
    CommittedSpend,
    check_spend,
    dashboard,
    read_dashboard,
    spent,
)

__all__ = [
    "ACTION_LEASE",
    "ACTION_MAX_ATTEMPTS",
    "BillingError",
    "BillingListener",
    "CodeSummary",
    "CommittedSpend",
    "Conflict",
    "CostCodeInput",
    "CostCodeView",
    "Delivery",
    "FEE_KINDS",
    "GatewayError",
    "IMPORT_COLUMNS",
    "ImportResult",
    "ImportStatus",
    "Intent",
    "Invalid",
    "JOURNAL_HEADER",
    "LedgerView",
    "anything_recorded",
    "NotFound",
    "Now",
    "PaymentGateway",
    "PaymentView",
    "SignatureError",
    "Transaction",
    "WebhookEvent",
    "apply_intent",
    "cancel_open_payment",
    "check_cost_code",
    "check_spend",
    "create_cost_code",
    "dashboard",
    "deliver_actions",
    "expired_holds",
    "fees_for",
    "get_cost_code",
    "import_cost_codes",
    "intent_key",
    "journal_csv",
    "journal_period",
    "ledger_for",
    "list_cost_codes",
    "open_card_payment",
    "parse_pounds",
    "read_dashboard",
    "read_journal",
    "payment_for",
    "record",
    "record_attendance",
    "refund_in_full",
    "settle_cancellation",
    "spent",
    "start_intent",
    "unsettled_paid_references",
    "waive_fees",
]
