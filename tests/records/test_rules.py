"""Learner record rules, without a database: certification statuses at their edges with a
fixed clock, completion criteria (all / any), required learning and compliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain import records as rules
from booking.domain.records import CertificationStatus as S
from booking.xapi import duration, statement_id

COMPLETED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EXPIRES = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # 24 months later
WINDOW_DAYS = 90
OPENS = EXPIRES - timedelta(days=WINDOW_DAYS)
DUE = EXPIRES - timedelta(days=30)
OVERDUE_ENDS = EXPIRES + timedelta(days=90)
TICK = timedelta(microseconds=1)


def status_at(now: datetime, window_days: int = WINDOW_DAYS) -> S:
    return rules.certification_state(COMPLETED, EXPIRES, window_days, now).status


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (COMPLETED, S.CERTIFIED),
        (OPENS - TICK, S.CERTIFIED),
        (OPENS, S.WINDOW_OPEN),  # the window opens exactly N days before expiry
        (DUE - TICK, S.WINDOW_OPEN),
        (DUE, S.DUE),
        (EXPIRES - TICK, S.DUE),
        (EXPIRES, S.OVERDUE),  # expiry itself: no longer certified
        (OVERDUE_ENDS - TICK, S.OVERDUE),
        (OVERDUE_ENDS, S.EXPIRED),
    ],
)
def test_certification_status_at_window_and_expiry_edges(now: datetime, expected: S) -> None:
    assert status_at(now) == expected


def test_a_window_shorter_than_the_due_period_opens_straight_into_due() -> None:
    opens = EXPIRES - timedelta(days=10)
    assert status_at(opens - TICK, window_days=10) == S.CERTIFIED
    assert status_at(opens, window_days=10) == S.DUE


def test_without_a_window_the_certification_holds_until_expiry() -> None:
    assert status_at(EXPIRES - TICK, window_days=0) == S.CERTIFIED
    assert status_at(EXPIRES, window_days=0) == S.OVERDUE


def test_dates_of_the_state() -> None:
    state = rules.certification_state(COMPLETED, EXPIRES, WINDOW_DAYS, COMPLETED)
    assert (state.window_opens_at, state.due_from, state.overdue_until) == (
        OPENS,
        DUE,
        OVERDUE_ENDS,
    )
    assert state.is_current and not state.needs_renewal


CERT = rules.CourseFacts(1, "FIRE", "Fire safety", certification_window_days=90, certifies=True)
HELD = [rules.HeldCompletion(COMPLETED, EXPIRES)]


def test_renewal_becomes_required_learning_when_the_window_opens() -> None:
    assert rules.required_item(CERT, HELD, OPENS - TICK, joined_at=None) is None
    item = rules.required_item(CERT, HELD, OPENS, joined_at=None)
    assert item is not None
    assert (item.kind, item.status, item.due_at, item.overdue) == (
        "renewal",
        "window_open",
        EXPIRES,
        False,
    )
    overdue = rules.required_item(CERT, HELD, EXPIRES, joined_at=None)
    assert overdue is not None and overdue.status == "overdue" and overdue.overdue
    # Long expired and not mandatory: history, not required learning.
    assert rules.required_item(CERT, HELD, OVERDUE_ENDS, joined_at=None) is None


def test_a_renewal_done_early_makes_the_new_completion_count() -> None:
    renewed = [
        *HELD,
        rules.HeldCompletion(OPENS + timedelta(days=1), EXPIRES + timedelta(days=700)),
    ]
    assert rules.required_item(CERT, renewed, DUE, joined_at=None) is None
    state = rules.course_state(CERT, renewed, DUE)
    assert state is not None and state.status == S.CERTIFIED


def test_mandatory_courses_are_due_from_joining_and_stay_required_once_expired() -> None:
    joined = datetime(2027, 1, 1, tzinfo=UTC)
    course = rules.CourseFacts(2, "GDPR", "Data protection", mandatory=True, due_within_days=30)
    item = rules.required_item(course, [], joined + timedelta(days=29), joined_at=joined)
    assert item is not None and item.due_at == joined + timedelta(days=30) and not item.overdue
    late = rules.required_item(course, [], joined + timedelta(days=30), joined_at=joined)
    assert late is not None and late.overdue
    done = [rules.HeldCompletion(joined, None)]
    assert rules.required_item(course, done, joined + timedelta(days=400), joined_at=joined) is None
    mandatory_cert = rules.CourseFacts(
        3, "FIRE", "Fire", mandatory=True, certification_window_days=90, certifies=True
    )
    expired = rules.required_item(mandatory_cert, HELD, OVERDUE_ENDS, joined_at=joined)
    assert expired is not None and (expired.kind, expired.status) == ("mandatory", "expired")


def test_compliance_counts_mandatory_courses_and_live_certifications() -> None:
    gdpr = rules.CourseFacts(2, "GDPR", "Data protection", mandatory=True)
    result = rules.compliance([(CERT, HELD), (gdpr, [])], DUE)
    assert (result.required, result.compliant, result.percent) == (2, 1, 50)
    overdue = rules.compliance([(CERT, HELD)], EXPIRES)
    assert (overdue.required, overdue.compliant) == (1, 0)
    assert rules.compliance([(CERT, HELD)], OVERDUE_ENDS).percent is None  # nothing required
    assert rules.Compliance(3, 2).percent == 67 and rules.Compliance(8, 1).percent == 13


def day(n: int) -> datetime:
    return datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=n)


def test_all_criteria_complete_the_course_when_the_last_one_is_done() -> None:
    rule = rules.CompletionRule("all", ("WS", "EL"))
    assert rules.derived_completions(rule, {"WS": [day(5)]}) == []
    assert rules.derived_completions(rule, {"WS": [day(5)], "EL": [day(2)]}) == [day(5)]
    # A renewal needs every criterion again: a new workshop alone is not enough...
    assert rules.derived_completions(rule, {"WS": [day(5), day(700)], "EL": [day(2)]}) == [day(5)]
    # ...and with the module redone too, the course is completed again (both kept).
    assert rules.derived_completions(
        rule, {"WS": [day(5), day(700)], "EL": [day(2), day(690)]}
    ) == [day(5), day(700)]


def test_any_criterion_completes_the_course() -> None:
    rule = rules.CompletionRule("any", ("WS", "EL"))
    assert rules.derived_completions(rule, {"EL": [day(3)], "WS": [day(1)]}) == [day(1), day(3)]
    assert rules.derived_completions(rule, {}) == []


def test_progress_shows_what_is_done_towards_the_next_completion() -> None:
    rule = rules.CompletionRule("all", ("WS", "EL"))
    done = {"WS": [day(5), day(700)], "EL": [day(2)]}
    shown = rules.progress(rule, done, last_completed=day(5))
    assert [(p.course_code, p.done_at) for p in shown] == [("WS", day(700)), ("EL", None)]


def test_rules_that_cannot_work_are_refused() -> None:
    assert rules.parse_rule("P", None, []) is None
    assert rules.parse_rule("P", "all", ["A", "A", " B "]) == rules.CompletionRule(
        "all", ("A", "B")
    )
    for mode, criteria in (("most", ["A"]), ("all", []), ("any", ["P"])):
        with pytest.raises(rules.RuleError):
            rules.parse_rule("P", mode, criteria)


def test_statement_ids_are_deterministic_and_durations_iso() -> None:
    here, there = "https://a.example", "https://b.example"
    assert statement_id(here, "booking", 1, "registered") == statement_id(
        here, "booking", 1, "registered"
    )
    assert statement_id(here, "booking", 1, "registered") != statement_id(
        here, "booking", 2, "registered"
    )
    assert statement_id(here, "booking", 1, "registered") != statement_id(
        there, "booking", 1, "registered"
    )
    assert duration(timedelta(hours=3)) == "PT3H"
    assert duration(timedelta(hours=1, minutes=30)) == "PT1H30M"
    assert duration(timedelta(0)) == "PT0S"


# --- compliance by where each required item stands (reports, issue 17) ------------------------


def test_each_required_item_is_complete_due_overdue_or_expired() -> None:
    joined = COMPLETED
    gdpr = rules.CourseFacts(2, "GDPR", "Data protection", mandatory=True, due_within_days=30)
    fire = rules.CourseFacts(
        3, "FIRE", "Fire", mandatory=True, certification_window_days=90, certifies=True
    )
    # Before the expiry: the certificate is complete; GDPR, never done, is long overdue.
    before = rules.compliance_counts([(CERT, HELD), (gdpr, [])], DUE, joined_at=joined)
    assert before == rules.ComplianceCounts(complete=1, overdue=1)
    # A fresh joiner has 30 days: GDPR is due, not overdue.
    fresh = rules.compliance_counts([(gdpr, [])], DUE, joined_at=DUE - timedelta(days=1))
    assert fresh == rules.ComplianceCounts(due=1)
    # Past the expiry the renewal is overdue; past renewing a mandatory one has expired and a
    # voluntary one is no longer required at all.
    assert rules.compliance_counts([(CERT, HELD)], EXPIRES, joined_at=joined).overdue == 1
    lapsed = rules.compliance_counts([(fire, HELD), (CERT, HELD)], OVERDUE_ENDS, joined_at=joined)
    assert lapsed == rules.ComplianceCounts(expired=1)
    # The four counts add up to what `compliance` calls required.
    mix = [(CERT, HELD), (gdpr, []), (fire, HELD)]
    counts = rules.compliance_counts(mix, EXPIRES, joined_at=joined)
    total = counts.complete + counts.due + counts.overdue + counts.expired
    assert total == rules.compliance(mix, EXPIRES).required
