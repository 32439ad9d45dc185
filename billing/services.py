"""Billing's public functions: cost codes, spend, the ledger, card payments, the finance export.

Functions that take an `AsyncSession` run inside the caller's transaction (booking calls them
while it holds its own locks, so a fee and the cancellation it belongs to commit together).
Functions that take a `transaction` factory own their transactions: they are called after
commit, because they talk to Stripe, which must never happen inside a transaction.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain import cost_codes as rules
from billing.domain.cost_codes import CostCodeError, CostCodeFacts, SpendCheck, safe_cell
from billing.domain.money import DEFAULT_CURRENCY, Money
from billing.models import CostCode, LedgerEntry, Payment, PaymentAction

log = logging.getLogger(__name__)

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Now = Callable[[], datetime]

FEE_KINDS = ("cancellation_fee", "no_show_fee")
# Booking's words for attendance (billing does not import booking).
_ATTENDANCE_WORDS = {
    "attended": "attended",
    "partially_attended": "partly attended",
    "no_show": "no-show",
}
ACTION_LEASE = timedelta(minutes=2)
ACTION_MAX_ATTEMPTS = 8


# ---------------------------------------------------------------------------------------------
# Errors and ports


class BillingError(Exception):
    status = 400

    def __init__(self, message: str, *, code: str = "billing", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class NotFound(BillingError):
    status = 404


class Conflict(BillingError):
    status = 409


class Invalid(BillingError):
    status = 422


class GatewayError(Exception):
    """Stripe could not be reached or refused the call."""


class SignatureError(Exception):
    """A webhook whose signature does not verify."""


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


# ---------------------------------------------------------------------------------------------
# Cost codes


@dataclass(slots=True)
class CostCodeInput:
    code: str
    description: str
    budget_holder_email: str
    active_from: date
    active_to: date | None = None
    annual_limit: Money | None = None


@dataclass(slots=True)
class CostCodeView:
    code: str
    description: str
    budget_holder_email: str
    active_from: date
    active_to: date | None
    annual_limit: Money | None


@dataclass(slots=True)
class ImportResult:
    line: int
    code: str
    status: str  # created | updated | unchanged | error
    message: str | None = None


def _view(row: CostCode) -> CostCodeView:
    return CostCodeView(
        row.code,
        row.description,
        row.budget_holder_email,
        row.active_from,
        row.active_to,
        Money(row.annual_limit_amount, row.currency)
        if row.annual_limit_amount is not None
        else None,
    )


def _validated(data: CostCodeInput, pattern: str) -> CostCodeInput:
    try:
        code = rules.check_format(data.code, pattern)
    except CostCodeError as exc:
        raise Invalid(exc.message, code=exc.code, field="code") from exc
    description = (data.description or "").strip()
    if not description or len(description) > 300:
        raise Invalid("Give a description of up to 300 characters.", field="description")
    email = (data.budget_holder_email or "").strip().lower()
    if "@" not in email or len(email) > 320:
        raise Invalid("Give the budget holder's email address.", field="budget_holder_email")
    if data.active_to is not None and data.active_to < data.active_from:
        raise Invalid("active_to cannot be before active_from.", field="active_to")
    if data.annual_limit is not None and data.annual_limit.amount < 0:
        raise Invalid("The annual limit cannot be negative.", field="annual_limit")
    return CostCodeInput(
        code, description, email, data.active_from, data.active_to, data.annual_limit
    )


async def create_cost_code(
    s: AsyncSession, data: CostCodeInput, *, pattern: str, now: datetime
) -> CostCodeView:
    data = _validated(data, pattern)
    if await s.scalar(select(CostCode.id).where(CostCode.code == data.code)) is not None:
        raise Conflict(f"Cost code {data.code} already exists.", code="cost_code_exists")
    row = CostCode(created_at=now, updated_at=now, code=data.code)
    _apply(row, data)
    s.add(row)
    await s.flush()
    return _view(row)


def _apply(row: CostCode, data: CostCodeInput) -> bool:
    values = {
        "description": data.description,
        "budget_holder_email": data.budget_holder_email,
        "active_from": data.active_from,
        "active_to": data.active_to,
        "annual_limit_amount": data.annual_limit.amount if data.annual_limit else None,
        "currency": data.annual_limit.currency if data.annual_limit else DEFAULT_CURRENCY,
    }
    changed = any(getattr(row, k, None) != v for k, v in values.items())
    for k, v in values.items():
        setattr(row, k, v)
    return changed


IMPORT_COLUMNS = ("code", "description", "budget_holder_email", "active_from", "active_to")


async def import_cost_codes(
    s: AsyncSession, text: str, *, pattern: str, now: datetime
) -> list[ImportResult]:
    """Upsert cost codes from CSV with a header row: code, description, budget_holder_email,
    active_from, active_to (optional), annual_limit (optional, in pounds and pence) and
    currency (optional). A bad row is reported and skipped; the others are imported."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in IMPORT_COLUMNS[:4] if c not in header]
    if missing:
        raise Invalid(f"The CSV needs the columns {', '.join(missing)}.", field="file")
    results: list[ImportResult] = []
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        code = rules.normalise(row.get("code", ""))
        try:
            data = _validated(
                CostCodeInput(
                    code=row.get("code", ""),
                    description=row.get("description", ""),
                    budget_holder_email=row.get("budget_holder_email", ""),
                    active_from=_date(row.get("active_from", ""), "active_from"),
                    active_to=_date(row["active_to"], "active_to")
                    if row.get("active_to")
                    else None,
                    annual_limit=_pounds(row.get("annual_limit", ""), row.get("currency", "")),
                ),
                pattern,
            )
        except BillingError as exc:
            results.append(ImportResult(n, code, "error", exc.message))
            continue
        existing = await s.scalar(select(CostCode).where(CostCode.code == data.code))
        if existing is None:
            new = CostCode(created_at=now, updated_at=now, code=data.code)
            _apply(new, data)
            s.add(new)
            results.append(ImportResult(n, data.code, "created"))
        elif _apply(existing, data):
            existing.updated_at = now
            results.append(ImportResult(n, data.code, "updated"))
        else:
            results.append(ImportResult(n, data.code, "unchanged"))
        await s.flush()
    return results


