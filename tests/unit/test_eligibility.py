"""Eligibility and approval rules as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking import signing
from booking.domain.approvals import ApprovalStep, Booker, plan_approvals, terms_reasons
from booking.domain.eligibility import (
    Audience,
    Certification,
    Completion,
    LearnerProfile,
    Prerequisite,
    Question,
    add_months,
    answer_reasons,
    audience_reasons,
    certification_reasons,
    prerequisite_reasons,
)

NOW = datetime(2027, 3, 31, 12, 0, tzinfo=UTC)


def codes(reasons) -> list[str]:
    return [r.code for r in reasons]


def test_sub_units_belong_to_their_ancestors_audience() -> None:
    team = LearnerProfile(1, "Social Worker", "payroll", ("TEAM-A", "ADULT", "ORG"))
    assert audience_reasons(Audience(org_units=frozenset({"ADULT"})), team) == []
    outside = audience_reasons(
        Audience(org_units=frozenset({"CHILD"})), team, {"CHILD": "Children's Services"}
    )
    assert codes(outside) == ["audience_org_unit"]
    assert outside[0].message.startswith("This course is for Children's Services staff.")


def test_job_role_match_ignores_case_and_staff_types_are_exact() -> None:
    learner = LearnerProfile(1, "social worker", "casual", ())
    audience = Audience.from_json({"job_roles": ["Social Worker"], "staff_types": ["payroll"]})
    assert audience is not None
    assert codes(audience_reasons(audience, learner)) == ["audience_staff_type"]
    assert Audience.from_json({}) is None
    assert Audience.from_json({"org_units": []}) is None


def test_prerequisite_completed_and_within_months_edges() -> None:
    need = [Prerequisite("DP-EL", "Data Protection eLearning", within_months=12)]
    just_in = [Completion("DP-EL", add_months(NOW, -12))]
    just_out = [Completion("DP-EL", add_months(NOW, -12) - timedelta(seconds=1))]
    assert prerequisite_reasons(need, just_in, NOW) == []
    missing = prerequisite_reasons(need, just_out, NOW)
    assert codes(missing) == ["prerequisite_missing"]
    assert "Complete “Data Protection eLearning” within the last 12 months first" in (
        missing[0].message
    )
    assert prerequisite_reasons([Prerequisite("DP-EL", "DP")], [], NOW)[0].status == 422
    # An expired certification does not satisfy a prerequisite.
    expired = [Completion("DP-EL", NOW - timedelta(days=400), NOW - timedelta(days=1))]
    assert codes(prerequisite_reasons([Prerequisite("DP-EL", "DP")], expired, NOW)) == [
        "prerequisite_missing"
    ]


def test_certification_window_edges() -> None:
    cert = Certification(months=24, window_days=60)
    expires = NOW + timedelta(days=60)
    current = [Completion("FA", NOW - timedelta(days=600), expires)]
    assert certification_reasons("FA", cert, current, NOW) == []  # window opens exactly now
    early = certification_reasons("FA", cert, current, NOW - timedelta(seconds=1))
    assert codes(early) == ["certification_current"]
    assert "You can book a renewal from" in early[0].message
    lapsed = [Completion("FA", NOW - timedelta(days=800), NOW - timedelta(days=1))]
    assert certification_reasons("FA", cert, lapsed, NOW) == []
    assert certification_reasons("FA", None, current, NOW) == []


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(datetime(2027, 1, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2027, 3, 31, tzinfo=UTC), -1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2027, 11, 15, tzinfo=UTC), 3) == datetime(2028, 2, 15, tzinfo=UTC)


def test_answers_required_choice_yes_no_and_unknown() -> None:
    questions = [
        Question("diet", "Dietary needs", "text"),
        Question("site", "Which site?", "choice", required=True, choices=("North", "South")),
        Question("first", "First time?", "yes_no", required=True),
    ]
    assert answer_reasons(questions, {"site": "North", "first": False}) == []
    reasons = answer_reasons(questions, {"site": "East", "first": "yes", "shoe": "9"})
    assert codes(reasons) == ["answer_unknown", "answer_invalid", "answer_invalid"]
    assert codes(answer_reasons(questions, {})) == ["answer_required", "answer_required"]
    assert all(r.status == 422 for r in reasons)


def _plan(steps, **kw):
    defaults = dict(
        learner_id=1,
        learner_manager_id=2,
        booker=Booker(person_id=1, is_admin=False, is_learners_manager=False),
        budget_holder_id=None,
    )
    defaults.update(kw)
    return plan_approvals(steps, **defaults)


def test_approval_plan() -> None:
    assert _plan(["self"]) == []
    assert _plan(["self", "manager", "admin"]) == [
        ApprovalStep("manager", 2),
        ApprovalStep("admin", None),
    ]
    # No manager on record: the administrators decide instead (once).
    assert _plan(["manager", "admin"], learner_manager_id=None) == [
        ApprovalStep("admin", None, "No line manager is on record.")
    ]
    # A manager booking for a report has approved as manager.
    assert _plan(["manager"], booker=Booker(2, False, True)) == []
    # An administrator booking for someone else has approved as manager and administrator.
    assert _plan(["manager", "admin"], booker=Booker(9, True, False)) == []
    # An administrator booking for themselves still asks their manager.
    assert _plan(["manager"], booker=Booker(1, True, False)) == [ApprovalStep("manager", 2)]
    # Budget holder only when billing names one, and never oneself.
    assert _plan(["budget_holder"]) == []
    assert _plan(["budget_holder"], budget_holder_id=7) == [ApprovalStep("budget_holder", 7)]
    assert _plan(["budget_holder"], budget_holder_id=1) == []


def test_terms_must_be_accepted_for_self_authorisation() -> None:
    assert codes(terms_reasons(["self"], False, 3)) == ["terms_not_accepted"]
    assert "version 3" in terms_reasons(["self"], False, 3)[0].message
    assert terms_reasons(["self"], True, 3) == []
    assert terms_reasons(["manager"], False, 3) == []


def test_signed_links_cannot_be_forged_altered_misused_or_used_late() -> None:
    token = signing.sign("k" * 40, "approval", {"r": 5}, NOW + timedelta(days=1))
    assert signing.verify("k" * 40, "approval", token, NOW) == {"r": 5}
    with pytest.raises(signing.BadSignature):
        signing.verify("k" * 40, "approval", token, NOW + timedelta(days=1))
    with pytest.raises(signing.BadSignature):
        signing.verify("other-secret" * 4, "approval", token, NOW)
    with pytest.raises(signing.BadSignature):
        signing.verify("k" * 40, "password-reset", token, NOW)
    body, _, mac = token.partition(".")
    forged = signing.sign("k" * 40, "approval", {"r": 6}, NOW + timedelta(days=1))
    with pytest.raises(signing.BadSignature):
        signing.verify("k" * 40, "approval", forged.partition(".")[0] + "." + mac, NOW)
    with pytest.raises(signing.BadSignature):
        signing.verify("k" * 40, "approval", "garbage", NOW)
