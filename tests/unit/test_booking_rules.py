"""The booking decision as a specification, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from booking.domain.booking_rules import (
    ExistingBooking,
    Overrides,
    SessionFacts,
    SignUp,
    decide_booking,
)
from booking.domain.eligibility import Audience, LearnerProfile
from booking.domain.schedule import DateSlot, SeatCounts
from booking.domain.states import BookingState, can_move

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=10)
LEARNER = LearnerProfile(
    id=1, job_role="Social Worker", staff_type="payroll", org_unit_path=("ADULT", "ORG")
)


def session(**overrides) -> SessionFacts:
    values = dict(
        id=10,
        course_id=100,
        course_title="Safeguarding",
        stored_status="open",
        dates=[DateSlot(START, START + timedelta(hours=3), "Europe/London")],
        signup_opens=None,
        signup_closes=START - timedelta(hours=24),
        waitlist_mode="auto",
        seats=SeatCounts(capacity=10, held=3),
    )
    values.update(overrides)
    return SessionFacts(**values)


def other(**overrides) -> ExistingBooking:
    values = dict(
        id=7,
        session_id=20,
        course_id=200,
        course_title="Fire Marshal",
        state="booked",
        dates=[DateSlot(START + timedelta(hours=1), START + timedelta(hours=2), "Europe/London")],
    )
    values.update(overrides)
    return ExistingBooking(**values)


def codes(decision) -> list[str]:
    return [r.code for r in decision.reasons]


def test_a_free_seat_books() -> None:
    assert decide_booking(session(), LEARNER, [], now=NOW).state == BookingState.BOOKED


def test_full_session_waitlists_unless_waitlist_is_off() -> None:
    full = SeatCounts(capacity=10, held=10)
    assert decide_booking(session(seats=full), LEARNER, [], now=NOW).state == "waitlisted"
    refused = decide_booking(session(seats=full, waitlist_mode="off"), LEARNER, [], now=NOW)
    assert refused.refused and codes(refused) == ["session_full"]


def test_zero_capacity_waitlists() -> None:
    decision = decide_booking(session(seats=SeatCounts(0, 0)), LEARNER, [], now=NOW)
    assert decision.state == BookingState.WAITLISTED


def test_signup_window() -> None:
    late = decide_booking(session(), LEARNER, [], now=START - timedelta(hours=23))
    assert codes(late) == ["signup_closed"]
    early = decide_booking(session(signup_opens=NOW + timedelta(days=1)), LEARNER, [], now=NOW)
    assert codes(early) == ["signup_not_open"]
    assert "opens on" in early.reasons[0].message


def test_cancelled_started_and_over_sessions() -> None:
    assert codes(decide_booking(session(stored_status="cancelled"), LEARNER, [], now=NOW)) == [
        "session_cancelled"
    ]
    assert codes(decide_booking(session(), LEARNER, [], now=START + timedelta(minutes=1))) == [
        "session_started"
    ]
    assert codes(decide_booking(session(), LEARNER, [], now=START + timedelta(hours=4))) == [
        "session_over"
    ]


def test_one_place_per_course_names_the_existing_booking() -> None:
    decision = decide_booking(session(), LEARNER, [other(course_id=100, session_id=11)], now=NOW)
    assert codes(decision) == ["already_on_course"]
    assert decision.reasons[0].extra["booking_id"] == 7
    assert decision.reasons[0].status == 409
    allowed = decide_booking(
        session(allow_multiple_bookings=True),
        LEARNER,
        [other(course_id=100, session_id=11, dates=[])],
        now=NOW,
    )
    assert allowed.state == BookingState.BOOKED


def test_same_session_twice_is_already_booked() -> None:
    decision = decide_booking(session(), LEARNER, [other(session_id=10, course_id=100)], now=NOW)
    assert codes(decision) == ["already_booked"]


def test_clash_with_booked_but_not_waitlisted_or_touching() -> None:
    assert codes(decide_booking(session(), LEARNER, [other()], now=NOW)) == ["clash"]
    assert decide_booking(session(), LEARNER, [other(state="waitlisted")], now=NOW).state == (
        BookingState.BOOKED
    )
    touching = other(
        dates=[DateSlot(START + timedelta(hours=3), START + timedelta(hours=5), "Europe/London")]
    )
    assert decide_booking(session(), LEARNER, [touching], now=NOW).state == BookingState.BOOKED


def test_audience_rules_are_422_with_plain_sentences() -> None:
    audience = Audience(
        org_units=frozenset({"CHILD"}),
        job_roles=frozenset({"team manager"}),
        staff_types=frozenset({"payroll"}),
    )
    decision = decide_booking(session(audience=audience), LEARNER, [], now=NOW)
    assert codes(decision) == ["audience_org_unit", "audience_job_role"]
    assert all(r.status == 422 for r in decision.reasons)
    sub_unit = Audience(org_units=frozenset({"ORG"}))
    assert decide_booking(session(audience=sub_unit), LEARNER, [], now=NOW).state == "booked"


def test_every_reason_is_reported_at_once() -> None:
    decision = decide_booking(
        session(audience=Audience(staff_types=frozenset({"casual"}))),
        LEARNER,
        [other()],
        now=START - timedelta(hours=2),
    )
    assert codes(decision) == ["signup_closed", "clash", "audience_staff_type"]


def test_admin_override_passes_rules_but_not_capacity_unless_overbooking() -> None:
    full = session(seats=SeatCounts(1, 1), signup_closes=NOW - timedelta(hours=1))
    waitlisted = decide_booking(
        full,
        LEARNER,
        [other()],
        now=NOW,
        overrides=Overrides(signup_window=True, eligibility=True, clash=True),
    )
    assert waitlisted.state == BookingState.WAITLISTED
    overbooked = decide_booking(
        full,
        LEARNER,
        [other()],
        now=NOW,
        overrides=Overrides(capacity=True, signup_window=True, eligibility=True, clash=True),
    )
    assert overbooked.state == BookingState.BOOKED


def test_state_machine() -> None:
    assert can_move("waitlisted", "offered")
    assert can_move("offered", "booked")
    assert not can_move("cancelled", "booked")
    assert not can_move("waitlisted", "attended")


# --- the preview the session table shows: the same decision, before anything is sent --------


def test_the_preview_offers_sign_up_on_a_free_seat_and_the_waitlist_on_a_full_one() -> None:
    from booking.domain.booking_rules import preview_booking

    assert preview_booking(session(), LEARNER, [], now=NOW).action == "signup"
    full = session(seats=SeatCounts(capacity=10, held=10))
    assert preview_booking(full, LEARNER, [], now=NOW).action == "waitlist"


def test_the_preview_does_not_judge_answers_or_terms_not_sent_yet() -> None:
    from booking.domain.booking_rules import preview_booking
    from booking.domain.eligibility import Question

    asks = session(
        questions=[Question("diet", "Dietary needs?", "text", required=True)],
        approval_steps=["self"],
    )
    assert preview_booking(asks, LEARNER, [], now=NOW).action == "signup"
    # The booking itself still asks for them.
    sent_nothing = decide_booking(asks, LEARNER, [], now=NOW, sign_up=SignUp())
    assert codes(sent_nothing) == ["answer_required", "terms_not_accepted"]


def test_the_preview_offers_nothing_to_a_learner_outside_the_audience() -> None:
    from booking.domain.booking_rules import ELIGIBILITY_CODES, preview_booking

    nurses = session(audience=Audience(job_roles=frozenset({"nurse"})))
    for seats in (SeatCounts(10, 3), SeatCounts(10, 10)):  # neither sign-up nor waitlist
        preview = preview_booking(replace(nurses, seats=seats), LEARNER, [], now=NOW)
        assert preview.action is None
        assert codes(preview.decision) == ["audience_job_role"]
        assert set(codes(preview.decision)) <= ELIGIBILITY_CODES


def test_the_preview_offers_to_move_a_waitlisted_place_to_a_date_with_a_free_seat() -> None:
    from booking.domain.booking_rules import preview_booking

    waiting = other(id=5, session_id=11, course_id=100, course_title="Safeguarding")
    waiting = replace(waiting, state="waitlisted")
    preview = preview_booking(session(), LEARNER, [waiting], now=NOW)
    assert preview.action == "move"
    assert (preview.move_from, preview.move_to) == (5, BookingState.BOOKED)
    assert codes(preview.decision) == ["already_on_course"]


def test_the_preview_never_offers_the_waitlist_to_a_learner_booked_on_another_date() -> None:
    """Booked on one date, the full date's "Join waitlist" would be refused: the refusal shows
    instead, and giving up a seat for a waiting-list place is not offered either."""
    from booking.domain.booking_rules import preview_booking

    booked = other(id=5, session_id=11, course_id=100, course_title="Safeguarding")
    full = session(seats=SeatCounts(capacity=10, held=10))
    preview = preview_booking(full, LEARNER, [booked], now=NOW)
    assert preview.action is None and preview.move_from is None
    assert codes(preview.decision) == ["already_on_course"]
    # A free seat on the other date: moving the booked place there is offered.
    assert preview_booking(session(), LEARNER, [booked], now=NOW).action == "move"
    # And whatever the preview offers, the booking decides the same way.
    assert decide_booking(full, LEARNER, [booked], now=NOW).refused


def test_the_preview_does_not_offer_a_move_that_would_be_refused_for_another_reason() -> None:
    from booking.domain.booking_rules import preview_booking

    waiting = replace(
        other(id=5, session_id=11, course_id=100, course_title="Safeguarding"), state="waitlisted"
    )
    late = preview_booking(session(), LEARNER, [waiting], now=START - timedelta(hours=23))
    assert late.action is None
    assert set(codes(late.decision)) == {"signup_closed", "already_on_course"}