def _date(value: str, field_name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{field_name} must be a date like 2027-04-01.", field=field_name) from None


def _pounds(value: str, currency: str) -> Money | None:
    value = value.strip().replace(",", "").lstrip("£")
    if not value:
        return None
    try:
        major, _, minor = value.partition(".")
        if len(minor) > 2 or not major.isdigit() or (minor and not minor.isdigit()):
            raise ValueError(value)
        return Money(
            int(major) * 100 + int((minor or "0").ljust(2, "0")), currency.upper() or "GBP"
        )
    except ValueError:
        raise Invalid(
            f"annual_limit “{value}” is not an amount such as 2500.00.", field="annual_limit"
        ) from None


async def list_cost_codes(
    s: AsyncSession, *, budget_holder_email: str | None = None
) -> list[CostCodeView]:
    stmt = select(CostCode).order_by(CostCode.code)
    if budget_holder_email is not None:
        stmt = stmt.where(CostCode.budget_holder_email == budget_holder_email.lower())
    return [_view(r) for r in await s.scalars(stmt)]


async def get_cost_code(s: AsyncSession, code: str) -> CostCodeView | None:
    row = await s.scalar(select(CostCode).where(CostCode.code == rules.normalise(code)))
    return _view(row) if row else None


async def check_cost_code(s: AsyncSession, code: str, *, pattern: str, today: date) -> CostCodeView:
    """The code, if it can pay today; CostCodeError (with a sentence) if not."""
    value = rules.check_format(code, pattern)
    row = await s.scalar(select(CostCode).where(CostCode.code == value))
    rules.check_active(
        CostCodeFacts(row.code, row.active_from, row.active_to) if row else None, value, today
    )
    assert row is not None
    return _view(row)


# ---------------------------------------------------------------------------------------------
# Spend


async def spent(
    s: AsyncSession, code: str, *, today: date, year_start: tuple[int, int], currency: str
) -> Money:
    """What the ledger holds against the code in the financial year containing `today`."""
    first, following = rules.financial_year(today, year_start)
    total = await s.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.cost_code == code,
            LedgerEntry.currency == currency,
            LedgerEntry.at >= _midnight(first),
            LedgerEntry.at < _midnight(following),
        )
    )
    return Money(int(total or 0), currency)


