"""Fee tables at every tier edge, on both sides of both clock changes in Europe/London."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.domain import cost_codes, fees
from billing.domain.money import Money

LONDON = "Europe/London"
# ≥ 14 days: free; 7–13 days: 50 %; < 7 days: 100 %.
POLICY = fees.FeePolicy(
    (fees.Tier(336, 0), fees.Tier(168, 50), fees.Tier(0, 100)), no_show_fee_percent=100
)
PRICE = Money(6000)
SECOND = timedelta(seconds=1)


def quote(start: datetime, now: datetime, policy: fees.FeePolicy = POLICY) -> fees.Quote:
    return fees.quote_cancellation(
        policy, price=PRICE, paid=None, first_start=start, timezone=LONDON, now=now
    )


def london(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(LONDON))  # type: ignore[misc]


# Sessions at 09:30 London time just after each clock change: 28 March 2027 (GMT → BST) and
# 31 October 2027 (BST → GMT). The deadlines 7 and 14 days before fall on the other side.
@pytest.mark.parametrize(
    "start",
    [london(2027, 3, 29, 9, 30), london(2027, 4, 2, 9, 30), london(2027, 11, 1, 9, 30)],
    ids=["after-spring-forward", "week-after-spring", "after-autumn-back"],
)
def test_every_tier_edge_is_at_the_same_wall_clock_time(start: datetime) -> None:
    for days, before, at_edge in ((14, 0, 0), (7, 50, 50)):
        edge = fees.deadline(start, LONDON, days * 24)
        # The deadline is 09:30 local, `days` days earlier, whatever the offset then.
        assert edge.astimezone(start.tzinfo).strftime("%H:%M") == "09:30"
        assert (start.date() - edge.astimezone(start.tzinfo).date()).days == days
        assert quote(start, edge).fee == PRICE.percent(at_edge)
        assert quote(start, edge - SECOND).fee == PRICE.percent(before)
        after = 50 if days == 14 else 100
        assert quote(start, edge + SECOND).fee == PRICE.percent(after)


def test_the_spring_deadline_is_one_hour_less_than_fourteen_days_of_elapsed_time() -> None:
    start = london(2027, 3, 29, 9, 30)  # BST
    edge = fees.deadline(start, LONDON, 336)  # 15 March, GMT
    assert start - edge == timedelta(days=14) - timedelta(hours=1)
    autumn = london(2027, 11, 1, 9, 30)  # GMT
    assert autumn - fees.deadline(autumn, LONDON, 336) == timedelta(days=14, hours=1)


def test_free_until_is_the_last_free_moment_and_then_gone() -> None:
    start = london(2027, 3, 29, 9, 30)
    edge = fees.deadline(start, LONDON, 336)
    assert quote(start, edge - timedelta(days=3)).free_until == edge
    assert quote(start, edge).free_until == edge
    assert quote(start, edge + SECOND).free_until is None


def test_hours_beyond_whole_days_are_elapsed_time() -> None:
    start = datetime(2027, 3, 28, 12, 0, tzinfo=UTC)  # the afternoon of the spring change
    # 36 h = 1 day on the wall clock, then 12 h elapsed.
    edge = fees.deadline(start, LONDON, 36)
    assert edge == datetime(2027, 3, 27, 1, 0, tzinfo=UTC)


def test_nonexistent_and_repeated_wall_clock_times_resolve() -> None:
    # 01:30 on 28 March 2027 does not exist in London; on 31 October it happens twice.
    gap = fees.deadline(london(2027, 4, 4, 1, 30), LONDON, 7 * 24)
    fold = fees.deadline(london(2027, 11, 7, 1, 30), LONDON, 7 * 24)
    assert gap.tzinfo is not None and fold.tzinfo is not None
    assert fold == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # the first 01:30 (BST)


def test_shortest_tier_applies_below_every_threshold_and_no_tiers_is_free() -> None:
    start = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    partial = fees.FeePolicy((fees.Tier(336, 0), fees.Tier(168, 50)))
    assert quote(start, start - timedelta(hours=1), partial).fee == Money(3000)
    none = quote(start, start - timedelta(hours=1), fees.FeePolicy())
    assert none.fee == Money(0) and none.tier is None


def test_rounding_half_up_to_the_penny_in_one_place() -> None:
    assert Money(999).percent(50) == Money(500)  # 499.5 → 500
    assert Money(333).percent(50) == Money(167)  # 166.5 → 167
    assert Money(101).percent(25) == Money(25)  # 25.25 → 25
    policy = fees.FeePolicy((fees.Tier(0, 33),))
    q = fees.quote_cancellation(
        policy,
        price=None,
        paid=Money(1050),
        first_start=datetime(2027, 6, 1, tzinfo=UTC),
        timezone=LONDON,
        now=datetime(2027, 5, 1, tzinfo=UTC),
    )
    assert q.fee == Money(347) and q.refund == Money(703)  # 346.5 → 347


def test_card_refund_is_payment_minus_fee() -> None:
    start = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    q = fees.quote_cancellation(
        POLICY,
        price=PRICE,
        paid=PRICE,
        first_start=start,
        timezone=LONDON,
        now=start - timedelta(days=10),
    )
    assert (q.fee, q.refund) == (Money(3000), Money(3000))
    assert q.tier == fees.Tier(168, 50)
    assert fees.card_refund(PRICE, Money(3000), already_refunded=1000) == Money(2000)


def test_no_fee_when_the_organiser_cancels_or_no_place_is_held() -> None:
    start = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    late = start - timedelta(hours=1)
    organiser = fees.quote_cancellation(
        POLICY,
        price=PRICE,
        paid=PRICE,
        first_start=start,
        timezone=LONDON,
        now=late,
        organiser_cancelled=True,
    )
    assert organiser.fee == Money(0) and organiser.refund == PRICE
    waiting = fees.quote_cancellation(
        POLICY,
        price=PRICE,
        paid=None,
        first_start=start,
        timezone=LONDON,
        now=late,
        holds_place=False,
    )
    assert waiting.fee == Money(0)


def test_no_show_fee_waiver_transfer_substitution_and_discount() -> None:
    assert fees.no_show_fee(POLICY, PRICE) == PRICE
    assert fees.no_show_fee(fees.FeePolicy(), PRICE) is None
    assert fees.waive(Money(3000), reason="Bereavement") == Money(-3000)
    with pytest.raises(fees.PolicyError):
        fees.waive(Money(3000), reason=" ")
    start = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    moving = fees.FeePolicy(POLICY.tiers, 100, free_transfer_notice_hours=72)
    assert fees.transfer_is_free(
        moving, first_start=start, timezone=LONDON, now=start - timedelta(hours=72)
    )
    assert not fees.transfer_is_free(
        moving, first_start=start, timezone=LONDON, now=start - timedelta(hours=71)
    )
    assert not fees.transfer_is_free(
        POLICY, first_start=start, timezone=LONDON, now=start - timedelta(days=30)
    )
    assert fees.substitution_is_free(colleague_eligible=True)
    assert not fees.substitution_is_free(colleague_eligible=False)
    discount = fees.price_for(
        PRICE,
        discount_price=Money(4000),
        discount_audiences=["SCHOOLS"],
        learner_audiences=["SCHOOLS"],
    )
    assert discount == Money(4000)
    assert (
        fees.price_for(PRICE, discount_price=Money(4000), discount_audiences=["SCHOOLS"]) == PRICE
    )
    assert fees.price_for(Money(0)) is None


def test_policy_from_the_course_json() -> None:
    policy = fees.FeePolicy.from_json(
        {
            "tiers": [
                {"min_notice_hours": 0, "fee_percent": 100},
                {"min_notice_hours": 336, "fee_percent": 0},
            ],
            "no_show_fee_percent": 50,
        }
    )
    assert [t.min_notice_hours for t in policy.tiers] == [336, 0]
    assert policy.has_fees
    assert fees.tier_label(policy, policy.tiers[1]) == "Less than 14 days' notice: 100%"
    with pytest.raises(fees.PolicyError):
        fees.FeePolicy.from_json({"tiers": [{"min_notice_hours": -1, "fee_percent": 10}]})


def test_cost_code_format_dates_and_financial_year() -> None:
    assert cost_codes.check_format(" as-4410 ") == "AS-4410"
    for bad in ("A", "-AB", "AB CD", "X" * 21, "=SUM(A1)"):
        with pytest.raises(cost_codes.CostCodeError):
            cost_codes.check_format(bad)
    assert cost_codes.check_format("ab_1", r"^[A-Z]{2}_\d$") == "AB_1"
    from datetime import date

    facts = cost_codes.CostCodeFacts("AS-1", date(2027, 4, 1), date(2028, 3, 31))
    cost_codes.check_active(facts, "AS-1", date(2027, 4, 1))
    with pytest.raises(cost_codes.CostCodeError, match="can be used from"):
        cost_codes.check_active(facts, "AS-1", date(2027, 3, 31))
    with pytest.raises(cost_codes.CostCodeError, match="expired"):
        cost_codes.check_active(facts, "AS-1", date(2028, 4, 1))
    with pytest.raises(cost_codes.CostCodeError, match="no cost code"):
        cost_codes.check_active(None, "AS-9", date(2028, 4, 1))
    assert cost_codes.financial_year(date(2027, 3, 31)) == (date(2026, 4, 1), date(2027, 4, 1))
    assert cost_codes.financial_year(date(2027, 4, 1)) == (date(2027, 4, 1), date(2028, 4, 1))
    assert cost_codes.financial_year(date(2027, 12, 1), (1, 1)) == (
        date(2027, 1, 1),
        date(2028, 1, 1),
    )
    check = cost_codes.check_spend(Money(9000), Money(6000), Money(10000))
    assert check.over_limit and "Over the annual limit" in (check.note() or "")
    assert not cost_codes.check_spend(Money(4000), Money(6000), Money(10000)).over_limit
    assert not cost_codes.check_spend(Money(90000), Money(6000), None).over_limit


def test_safe_cells() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1"):
        assert cost_codes.safe_cell(dangerous).startswith("'")
    assert cost_codes.safe_cell("Fire safety") == "Fire safety"


# --- the policy as one sentence (course page, sign-up form, cancel page) ----------------------


def terms(policy: fees.FeePolicy, start: datetime, now: datetime | None = None) -> str:
    return fees.cancellation_terms(policy, PRICE, first_start=start, timezone=LONDON, now=now)


def test_no_tiers_or_no_price_is_free_to_cancel() -> None:
    start = london(2027, 12, 14, 9, 30)
    assert terms(fees.FeePolicy(), start) == "Free to cancel."
    assert (
        fees.cancellation_terms(POLICY, None, first_start=start, timezone=LONDON)
        == "Free to cancel."
    )


def test_one_tier_costs_its_share_at_any_notice() -> None:
    one = fees.FeePolicy((fees.Tier(0, 50),))
    assert terms(one, london(2027, 12, 14, 9, 30)) == "Cancelling costs £30.00 (50%)."


def test_several_tiers_give_each_deadline_on_the_sessions_wall_clock() -> None:
    start = london(2027, 12, 14, 9, 30)  # Tuesday
    assert terms(fees.FeePolicy(POLICY.tiers), start) == (
        "Free to cancel until Tue 30 Nov 09:30, then £30.00 (50%) until Tue 7 Dec 09:30, "
        "then £60.00."
    )
    # Later, the periods already over are left out.
    assert terms(fees.FeePolicy(POLICY.tiers), start, now=london(2027, 12, 1, 12, 0)) == (
        "Cancelling costs £30.00 (50%) until Tue 7 Dec 09:30, then £60.00."
    )


def test_the_no_show_fee_is_said_after_the_tiers() -> None:
    start = london(2027, 12, 14, 9, 30)
    assert terms(POLICY, start).endswith(
        "then £60.00. Not attending without cancelling costs £60.00."
    )
    half = fees.FeePolicy((), no_show_fee_percent=50)
    assert terms(half, start) == (
        "Free to cancel. Not attending without cancelling costs £30.00 (50%)."
    )


def test_a_clock_change_before_the_start_keeps_the_deadlines_at_the_same_wall_time() -> None:
    # Tuesday 30 March 2027, 09:30 BST; the clocks went forward on Sunday 28 March, so the
    # 14- and 7-day deadlines are GMT: still 09:30 on the wall clock, as charged.
    start = london(2027, 3, 30, 9, 30)
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    sentence = terms(POLICY, start, now=now)
    assert sentence.startswith(
        "Free to cancel until Tue 16 Mar 09:30, then £30.00 (50%) until Tue 23 Mar 09:30, "
        "then £60.00."
    )
    edge = fees.deadline(start, LONDON, 336)
    assert quote(start, edge).fee.amount == 0 and quote(start, edge + SECOND).fee.amount == 3000
