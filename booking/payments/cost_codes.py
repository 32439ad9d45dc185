"""Cost codes on booking's side: the code a learner signs up with, whose approval it needs, and
creating, importing and reporting codes (audited, administrators only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from billing.domain.cost_codes import CostCodeError
from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.reasons import UNPROCESSABLE, Reason
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, RefusedError
from booking.models import Course, Person
from booking.payments.bridge import billing_errors
from booking.payments.config import BillingConfig
from booking.payments.prices import fee_can_arise
from booking.payments.spend import committed_by_code

# ---------------------------------------------------------------------------------------------
# Signing up: the payer


async def check_cost_code(
    s: AsyncSession, code: str | None, *, pattern: str, now: datetime
) -> str | None:
    """The code upper-cased, if it can pay today; a 422 refusal with the reason if not."""
    if code is None or not code.strip():
        return None
    try:
        view = await billing.check_cost_code(s, code, pattern=pattern, today=now.date())
    except CostCodeError as exc:
        raise RefusedError([Reason(exc.code, exc.message, UNPROCESSABLE)]) from exc
    return view.code


async def budget_holder_id(s: AsyncSession, course: Course, cost_code: str | None) -> int | None:
    """The person whose approval a cost code's use needs: when a cost code pays and a fee can
    arise. None when no approval is needed or the holder is not (or no longer) on record."""
    if cost_code is None or not fee_can_arise(course):
        return None
    view = await billing.get_cost_code(s, cost_code)
    if view is None:
        return None
    return await s.scalar(
        select(Person.id).where(Person.email == view.budget_holder_email, Person.active.is_(True))
    )


# ---------------------------------------------------------------------------------------------
# Managing codes. One path each for creating and importing, whichever door it comes in by: the
# cost-code page (through the port, placing billing's refusals on their fields) or the API (the
# same function inside `billing_errors`, so refusals become problems).


def _require_billing_manager(actor: Actor) -> None:
    if not policy.can_manage_billing(actor):
        raise ForbiddenError("Only administrators manage cost codes.")


async def add_cost_code(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, data: billing.CostCodeInput
) -> billing.CostCodeView:
    """A new cost code, audited. Refusals are billing's own errors."""
    _require_billing_manager(actor)
    async with db.transaction() as s:
        now = clock.now()
        view = await billing.create_cost_code(s, data, pattern=config.cost_code_pattern, now=now)
        await audit.record(
            s,
            action="cost_code.created",
            now=now,
            actor=actor,
            target=f"cost code {view.code}",
            details={"budget holder": data.budget_holder_email},
        )
        return view


async def create_cost_code(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, data: billing.CostCodeInput
) -> billing.CostCodeView:
    """`add_cost_code` for the API: refusals as problems."""
    with billing_errors():
        return await add_cost_code(db, clock, actor, config, data)


async def load_cost_codes(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, text: str
) -> list[billing.ImportResult]:
    """Cost codes from CSV, audited with what changed; billing's own errors, as above."""
    _require_billing_manager(actor)
    async with db.transaction() as s:
        now = clock.now()
        results = await billing.import_cost_codes(
            s, text, pattern=config.cost_code_pattern, now=now
        )
        created = [r.code for r in results if r.status == "created"]
        updated = [r.code for r in results if r.status == "updated"]
        if created or updated:
            await audit.record(
                s,
                action="cost_codes.imported",
                now=now,
                actor=actor,
                target=", ".join(f"cost code {c}" for c in [*created, *updated])[:200],
                details={"created": len(created), "updated": len(updated)},
            )
        return results


async def import_cost_codes(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, text: str
) -> list[billing.ImportResult]:
    """`load_cost_codes` for the API: refusals as problems."""
    with billing_errors():
        return await load_cost_codes(db, clock, actor, config, text)


async def cost_code_spend(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig
) -> list[billing.CodeSummary]:
    """Spend and fees per code this financial year: an administrator sees every code, a
    budget holder their own."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people see spending.")
    if not policy.can_see_spending(actor):
        raise ForbiddenError("Only budget holders and administrators see spending.")
    async with db.reading() as s:
        return await billing.dashboard(
            s,
            today=clock.now().date(),
            year_start=config.year_start,
            budget_holder_email=None if policy.sees_all_spending(actor) else actor.email,
            committed=committed_by_code,
        )