def _midnight(day: date) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def check_spend(
    s: AsyncSession,
    code: str,
    requested: Money,
    *,
    committed: int,
    today: date,
    year_start: tuple[int, int],
) -> SpendCheck:
    """Spend so far this year (the ledger) and places `committed` (approved, not yet charged)
    against the code's limit: over the limit is flagged for the budget holder, never refused."""
    row = await s.scalar(select(CostCode).where(CostCode.code == code))
    limit = (
        Money(row.annual_limit_amount, row.currency)
        if row is not None and row.annual_limit_amount is not None
        else None
    )
    charged = await spent(s, code, today=today, year_start=year_start, currency=requested.currency)
    return rules.check_spend(
        charged, requested, limit, committed=Money(committed, requested.currency)
    )


# What booking knows and billing does not: per code, the places approved and not charged yet
# (minor units). Passed in by the caller (booking's port), as billing never imports booking.
CommittedSpend = Callable[[AsyncSession, Sequence[str]], Awaitable[Mapping[str, int]]]


@dataclass(slots=True)
class CodeSummary:
    code: str
    description: str
    budget_holder_email: str
    annual_limit: Money | None
    year_start: date
    charges: Money
    fees: Money
    refunds_and_waivers: Money
    # Charged this year (the ledger: places, fees, less refunds and waivers).
    total: Money
    # Approved, not yet charged.
    committed: Money

    @property
    def check(self) -> SpendCheck:
        """The annual limit check over both charged and committed spend."""
        return rules.check_spend(
            self.total, Money(0, self.total.currency), self.annual_limit, committed=self.committed
        )

    @property
    def over_limit(self) -> bool:
        return self.check.over_limit


