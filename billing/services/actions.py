"""Delivering the queued Stripe calls (after commit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Payment, PaymentAction
from billing.services.errors import GatewayError
from billing.services.ports import Now, PaymentGateway, Transaction

ACTION_LEASE = timedelta(minutes=2)
ACTION_MAX_ATTEMPTS = 8


@dataclass(slots=True)
class Delivery:
    done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    kind: str
    amount: int | None
    key: str
    intent_id: str | None


async def deliver_actions(
    transaction: Transaction, gateway: PaymentGateway, now: Now, *, limit: int = 50
) -> Delivery:
    """Make the queued Stripe calls. Each is claimed for a lease first (so two workers do not
    both make it), then made with its idempotency key, then marked done."""
    async with transaction() as s:
        claimed = await _claim(s, now(), limit)
    report = Delivery()
    for action in claimed:
        error: str | None = None
        stripe_id: str | None = None
        try:
            stripe_id = await _call(gateway, action)
        except (TimeoutError, GatewayError, OSError) as exc:
            error = str(exc)[:2000]
        async with transaction() as s:
            await _mark(s, action.id, stripe_id, error, now, report)
    return report


async def _claim(s: AsyncSession, moment: datetime, limit: int) -> list[_Claimed]:
    """The pending calls that are due, leased to this worker (others skip the locked rows)."""
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
            _Claimed(action.id, action.kind, action.amount, action.idempotency_key, intent_id)
        )
    return claimed


async def _call(gateway: PaymentGateway, action: _Claimed) -> str | None:
    """Make one call; the Stripe id it answers with."""
    if action.intent_id is None:
        return None  # no intent was ever made: nothing to cancel or refund
    if action.kind == "cancel_intent":
        return (await gateway.cancel_intent(action.intent_id, idempotency_key=action.key)).id
    assert action.amount is not None
    return await gateway.refund(action.intent_id, action.amount, idempotency_key=action.key)


async def _mark(
    s: AsyncSession,
    action_id: int,
    stripe_id: str | None,
    error: str | None,
    now: Now,
    report: Delivery,
) -> None:
    """Done, or tried again later (backing off), or failed for good after the last attempt."""
    done_row = await s.get(PaymentAction, action_id)
    assert done_row is not None
    if error is None:
        done_row.status = "done"
        done_row.stripe_id = stripe_id
        done_row.done_at = now()
        done_row.last_error = None
        report.done += 1
        return
    done_row.last_error = error
    report.failed += 1
    report.errors.append(error)
    if done_row.attempts >= ACTION_MAX_ATTEMPTS:
        done_row.status = "failed"
    else:
        done_row.available_at = now() + timedelta(seconds=30 * 2**done_row.attempts)
