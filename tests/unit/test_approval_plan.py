"""The approval chain's budget-holder step, as a specification, without I/O."""

from __future__ import annotations

from booking.domain.approvals import ApprovalStep, Booker, plan_approvals, with_budget_holder

LEARNER = 1
MANAGER = 2
HOLDER = 7


def plan(steps: list[str], *, budget_holder_id: int | None) -> list[ApprovalStep]:
    return plan_approvals(
        steps,
        learner_id=LEARNER,
        learner_manager_id=MANAGER,
        booker=Booker(person_id=LEARNER, is_admin=False, is_learners_manager=False),
        budget_holder_id=budget_holder_id,
    )


def test_a_budget_holder_billing_names_is_asked_before_the_administrators() -> None:
    assert plan(["self", "manager", "admin"], budget_holder_id=HOLDER) == [
        ApprovalStep("manager", MANAGER),
        ApprovalStep("budget_holder", HOLDER),
        ApprovalStep("admin", None),
    ]


def test_a_budget_holder_is_asked_last_when_the_course_lists_no_administrators() -> None:
    assert plan(["manager"], budget_holder_id=HOLDER) == [
        ApprovalStep("manager", MANAGER),
        ApprovalStep("budget_holder", HOLDER),
    ]
    assert plan(["self"], budget_holder_id=HOLDER) == [ApprovalStep("budget_holder", HOLDER)]


def test_a_budget_holder_the_course_lists_keeps_its_place() -> None:
    assert with_budget_holder(["budget_holder", "manager"], HOLDER) == ["budget_holder", "manager"]
    assert plan(["budget_holder", "manager"], budget_holder_id=HOLDER) == [
        ApprovalStep("budget_holder", HOLDER),
        ApprovalStep("manager", MANAGER),
    ]


def test_no_budget_holder_step_when_billing_names_none_or_the_learner_holds_the_budget() -> None:
    assert with_budget_holder(["manager", "admin"], None) == ["manager", "admin"]
    assert plan(["manager", "admin"], budget_holder_id=None) == [
        ApprovalStep("manager", MANAGER),
        ApprovalStep("admin", None),
    ]
    assert plan(["manager"], budget_holder_id=LEARNER) == [ApprovalStep("manager", MANAGER)]
