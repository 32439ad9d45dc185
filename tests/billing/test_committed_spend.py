"""Committed and charged spend on a cost code: a place approved by the budget holder is
committed at once (the budget page shows it, the annual limit counts it); attendance charges it,
moving it from committed to charged without counting it twice; a cancellation without a fee
releases it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from litestar.testing import AsyncTestClient

from billing import services as billing
from billing.domain import cost_codes
from billing.domain.money import Money
from booking import approvals, bookings, catalogue, payments, roster
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.web.conftest import Browser
from tests.web.test_pages import text_of

POLICY = {
    "tiers": [
        {"min_notice_hours": 336, "fee_percent": 0},
        {"min_notice_hours": 0, "fee_percent": 100},
    ]
}


@pytest.fixture
async def browser(world: support.World, db_url: str) -> AsyncIterator[Browser]:
    app = create_app(support.settings_for(db_url, demo=True), clock=world.clock, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield Browser(client, world)


def test_the_limit_check_counts_charged_and_committed_spend() -> None:
    check = cost_codes.check_spend(
        Money(20000), Money(15000), Money(100000), committed=Money(70000)
    )
    assert check.spent == Money(90000) and check.remaining == Money(10000)
    assert check.over_limit
    assert check.note() == (
        "Over the annual limit: £200.00 charged and £700.00 committed of £1,000.00; this "
        "booking (£150.00) takes it to £1,050.00."
    )
    assert not cost_codes.check_spend(
        Money(0), Money(15000), Money(100000), committed=Money(85000)
    ).over_limit


def cell(row: str, label: str) -> str:
    match = re.search(rf'data-label="{label}">(.*?)</td>', row, re.S)
    assert match, f"no {label} cell"
    return text_of(match.group(1))


def codes_row(page: str, code: str) -> str:
    match = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\" data-label=\"Code\">{code}</th>.*?</tr>", page, re.S
    )
    assert match, f"no row for {code}"
    return match.group(0)


async def test_an_approved_place_is_committed_until_charged_and_released_by_a_free_cancel(
    world: support.World, browser: Browser
) -> None:
    await support.add_budget_holder(world)
    course = await support.make_course(world, price=Money(15000), cancellation_policy=POLICY)
    dear = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="LEAD", title="Leadership", price=Money(90000)),
    )
    start = world.clock.now() + timedelta(days=20)
    session_id = await support.make_session(
        world, course_id=course.id, start=start, facilitators=["trainer@example.org"]
    )
    dear_session = await support.make_session(
        world, course_id=dear.id, start=start + timedelta(days=5)
    )
    async with world.db.transaction() as s:
        await billing.create_cost_code(
            s,
            billing.CostCodeInput(
                "AS-4410",
                "Adult Services",
                "bud@example.org",
                date(2027, 1, 1),
                None,
                Money(100000),
            ),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )
    bud = await support.actor(world.db, "bud@example.org")
    config = payments.billing_config(world.db.settings)

    async def book_and_approve(email: str) -> int:
        learner = await support.actor(world.db, email)
        outcome = await bookings.book_place(
            world.db, world.clock, learner, BookingRequest(session_id, cost_code="AS-4410")
        )
        assert outcome.booking.state == "pending_approval"
        (request,) = await approvals.list_waiting(world.db, world.clock, bud)
        decided = await approvals.decide(world.db, world.clock, bud, request.id, decision="approve")
        assert decided.booking.state == "booked"
        return outcome.booking.id

    async def budget_row() -> str:
        await browser.sign_in("bud@example.org")
        page = await browser.get("/budget")
        assert page.status_code == 200, page.text
        return codes_row(page.text, "AS-4410")

    async def summary() -> billing.CodeSummary:
        (found,) = await payments.cost_code_spend(world.db, world.clock, bud, config)
        return found

    # Approved: £150 committed, on the page and in the limit check.
    lee_booking = await book_and_approve("lee@example.org")
    row = await budget_row()
    assert cell(row, "Committed") == "£150.00"
    assert cell(row, "Annual limit").startswith("£150.00 of £1,000.00 charged or committed")
    assert (await summary()).committed == Money(15000)

    # A second approved place, then cancelled in the free period: its commitment is released.
    mo_booking = await book_and_approve("manager@example.org")
    assert (await summary()).committed == Money(30000)
    mo = await support.actor(world.db, "manager@example.org")
    cancelled = await bookings.cancel_booking(
        world.db, world.clock, mo, mo_booking, reason="Illness"
    )
    assert cancelled.booking.fee is not None and cancelled.booking.fee.amount == 0
    assert (await summary()).committed == Money(15000)

    # A request over what is left (£850) is flagged by the limit check, which counts Lee's
    # committed place.
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(
        world.db, world.clock, kim, BookingRequest(dear_session, cost_code="AS-4410")
    )
    (request,) = await payments.spend_requests(world.db, world.clock, bud, config)
    assert request.over_limit and request.spent == Money(15000)
    (waiting,) = await approvals.list_waiting(world.db, world.clock, bud)
    assert waiting.note and "£150.00 committed of £1,000.00" in waiting.note
    await browser.sign_in("bud@example.org")
    assert "Over the annual limit with this booking" in (await browser.get("/budget")).text
    # A request waiting for approval is not a commitment.
    assert (await summary()).committed == Money(15000)

    # Attendance charges Lee's place: from committed to charged, counted once.
    world.clock.set(start + timedelta(hours=1))
    trainer = await support.actor(world.db, "trainer@example.org")
    await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(lee_booking, "attended")]
    )
    after = await summary()
    assert (after.committed, after.total) == (Money(0), Money(15000))
    assert after.check.spent == Money(15000)
    row = await budget_row()
    assert (cell(row, "Committed"), cell(row, "Charged")) == ("£0.00", "£150.00")
    assert cell(row, "Annual limit").startswith("£150.00 of £1,000.00 charged or committed")
