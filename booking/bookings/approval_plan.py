"""The approvals a new booking still needs. While any is needed the booking waits for them and
holds no seat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booking import approvals, payments
from booking.bookings.facts import BookingFacts
from booking.bookings.requests import BookingRequest
from booking.domain.approvals import ApprovalStep, Booker, plan_approvals
from booking.kernel.actors import Actor


async def approvals_needed(
    s: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    facts: BookingFacts,
    *,
    now: datetime,
    billing: payments.BillingConfig,
) -> list[ApprovalStep]:
    """The course's approval chain for this learner and booker. A cost code paying where a fee
    can arise needs its budget holder, whatever the course lists (the domain's plan adds the
    step); an override leaves only that step."""
    holder_id = await approvals.budget_holder_for(s, facts.course, facts.cost_code)
    learner = facts.learner
    plan = plan_approvals(
        facts.session_facts.approval_steps,
        learner_id=learner.id,
        learner_manager_id=learner.manager_id,
        booker=Booker(
            person_id=actor.person_id or 0,
            is_admin=actor.is_admin,
            is_learners_manager=learner.manager_id is not None
            and learner.manager_id == actor.person_id,
        ),
        budget_holder_id=holder_id,
    )
    if request.override_reason:
        plan = [step for step in plan if step.kind == "budget_holder"]
    if facts.cost_code is not None and any(step.kind == "budget_holder" for step in plan):
        plan = await _with_spend_note(s, facts, plan, now=now, billing=billing)
    return plan


async def _with_spend_note(
    s: AsyncSession,
    facts: BookingFacts,
    plan: list[ApprovalStep],
    *,
    now: datetime,
    billing: payments.BillingConfig,
) -> list[ApprovalStep]:
    """Over the code's annual limit is flagged to the budget holder, never refused."""
    assert facts.cost_code is not None
    note = await payments.spend_note(
        s, facts.price, facts.cost_code, now=now, year_start=billing.year_start
    )
    return [
        ApprovalStep(step.kind, step.approver_id, note)
        if step.kind == "budget_holder" and note
        else step
        for step in plan
    ]