async def dashboard(
    s: AsyncSession,
    *,
    today: date,
    year_start: tuple[int, int],
    budget_holder_email: str | None = None,
    committed: CommittedSpend | None = None,
) -> list[CodeSummary]:
    """Spend and fees this financial year, per code (a budget holder's own codes, or all),
    and what is committed on each (from `committed`, booking's count)."""
    first, following = rules.financial_year(today, year_start)
    codes = await list_cost_codes(s, budget_holder_email=budget_holder_email)
    held: Mapping[str, int] = (
        await committed(s, [c.code for c in codes]) if committed and codes else {}
    )
    sums: dict[tuple[str, str], int] = {}
    if codes:
        for code, kind, total in await s.execute(
            select(LedgerEntry.cost_code, LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(
                LedgerEntry.cost_code.in_([c.code for c in codes]),
                LedgerEntry.at >= _midnight(first),
                LedgerEntry.at < _midnight(following),
            )
            .group_by(LedgerEntry.cost_code, LedgerEntry.kind)
        ):
            sums[(code or "", kind)] = int(total or 0)
    out = []
    for c in codes:
        currency = c.annual_limit.currency if c.annual_limit else DEFAULT_CURRENCY
        charges = sums.get((c.code, "charge"), 0)
        fees = sum(sums.get((c.code, k), 0) for k in FEE_KINDS)
        back = sum(sums.get((c.code, k), 0) for k in ("refund", "waiver", "correction"))
        out.append(
            CodeSummary(
                c.code,
                c.description,
                c.budget_holder_email,
                c.annual_limit,
                first,
                Money(charges, currency),
                Money(fees, currency),
                Money(back, currency),
                Money(charges + fees + back, currency),
                Money(held.get(c.code, 0), currency),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# The ledger


@dataclass(slots=True)
class LedgerView:
    id: int
    at: datetime
    kind: str
    amount: Money
    cost_code: str | None
    card: bool
    reference: str
    description: str
    reason: str | None
    actor: str
    corrects_id: int | None


async def record(
    s: AsyncSession,
    *,
    kind: str,
    amount: Money,
    reference: str,
    description: str,
    actor: str,
    now: datetime,
    cost_code: str | None = None,
    payment_id: int | None = None,
    reason: str | None = None,
    corrects_id: int | None = None,
) -> int:
    """Append one ledger row (the only way rows are written)."""
    row = LedgerEntry(
        at=now,
        kind=kind,
        amount=amount.amount,
        currency=amount.currency,
        cost_code=cost_code,
        payment_id=payment_id,
        reference=reference,
        description=description[:300],
        reason=reason,
        actor=actor,
        corrects_id=corrects_id,
    )
    s.add(row)
    await s.flush()
    return row.id


async def ledger_for(s: AsyncSession, reference: str) -> list[LedgerView]:
    rows = await s.scalars(
        select(LedgerEntry).where(LedgerEntry.reference == reference).order_by(LedgerEntry.id)
    )
    return [
        LedgerView(
            r.id,
            r.at,
            r.kind,
            Money(r.amount, r.currency),
            r.cost_code,
            r.payment_id is not None,
            r.reference,
            r.description,
            r.reason,
            r.actor,
            r.corrects_id,
        )
        for r in rows
    ]


async def fees_for(s: AsyncSession, references: Sequence[str]) -> dict[str, Money]:
    """Net fees per reference: cancellation and no-show fees less waivers and corrections."""
    if not references:
        return {}
    out: dict[str, Money] = {}
    for ref, currency, total in await s.execute(
        select(LedgerEntry.reference, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.reference.in_(list(references)),
            LedgerEntry.kind.in_((*FEE_KINDS, "waiver", "correction")),
        )
        .group_by(LedgerEntry.reference, LedgerEntry.currency)
    ):
        out[ref] = Money(int(total or 0), currency)
    return out


async def _outstanding_fees(s: AsyncSession, reference: str) -> int:
    total = await s.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.reference == reference,
            LedgerEntry.kind.in_((*FEE_KINDS, "waiver")),
        )
    )
    return int(total or 0)


# ---------------------------------------------------------------------------------------------
# Card payments


@dataclass(slots=True)
class PaymentView:
    reference: str
    amount: Money
    status: str
    hold_until: datetime
    intent_id: str | None
    settled: bool
    refunded: Money
    client_secret: str | None = None


async def _payment_view(s: AsyncSession, row: Payment) -> PaymentView:
    refunded = await s.scalar(
        select(func.coalesce(func.sum(PaymentAction.amount), 0)).where(
            PaymentAction.payment_id == row.id, PaymentAction.kind == "refund"
        )
    )
    return PaymentView(
        row.reference,
        Money(row.amount, row.currency),
        row.status,
        row.hold_until,
        row.intent_id,
        row.settled_at is not None,
        Money(int(refunded or 0), row.currency),
    )


async def open_card_payment(
    s: AsyncSession,
    *,
    reference: str,
    amount: Money,
    payer_email: str,
    description: str,
    hold_until: datetime,
    now: datetime,
) -> PaymentView:
    """Start a card payment for a booking that holds its seat until `hold_until`. Stripe is
    called later, when the payment page opens (never inside this transaction)."""
    if amount.amount <= 0:
        raise Invalid("There is nothing to pay.")
    row = Payment(
        reference=reference,
        amount=amount.amount,
        currency=amount.currency,
        payer_email=payer_email,
        description=description[:300],
        status="open",
        hold_until=hold_until,
        created_at=now,
        updated_at=now,
    )
    s.add(row)
    await s.flush()
    return await _payment_view(s, row)


async def payment_for(s: AsyncSession, reference: str, *, lock: bool = False) -> PaymentView | None:
    row = await _payment_row(s, reference, lock=lock)
    return await _payment_view(s, row) if row else None


async def _payment_row(s: AsyncSession, reference: str, *, lock: bool) -> Payment | None:
    stmt = (
        select(Payment)
        .where(Payment.reference == reference)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    return await s.scalar(stmt)


def intent_key(payment_id: int) -> str:
    return f"booking-payment-{payment_id}-intent"


async def start_intent(
    transaction: Transaction,
    gateway: PaymentGateway,
    reference: str,
    *,
    payment_method: str | None = None,
) -> PaymentView:
    """The payment with a PaymentIntent and its client secret for the Payment Element. The
    intent is created once (deterministic idempotency key; the id is stored only if none is)."""
    async with transaction() as s:
        row = await _payment_row(s, reference, lock=False)
        if row is None:
            raise NotFound("There is no card payment for this booking.")
        view = await _payment_view(s, row)
        payment_id, amount, currency = row.id, row.amount, row.currency
        email, description = row.payer_email, row.description
    if view.status != "open":
        return view
    if view.intent_id is not None:
        intent = await gateway.retrieve_intent(view.intent_id)
    else:
        intent = await gateway.create_intent(
            amount=amount,
            currency=currency,
            reference=reference,
            description=description,
            email=email,
            idempotency_key=intent_key(payment_id),
            payment_method=payment_method,
        )
        async with transaction() as s:
            stored = await s.execute(
                update(Payment)
                .where(Payment.id == payment_id, Payment.intent_id.is_(None))
                .values(intent_id=intent.id)
            )
            if not getattr(stored, "rowcount", 0):
                # Another request stored its intent first: use that one.
                existing = await s.scalar(select(Payment.intent_id).where(Payment.id == payment_id))
                if existing and existing != intent.id:
                    intent = await gateway.retrieve_intent(existing)
    view.intent_id = intent.id
    view.client_secret = intent.client_secret
    return view


async def expired_holds(s: AsyncSession, now: datetime) -> list[str]:
    """References of card payments still open after their hold."""
    return list(
        (
            await s.scalars(
                select(Payment.reference)
                .where(Payment.status == "open", Payment.hold_until <= now)
                .order_by(Payment.id)
            )
        ).all()
    )


async def _queue_action(
    s: AsyncSession, payment: Payment, kind: str, amount: int | None, key: str, now: datetime
) -> None:
    exists = await s.scalar(select(PaymentAction.id).where(PaymentAction.idempotency_key == key))
    if exists is not None:
        return
    s.add(
        PaymentAction(
            payment_id=payment.id,
            kind=kind,
            amount=amount,
            idempotency_key=key,
            status="pending",
            attempts=0,
            available_at=now,
            created_at=now,
        )
    )
    await s.flush()


async def cancel_open_payment(s: AsyncSession, reference: str, *, now: datetime) -> bool:
    """An unpaid payment whose booking is gone (hold expired, or cancelled): mark it cancelled
    and queue the intent's cancellation. False if it was not open (paid meanwhile)."""
    row = await _payment_row(s, reference, lock=True)
    if row is None or row.status != "open":
        return False
    row.status = "canceled"
    row.settled_at = now
    row.updated_at = now
    if row.intent_id is not None:
        await _queue_action(s, row, "cancel_intent", None, f"booking-payment-{row.id}-cancel", now)
    return True


async def settle_cancellation(
    s: AsyncSession,
    reference: str,
    *,
    fee: Money,
    cost_code: str | None,
    description: str,
    reason: str,
    actor: str,
    now: datetime,
) -> Money | None:
    """Book the cancellation of a place: the fee (quoted and accepted) to its payer; a card
    payment refunded minus the fee. Returns the refund queued, if any."""
    row = await _payment_row(s, reference, lock=True)
    if row is not None and row.status == "open":
        await cancel_open_payment(s, reference, now=now)
        return None
    if row is not None and row.status == "succeeded":
        if row.settled_at is not None:
            return None
        paid = Money(row.amount, row.currency)
        await record(
            s,
            kind="refund",
            amount=Money(-paid.amount, paid.currency),
            reference=reference,
            description=description,
            actor=actor,
            now=now,
            payment_id=row.id,
            reason=reason,
        )
        if fee.amount > 0:
            await record(
                s,
                kind="cancellation_fee",
                amount=fee,
                reference=reference,
                description=description,
                actor=actor,
                now=now,
                payment_id=row.id,
                reason=reason,
            )
        row.settled_at = now
        row.updated_at = now
        back = paid.amount - fee.amount
        if back > 0:
            await _queue_action(s, row, "refund", back, f"booking-payment-{row.id}-refund", now)
            return Money(back, paid.currency)
        return None
    if cost_code is not None and fee.amount > 0:
        await record(
            s,
            kind="cancellation_fee",
            amount=fee,
            reference=reference,
            description=description,
            actor=actor,
            now=now,
            cost_code=cost_code,
            reason=reason,
        )
    return None


async def refund_in_full(
    s: AsyncSession, reference: str, *, description: str, reason: str, actor: str, now: datetime
) -> Money | None:
    """The organiser cancelled (or the place could not be given): the whole payment goes back,
    no fee. Nothing happens to a payment already settled."""
    return await settle_cancellation(
        s,
        reference,
        fee=Money(0, DEFAULT_CURRENCY),
        cost_code=None,
        description=description,
        reason=reason,
        actor=actor,
        now=now,
    )


async def unsettled_paid_references(s: AsyncSession) -> list[str]:
    """Paid card payments not yet settled: booking checks whether their booking still stands."""
    return list(
        (
            await s.scalars(
                select(Payment.reference).where(
                    Payment.status == "succeeded", Payment.settled_at.is_(None)
                )
            )
        ).all()
    )


async def record_attendance(
    s: AsyncSession,
    reference: str,
    *,
    status: str,
    cost_code: str | None,
    price: Money | None,
    no_show_fee: Money | None,
    description: str,
    actor: str,
    now: datetime,
) -> None:
    """Bring the ledger in line with the attendance marked, by appending rows: a place paid by
    cost code is charged when it is attended (or partly); a no-show is charged the no-show fee
    instead. A changed mark adds correction rows; nothing is ever rewritten. Card payments were
    taken up front: a no-show keeps the fee and refunds the rest (once)."""
    rows = await ledger_for(s, reference)
    payment = await _payment_row(s, reference, lock=True)
    if payment is not None and payment.status == "succeeded":
        if status == "no_show" and payment.settled_at is None:
            fee = no_show_fee or Money(0, payment.currency)
            paid = Money(payment.amount, payment.currency)
            if fee.amount < paid.amount:
                await record(
                    s,
                    kind="refund",
                    amount=Money(-paid.amount, paid.currency),
                    reference=reference,
                    description=description,
                    actor=actor,
                    now=now,
                    payment_id=payment.id,
                    reason="No-show: the payment less the no-show fee is refunded",
                )
                if fee.amount > 0:
                    await record(
                        s,
                        kind="no_show_fee",
                        amount=fee,
                        reference=reference,
                        description=description,
                        actor=actor,
                        now=now,
                        payment_id=payment.id,
                        reason="No-show",
                    )
                await _queue_action(
                    s,
                    payment,
                    "refund",
                    paid.amount - fee.amount,
                    f"booking-payment-{payment.id}-no-show-refund",
                    now,
                )
            payment.settled_at = now
        return
    if cost_code is None:
        return
    wanted: dict[str, Money | None] = {
        "charge": price if status in ("attended", "partially_attended") else None,
        "no_show_fee": no_show_fee if status == "no_show" else None,
    }
    for kind, target in wanted.items():
        live = [r for r in rows if r.kind == kind and r.cost_code == cost_code]
        corrected = {r.corrects_id for r in rows if r.kind == "correction"}
        standing = [r for r in live if r.id not in corrected]
        if target is not None and target.amount > 0:
            if not standing:
                await record(
                    s,
                    kind=kind,
                    amount=target,
                    reference=reference,
                    description=description,
                    actor=actor,
                    now=now,
                    cost_code=cost_code,
                    reason="Attended" if kind == "charge" else "No-show",
                )
        else:
            for r in standing:
                await record(
                    s,
                    kind="correction",
                    amount=Money(-r.amount.amount, r.amount.currency),
                    reference=reference,
                    description=description,
                    actor=actor,
                    now=now,
                    cost_code=cost_code,
                    reason=f"Attendance changed to {_ATTENDANCE_WORDS.get(status, status)}",
                    corrects_id=r.id,
                )


async def waive_fees(
    s: AsyncSession, reference: str, *, reason: str, actor: str, now: datetime
) -> Money:
    """An administrator waives what is left of a booking's fees, with a reason: a waiver row,
    and for a card payment a refund of that amount."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("A waiver needs a reason.", field="reason")
    outstanding = await _outstanding_fees(s, reference)
    if outstanding <= 0:
        raise Conflict("This booking has no fee to waive.", code="no_fee")
    fee_row = await s.scalar(
        select(LedgerEntry)
        .where(LedgerEntry.reference == reference, LedgerEntry.kind.in_(FEE_KINDS))
        .order_by(LedgerEntry.id.desc())
    )
    assert fee_row is not None
    payment = await _payment_row(s, reference, lock=True)
    waiver_id = await record(
        s,
        kind="waiver",
        amount=Money(-outstanding, fee_row.currency),
        reference=reference,
        description=fee_row.description,
        actor=actor,
        now=now,
        cost_code=fee_row.cost_code,
        payment_id=fee_row.payment_id,
        reason=reason,
    )
    if payment is not None and fee_row.payment_id == payment.id:
        await _queue_action(
            s,
            payment,
            "refund",
            outstanding,
            f"booking-payment-{payment.id}-waiver-{waiver_id}",
            now,
        )
    return Money(outstanding, fee_row.currency)


# ---------------------------------------------------------------------------------------------
# Applying what Stripe says


async def apply_intent(
    s: AsyncSession, intent: Intent, *, listener: BillingListener, now: datetime
) -> str:
    """Bring a payment in line with its PaymentIntent as Stripe reports it now (never with what
    a webhook payload claims). Safe to repeat and in any order: a succeeded payment stays so."""
    ref = await s.scalar(select(Payment.reference).where(Payment.intent_id == intent.id))
    ref = ref or intent.reference
    if ref is None:
        return "unknown payment"
    # Lock order as everywhere: booking's rows first (the listener's), then the payment.
    await listener.lock(s, ref)
    row = await _payment_row(s, ref, lock=True)
    if row is None:
        return "unknown payment"
    if intent.status != "succeeded":
        return f"intent {intent.status}: nothing to do"
    if row.status == "succeeded":
        return "already paid"
    if intent.amount != row.amount or intent.currency.upper() != row.currency:
        log.error("payment %s: intent %s amount differs; not booked", row.reference, intent.id)
        return "amount differs: not applied"
    was_open = row.status == "open"
    row.status = "succeeded"
    row.intent_id = row.intent_id or intent.id
    row.updated_at = now
    row.settled_at = None
    await record(
        s,
        kind="charge",
        amount=Money(row.amount, row.currency),
        reference=row.reference,
        description=row.description,
        actor="stripe",
        now=now,
        payment_id=row.id,
        reason="Card payment",
    )
    booked = was_open and await listener.on_payment_succeeded(s, row.reference, now=now)
    if booked:
        return "booked"
    # Paid after the hold expired or the booking ended: the whole payment goes back.
    await refund_in_full(
        s,
        row.reference,
        description=row.description,
        reason="Payment arrived after the place was released",
        actor="system",
        now=now,
    )
    return "refunded: the place was no longer held"


# ---------------------------------------------------------------------------------------------
# Delivering Stripe calls (after commit)


@dataclass(slots=True)
class Delivery:
    done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def deliver_actions(
    transaction: Transaction, gateway: PaymentGateway, now: Now, *, limit: int = 50
) -> Delivery:
    """Make the queued Stripe calls. Each is claimed for a lease first (so two workers do not
    both make it), then made with its idempotency key, then marked done."""
    async with transaction() as s:
        moment = now()
        stmt = (
            select(PaymentAction, Payment.intent_id)
            .join(Payment, Payment.id == PaymentAction.payment_id)
            .where(PaymentAction.status == "pending", PaymentAction.available_at <= moment)
            .order_by(PaymentAction.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=PaymentAction)
        )
        claimed = []
        for action, intent_id in (await s.execute(stmt)).all():
            action.attempts += 1
            action.available_at = moment + ACTION_LEASE
            claimed.append(
                (action.id, action.kind, action.amount, action.idempotency_key, intent_id)
            )
    report = Delivery()
    for action_id, kind, amount, key, intent_id in claimed:
        error: str | None = None
        stripe_id: str | None = None
        try:
            if intent_id is None:
                stripe_id = None  # no intent was ever made: nothing to cancel or refund
            elif kind == "cancel_intent":
                stripe_id = (await gateway.cancel_intent(intent_id, idempotency_key=key)).id
            else:
                assert amount is not None
                stripe_id = await gateway.refund(intent_id, amount, idempotency_key=key)
        except (TimeoutError, GatewayError, OSError) as exc:
            error = str(exc)[:2000]
        async with transaction() as s:
            done_row = await s.get(PaymentAction, action_id)
            assert done_row is not None
            if error is None:
                done_row.status = "done"
                done_row.stripe_id = stripe_id
                done_row.done_at = now()
                done_row.last_error = None
                report.done += 1
            else:
                done_row.last_error = error
                report.failed += 1
                report.errors.append(error)
                if done_row.attempts >= ACTION_MAX_ATTEMPTS:
                    done_row.status = "failed"
                else:
                    done_row.available_at = now() + timedelta(seconds=30 * 2**done_row.attempts)
    return report


# ---------------------------------------------------------------------------------------------
# Finance export


JOURNAL_HEADER = (
    "date",
    "cost_code",
    "amount",
    "currency",
    "type",
    "description",
    "booking_reference",
    "reason",
)


async def journal_csv(s: AsyncSession, *, start: date, end: date) -> str:
    """Ledger rows from `start` to `end` (inclusive) as a journal: cost code (or CARD), amount
    in major units (negative for money given back), description and booking reference. Every
    text cell is neutralised against spreadsheet formulas."""
    if end < start:
        raise Invalid("The period ends before it starts.", field="to")
    rows = await s.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.at >= _midnight(start),
            LedgerEntry.at < _midnight(end + timedelta(days=1)),
        )
        .order_by(LedgerEntry.at, LedgerEntry.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(JOURNAL_HEADER)
    for r in rows:
        writer.writerow(
            [
                r.at.date().isoformat(),
                safe_cell(r.cost_code or "CARD"),
                # Generated from an integer: a plain number, which spreadsheets never run.
                _major(r.amount),
                safe_cell(r.currency),
                safe_cell(r.kind),
                safe_cell(r.description),
                safe_cell(r.reference),
                safe_cell(r.reason or ""),
            ]
        )
    return out.getvalue()


def _major(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"
