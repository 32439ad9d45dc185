"""The cancellation policy, with the session's own dates and the price after the free period,
is said where a learner decides: the course page's session table, the sign-up form and the
cancel page. One sentence, built by billing's fee domain (`fees.cancellation_terms`)."""

from __future__ import annotations

from datetime import date, timedelta

from billing import services as billing
from billing.domain.money import Money
from booking import bookings
from booking.bookings import BookingRequest
from tests import support
from tests.web.conftest import Browser
from tests.web.test_pages import tbody, text_of

POLICY = {
    "tiers": [
        {"min_notice_hours": 336, "fee_percent": 0},
        {"min_notice_hours": 168, "fee_percent": 50},
        {"min_notice_hours": 0, "fee_percent": 100},
    ],
    "no_show_fee_percent": 100,
}
# T0 + 30 days: Wed 31 Mar 2027 09:00 UTC = 10:00 BST. The deadlines fall before the clocks
# go forward (28 March), in GMT, and stay at 10:00 on the wall clock.
TERMS = (
    "Free to cancel until Wed 17 Mar 10:00, then £75.00 (50%) until Wed 24 Mar 10:00, "
    "then £150.00. Not attending without cancelling costs £150.00."
)


async def test_the_course_page_sign_up_form_and_cancel_page_state_the_cancellation_terms(
    browser: Browser,
) -> None:
    world = browser.world
    course = await support.make_course(world, price=Money(15000), cancellation_policy=POLICY)
    session_id = await support.make_session(
        world, course_id=course.id, start=support.T0 + timedelta(days=30)
    )
    await browser.sign_in("lee@example.org")

    page = await browser.get(f"/courses/{course.id}")
    assert TERMS in text_of(tbody(page.text, session_id))

    form = await browser.get(f"/sessions/{session_id}/book")
    assert TERMS in text_of(form.text)

    # A place paid by a cost code: the cancel page states the terms beside the quote.
    async with world.db.transaction() as s:
        await billing.create_cost_code(
            s,
            billing.CostCodeInput(
                "AS-4410", "Adult Services", "manager@example.org", date(2027, 1, 1), None, None
            ),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )
    lee = await support.actor(world.db, "lee@example.org")
    booked = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="AS-4410")
    )
    cancel = await browser.get(f"/bookings/{booked.booking.id}/cancel")
    assert "Cancelling now is free" in text_of(cancel.text)
    assert TERMS in text_of(cancel.text)


async def test_a_free_course_states_no_cancellation_terms(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world)
    await browser.sign_in("lee@example.org")
    page = await browser.get(f"/courses/{world.course_id}")
    assert "cancellation-terms" not in tbody(page.text, session_id)
