"""Approval chains: who must say yes, in order, before a booking takes a place.

A course lists steps from `self` (accept the current terms), `manager` (the learner's line
manager), `budget_holder` (the cost code's budget holder, when billing says one is needed) and
`admin` (any administrator). `self` is satisfied at sign-up; the rest become approval requests,
one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from booking.domain.reasons import UNPROCESSABLE, Reason

STEP_KINDS = ("self", "manager", "budget_holder", "admin")


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    kind: str  # manager | budget_holder | admin
    approver_id: int | None  # None: any administrator
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Booker:
    """Who is asking, relative to the learner."""

    person_id: int
    is_admin: bool
    is_learners_manager: bool


def plan_approvals(
    steps: Sequence[str],
    *,
    learner_id: int,
    learner_manager_id: int | None,
    booker: Booker,
    budget_holder_id: int | None,
) -> list[ApprovalStep]:
    """The approval requests still needed, in order.

    A manager booking for a direct report has given the manager's approval; an administrator
    booking for someone else has given the manager's and the administrator's. A learner with no
    line manager on record goes to the administrators instead. The budget holder's step applies
    only when billing names one (a cost code pays and a fee can arise), and not when the learner
    is that budget holder; billing naming one adds the step, before the administrators', even
    when the course does not list it.
    """
    on_behalf_admin = booker.is_admin and booker.person_id != learner_id
    plan: list[ApprovalStep] = []
    for kind in with_budget_holder(steps, budget_holder_id):
        if kind == "self":
            continue
        if kind == "manager":
            if booker.is_learners_manager or on_behalf_admin:
                continue
            if learner_manager_id is None:
                plan.append(ApprovalStep("admin", None, "No line manager is on record."))
            else:
                plan.append(ApprovalStep("manager", learner_manager_id))
        elif kind == "budget_holder":
            if budget_holder_id is not None and budget_holder_id != learner_id:
                plan.append(ApprovalStep("budget_holder", budget_holder_id))
        elif kind == "admin" and not on_behalf_admin:
            plan.append(ApprovalStep("admin", None))
    # Two administrator steps in a row are one.
    deduped: list[ApprovalStep] = []
    for step in plan:
        if deduped and step.kind == "admin" and deduped[-1].kind == "admin":
            continue
        deduped.append(step)
    return deduped


def with_budget_holder(steps: Sequence[str], budget_holder_id: int | None) -> list[str]:
    """The course's steps, with the budget holder's inserted before the administrators' (or
    last) when billing names a budget holder and the course does not list one."""
    steps = list(steps)
    if budget_holder_id is not None and "budget_holder" not in steps:
        steps.insert(steps.index("admin") if "admin" in steps else len(steps), "budget_holder")
    return steps


def terms_reasons(steps: Sequence[str], accepted: bool, version: int) -> list[Reason]:
    if "self" in steps and not accepted:
        return [
            Reason(
                "terms_not_accepted",
                f"Read and accept the course's terms (version {version}) to book.",
                UNPROCESSABLE,
            )
        ]
    return []


def approver_label(kind: str) -> str:
    return {
        "manager": "your line manager",
        "budget_holder": "the budget holder",
        "admin": "the training team",
    }.get(kind, kind)


def encode_plan(plan: Sequence[ApprovalStep], note: str | None) -> str | None:
    # The remaining chain rides on each request as "kind:approver" pairs after the note.
    chain = ",".join(f"{p.kind}:{p.approver_id or ''}" for p in plan)
    return f"{note or ''}|{chain}"


def decode_plan(note: str | None) -> tuple[str | None, list[ApprovalStep]]:
    """The note and the remaining chain `encode_plan` wrote."""
    text, _, chain = (note or "").rpartition("|")
    steps = []
    for item in chain.split(",") if chain else []:
        kind, _, approver = item.partition(":")
        steps.append(ApprovalStep(kind, int(approver) if approver else None))
    return text or None, steps
