"""API: approval requests waiting for me, and deciding one."""

from __future__ import annotations

from litestar import get, post

from booking import approvals
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.web.api import schemas
from booking.web.api.answers_core import ApprovalDecision, ApprovalPage, approval_decision


@get("/approvals", summary="Approval requests waiting for me")
async def list_approvals(db: Database, clock: Clock, actor: Actor) -> ApprovalPage:
    return ApprovalPage(await approvals.list_waiting(db, clock, actor), None)


@post("/approvals/{request_id:int}/decision", summary="Approve or decline", status_code=200)
async def decide_approval(
    db: Database, clock: Clock, actor: Actor, request_id: int, data: schemas.DecisionIn
) -> ApprovalDecision:
    outcome = await approvals.decide(
        db, clock, actor, request_id, decision=data.decision, comment=data.comment
    )
    return approval_decision(outcome)
