"""Dates, time zones, daylight saving, sign-up windows and the status a session shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.domain.money import Money
from booking.domain.schedule import (
    DateSlot,
    ScheduleError,
    SeatCounts,
    make_slot,
    session_status,
    signup_window,
    validate_capacity,
    validate_dates,
)
from booking.domain.waitlist import (
    WaitingLearner,
    choose_promotions,
    offer_expiry,
)

LONDON = "Europe/London"


def test_naive_times_are_wall_clock_in_the_zone_across_dst() -> None:
    # 09:30 London on the Monday after the clocks go forward (28 March 2027) is 08:30 UTC.
    after = make_slot(datetime(2027, 3, 29, 9, 30), datetime(2027, 3, 29, 12, 30), LONDON)
    assert after.start == datetime(2027, 3, 29, 8, 30, tzinfo=UTC)
    before = make_slot(datetime(2027, 3, 26, 9, 30), datetime(2027, 3, 26, 12, 30), LONDON)
    assert before.start == datetime(2027, 3, 26, 9, 30, tzinfo=UTC)
    # Across the autumn change (31 October 2027) a 00:00–04:00 session lasts five hours.
    night = make_slot(datetime(2027, 10, 31, 0, 0), datetime(2027, 10, 31, 4, 0), LONDON)
    assert night.end - night.start == timedelta(hours=5)


def test_session_spanning_midnight_is_one_date() -> None:
    slot = make_slot(datetime(2027, 5, 1, 22, 0), datetime(2027, 5, 2, 2, 0), LONDON)
    assert slot.end - slot.start == timedelta(hours=4)


def test_bad_dates_are_refused_with_sentences() -> None:
    with pytest.raises(ScheduleError, match="after its start"):
        make_slot(datetime(2027, 5, 1, 10), datetime(2027, 5, 1, 9), LONDON)
    with pytest.raises(ScheduleError, match="IANA time zone"):
        make_slot(datetime(2027, 5, 1, 9), datetime(2027, 5, 1, 10), "Europe/Londres")
    with pytest.raises(ScheduleError, match="24 hours"):
        make_slot(datetime(2027, 5, 1, 9), datetime(2027, 5, 2, 10), LONDON)
    with pytest.raises(ScheduleError, match="negative"):
        validate_capacity(-1)
    with pytest.raises(ScheduleError, match="at least one date"):
        validate_dates([])
    a = make_slot(datetime(2027, 5, 1, 9), datetime(2027, 5, 1, 12), LONDON)
    b = make_slot(datetime(2027, 5, 1, 11), datetime(2027, 5, 1, 13), LONDON)
    with pytest.raises(ScheduleError, match="overlap"):
        validate_dates([a, b])


def test_signup_closes_a_day_before_by_default() -> None:
    start = datetime(2027, 5, 1, 9, tzinfo=UTC)
    assert signup_window(start, None, None) == (None, start - timedelta(hours=24))
    with pytest.raises(ScheduleError):
        signup_window(start, start - timedelta(hours=1), start - timedelta(hours=2))


def test_status_is_derived_from_clock_window_and_seats() -> None:
    start = datetime(2027, 5, 1, 9, tzinfo=UTC)
    end = start + timedelta(hours=3)

    def status(now: datetime, held: int = 0, stored: str = "open") -> str:
        return session_status(
            stored=stored,
            starts_at=start,
            ends_at=end,
            signup_opens=None,
            signup_closes=start - timedelta(hours=24),
            seats=SeatCounts(5, held),
            now=now,
        )

    early = start - timedelta(days=3)
    assert status(early) == "open"
    assert status(early, held=5) == "full"
    assert status(start - timedelta(hours=2)) == "closed"
    assert status(start + timedelta(minutes=5)) == "in_progress"
    assert status(end) == "over"
    assert status(early, stored="cancelled") == "cancelled"


def test_promotion_is_fifo_and_skips_blocked() -> None:
    now = datetime(2027, 5, 1, tzinfo=UTC)
    starts = now + timedelta(days=5)
    waiting = [
        WaitingLearner(booking_id=3, waitlist_seq=3),
        WaitingLearner(booking_id=1, waitlist_seq=1, blocked_by="clash"),
        WaitingLearner(booking_id=2, waitlist_seq=2),
    ]
    auto = choose_promotions(
        waiting, free_seats=1, mode="auto", now=now, offer_hours=24, starts_at=starts
    )
    assert [(p.booking_id, p.to_state) for p in auto] == [(2, "booked")]
    offers = choose_promotions(
        waiting, free_seats=5, mode="offer", now=now, offer_hours=24, starts_at=starts
    )
    assert [p.booking_id for p in offers] == [2, 3]
    assert offers[0].offer_expires_at == now + timedelta(hours=24)
    assert (
        choose_promotions(
            waiting, free_seats=1, mode="off", now=now, offer_hours=24, starts_at=starts
        )
        == []
    )
    assert (
        choose_promotions(
            waiting, free_seats=1, mode="auto", now=starts, offer_hours=24, starts_at=starts
        )
        == []
    )


def test_offer_never_outlasts_the_start() -> None:
    now = datetime(2027, 5, 1, tzinfo=UTC)
    assert offer_expiry(now=now, offer_hours=48, starts_at=now + timedelta(hours=5)) == (
        now + timedelta(hours=5)
    )


def test_money_rounds_half_up_to_the_penny() -> None:
    assert Money(999).percent(50) == Money(500)  # 499.5 → 500
    assert Money(1001).percent(50) == Money(501)  # 500.5 → 501
    assert Money(15000).display() == "£150.00"
    assert Money(0).display() == "Free"
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]


def test_slots_overlap_is_half_open() -> None:
    a = DateSlot(datetime(2027, 5, 1, 9, tzinfo=UTC), datetime(2027, 5, 1, 12, tzinfo=UTC), LONDON)
    b = DateSlot(datetime(2027, 5, 1, 12, tzinfo=UTC), datetime(2027, 5, 1, 13, tzinfo=UTC), LONDON)
    assert not a.overlaps(b)
