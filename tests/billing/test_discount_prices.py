"""A discount price for a named audience: a learner in it (units with their sub-units, job
roles, staff types) is quoted, committed, charged and paid the discount price; everyone else the
normal price; and a booking keeps the price it was made at when the course's prices change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from litestar.testing import AsyncTestClient

from billing import services as billing
from billing.domain.money import Money
from booking import approvals, bookings, catalogue, payments, roster
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.catalogue.inputs import DiscountInput
from booking.models import Booking
from tests import support
from tests.web.conftest import Browser

PRICE, DISCOUNT = Money(15000), Money(9000)
BOTH = Money(24000)


@pytest.fixture
async def browser(world: support.World, db_url: str) -> AsyncIterator[Browser]:
    app = create_app(support.settings_for(db_url, demo=True), clock=world.clock, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield Browser(client, world)


async def discounted_course(world: support.World, audience: dict[str, list[str]]) -> int:
    course = await support.make_course(
        world, price=PRICE, discount=DiscountInput(DISCOUNT.amount, audience)
    )
    return int(course.id)


async def add_cost_code(world: support.World) -> None:
    await support.add_budget_holder(world)
    async with world.db.transaction() as s:
        await billing.create_cost_code(
            s,
            billing.CostCodeInput(
                "AS-4410", "Adult Services", "bud@example.org", date(2027, 1, 1), None, None
            ),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )


async def book_with_code(world: support.World, email: str, session_id: int) -> int:
    learner = await support.actor(world.db, email)
    outcome = await bookings.book_place(
        world.db, world.clock, learner, BookingRequest(session_id, cost_code="AS-4410")
    )
    bud = await support.actor(world.db, "bud@example.org")
    waiting = [
        r
        for r in await approvals.list_waiting(world.db, world.clock, bud)
        if r.booking_id == outcome.booking.id
    ]
    assert [r.amount for r in waiting] == [
        {"amount": (DISCOUNT if email == "lee@example.org" else PRICE).amount, "currency": "GBP"}
    ]
    await approvals.decide(world.db, world.clock, bud, waiting[0].id, decision="approve")
    return outcome.booking.id


async def price_kept(world: support.World, booking_id: int) -> int | None:
    async with world.db.reading() as s:
        booking = await s.get(Booking, booking_id)
        assert booking is not None
        return booking.price_amount


async def test_the_discount_audience_pays_the_discount_price_from_quote_to_charge(
    world: support.World,
) -> None:
    # The discount is for ADULT: Lee (ADULT) gets it, Kim (CHILD) does not.
    course_id = await discounted_course(world, {"org_units": ["ADULT"]})
    await add_cost_code(world)
    start = world.clock.now() + timedelta(days=20)
    session_id = await support.make_session(
        world, course_id=course_id, start=start, facilitators=["trainer@example.org"]
    )
    lee = await book_with_code(world, "lee@example.org", session_id)
    kim = await book_with_code(world, "kim@example.org", session_id)
    assert (await price_kept(world, lee), await price_kept(world, kim)) == (9000, 15000)

    config = payments.billing_config(world.db.settings)
    bud = await support.actor(world.db, "bud@example.org")
    (code,) = await payments.cost_code_spend(world.db, world.clock, bud, config)
    assert code.committed == BOTH

    # The course's prices change after booking: the places keep theirs.
    await catalogue.update_course(
        world.db,
        world.clock,
        world.admin,
        course_id,
        CourseInput(code="MHFA", title="Mental Health First Aid", price=Money(30000)),
    )
    world.clock.set(start + timedelta(hours=1))
    trainer = await support.actor(world.db, "trainer@example.org")
    await roster.mark_attendance(
        world.db,
        world.clock,
        trainer,
        session_id,
        [roster.Mark(lee, "attended"), roster.Mark(kim, "attended")],
    )
    (code,) = await payments.cost_code_spend(world.db, world.clock, bud, config)
    assert (code.committed, code.total) == (Money(0), BOTH)


async def test_sub_units_job_roles_and_staff_types_count_and_a_free_discount_needs_no_payer(
    world: support.World,
) -> None:
    # The discount is for everyone under ORG (both ADULT and CHILD), and free.
    course = await support.make_course(
        world, price=PRICE, discount=DiscountInput(0, {"org_units": ["ORG"]})
    )
    session_id = await support.make_session(world, course_id=course.id)
    kim = await support.actor(world.db, "kim@example.org")
    outcome = await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    assert outcome.booking.state == "booked"
    assert await price_kept(world, outcome.booking.id) == 0

    # A job-role discount: social workers pay less, the team manager does not.
    other = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(
            code="LEAD",
            title="Leadership",
            price=PRICE,
            discount=DiscountInput(DISCOUNT.amount, {"job_roles": ["social worker"]}),
        ),
    )
    other_session = await support.make_session(world, course_id=other.id)
    await add_cost_code(world)
    lee = await book_with_code(world, "lee@example.org", other_session)
    assert await price_kept(world, lee) == DISCOUNT.amount
    mo = await support.actor(world.db, "manager@example.org")
    mine = await bookings.book_place(
        world.db, world.clock, mo, BookingRequest(other_session, cost_code="AS-4410")
    )
    assert await price_kept(world, mine.booking.id) == PRICE.amount


async def test_the_course_page_and_sign_up_form_name_the_discount_and_who_pays_it(
    world: support.World, browser: Browser
) -> None:
    course_id = await discounted_course(world, {"org_units": ["ADULT"], "staff_types": ["casual"]})
    session_id = await support.make_session(world, course_id=course_id)
    await browser.sign_in("lee@example.org")
    page = await browser.get(f"/courses/{course_id}")
    assert page.status_code == 200
    assert "£150.00 (£90.00 for staff in ADULT; casual staff)" in page.text
    form = await browser.get(f"/sessions/{session_id}/book")
    assert "This course costs £150.00 (£90.00 for staff in ADULT; casual staff)." in form.text
