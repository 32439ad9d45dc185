"""Asking for approval: who the budget holder is, and opening one step's request.

A booking waiting for approval holds no seat; the last approval takes it (`decide.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booking import payments, people
from booking.domain.approvals import ApprovalStep, encode_plan
from booking.kernel.outbox import queue_email
from booking.kernel.webhook_events import queue_event
from booking.models import ApprovalRequest, Booking, Course


async def budget_holder_for(s: AsyncSession, course: Course, cost_code: str | None) -> int | None:
    """The budget holder whose approval a booking needs, if any: the cost code's, when a cost
    code pays and a fee can arise (billing knows the code; booking knows the person)."""
    return await payments.budget_holder_id(s, course, cost_code)


async def request_step(
    s: AsyncSession, booking: Booking, plan: Sequence[ApprovalStep], index: int, *, now: datetime
) -> None:
    """Open the approval request for step `index` of the plan and tell the approver(s). The rest
    of the plan is kept with the request so later steps follow without recomputing."""
    step = plan[index]
    request = ApprovalRequest(
        booking_id=booking.id,
        step=index,
        kind=step.kind,
        approver_id=step.approver_id,
        note=encode_plan(plan, step.note),
        status="waiting",
        requested_at=now,
    )
    s.add(request)
    await s.flush()
    approvers = (
        [step.approver_id] if step.approver_id is not None else await people.active_admin_ids(s)
    )
    await queue_event(
        s,
        "approval.requested",
        {
            "approval_id": request.id,
            "kind": step.kind,
            "step": index,
            "approver": {"id": step.approver_id},
            "booking_id": booking.id,
            "session_id": booking.session_id,
            "learner": {"id": booking.learner_id},
        },
        now=now,
        booking_id=booking.id,
        session_id=booking.session_id,
    )
    for approver_id in approvers:
        await queue_email(
            s,
            topic="approval.requested",
            recipient_id=approver_id,
            booking_id=booking.id,
            session_id=booking.session_id,
            now=now,
            dedupe_key=f"approval.requested:{request.id}:{approver_id}",
            payload={"booking_id": booking.id, "request_id": request.id, "kind": step.kind},
        )
