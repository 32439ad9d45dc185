"""Billing's pages through a browser-like client: the cancel page's quote, the budget holder's
queue with the over-limit flag, cost codes (add, import, export) and the payment page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from billing import services as billing
from billing.domain.money import Money
from booking import bookings, catalogue
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.db import Database
from booking.models import Booking
from tests import support
from tests.billing.conftest import LocalStripe, stripe_settings
from tests.web.conftest import Browser

POLICY = {
    "tiers": [
        {"min_notice_hours": 336, "fee_percent": 0},
        {"min_notice_hours": 168, "fee_percent": 50},
        {"min_notice_hours": 0, "fee_percent": 100},
    ]
}


@pytest.fixture
async def browser(world: support.World, db_url: str) -> AsyncIterator[Browser]:
    app = create_app(support.settings_for(db_url, demo=True), clock=world.clock, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield Browser(client, world)


async def setup(world: support.World, *, days: int, limit: int | None = None) -> tuple[int, int]:
    await support.add_budget_holder(world)
    course = await support.make_course(world, price=Money(6000), cancellation_policy=POLICY)
    session_id = await support.make_session(
        world, course_id=course.id, start=world.clock.now() + timedelta(days=days)
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
                Money(limit) if limit else None,
            ),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )
    return course.id, session_id


async def test_the_cancel_page_shows_the_fee_and_until_when_it_is_free(
    world: support.World, browser: Browser
) -> None:
    _, session_id = await setup(world, days=20)
    bud = await support.actor(world.db, "bud@example.org")
    booked = await bookings.book_place(
        world.db, world.clock, bud, BookingRequest(session_id, cost_code="AS-4410")
    )
    await browser.sign_in("bud@example.org")
    page = await browser.get(f"/bookings/{booked.booking.id}/cancel")
    assert page.status_code == 200
    assert "Cancelling now is <strong>free</strong>" in page.text
    assert "It is free until" in page.text and "(GMT)" in page.text
    world.clock.advance(timedelta(days=10))
    await browser.sign_in("bud@example.org")  # the sign-in has timed out meanwhile
    page = await browser.get(f"/bookings/{booked.booking.id}/cancel")
    assert "Cancelling now costs <strong>£30.00</strong>" in page.text
    assert 'name="quoted_fee_amount" value="3000"' in page.text


async def test_the_budget_holder_page_flags_a_request_over_the_limit(
    world: support.World, browser: Browser
) -> None:
    _, session_id = await setup(world, days=20, limit=5000)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="AS-4410")
    )
    await browser.sign_in("bud@example.org")
    page = await browser.get("/budget")
    assert page.status_code == 200, page.text
    assert "Lee Learner" in page.text and "AS-4410" in page.text
    assert "Over the annual limit with this booking" in page.text
    assert "/approvals/" in page.text and 'value="decline"' in page.text
    await browser.sign_in("lee@example.org")
    assert (await browser.get("/budget")).status_code == 403


async def test_administrators_add_import_and_export_cost_codes(
    world: support.World, browser: Browser
) -> None:
    await browser.sign_in("admin@example.org")
    page = await browser.get("/admin/cost-codes")
    assert page.status_code == 200 and "No cost codes yet" in page.text
    bad = await browser.post(
        "/admin/cost-codes",
        {
            "code": "x y",
            "description": "d",
            "budget_holder_email": "bud@example.org",
            "active_from": "2027-01-01",
        },
    )
    assert bad.status_code == 200 and "There is a problem" in bad.text
    added = await browser.post(
        "/admin/cost-codes",
        {
            "code": "ch-1",
            "description": "Children",
            "budget_holder_email": "bud@example.org",
            "active_from": "2027-01-01",
            "annual_limit": "2500.00",
        },
    )
    assert added.status_code == 303
    csv_text = (
        "code,description,budget_holder_email,active_from\nAS-1,Adults,bud@example.org,2027-01-01\n"
    )
    imported = await browser.client.post(
        "/admin/cost-codes/import",
        files={"file": ("codes.csv", csv_text.encode(), "text/csv")},
        data={"_csrf_token": browser.csrf()},
    )
    assert imported.status_code == 200, imported.text
    assert "Line 2 (AS-1): created" in imported.text and "CH-1" in imported.text
    export = await browser.get("/admin/finance/journal.csv?from=2027-03-01&to=2027-03-31")
    assert export.status_code == 200
    assert export.content.startswith(b"\xef\xbb\xbfdate,cost_code,amount")  # BOM for Excel
    await browser.sign_in("lee@example.org")
    assert (await browser.get("/admin/cost-codes")).status_code == 403


async def test_the_payment_page_alone_loads_stripe_js(
    world: support.World, db_url: str, localstripe: LocalStripe
) -> None:
    from dataclasses import replace

    settings = replace(stripe_settings(db_url, localstripe), demo=True)
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="EXT-2", title="Paid course", price=Money(4500)),
    )
    session_id = await support.make_session(world, course_id=course.id)
    app = create_app(settings, clock=world.clock, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        browser = Browser(client, world)
        await browser.sign_in("lee@example.org")
        lee = await support.actor(world.db, "lee@example.org")
        stripe_db = Database(settings)  # card payments are on for this database's settings
        try:
            booked = await bookings.book_place(
                stripe_db, world.clock, lee, BookingRequest(session_id)
            )
        finally:
            await stripe_db.dispose()
        assert booked.booking.state == "pending_payment"
        page = await browser.get(f"/bookings/{booked.booking.id}/pay")
        assert page.status_code == 200, page.text
        assert "https://js.stripe.com/v3/" in page.text and "£45.00" in page.text
        assert "https://js.stripe.com" in page.headers["content-security-policy"]
        other = await browser.get("/courses")
        assert "js.stripe.com" not in other.text
        assert "js.stripe.com" not in other.headers["content-security-policy"]
        await browser.sign_in("kim@example.org")
        assert (await browser.get(f"/bookings/{booked.booking.id}/pay")).status_code == 404


async def test_the_sign_up_form_takes_a_cost_code_and_refuses_an_unknown_one_in_place(
    world: support.World, browser: Browser
) -> None:
    _, session_id = await setup(world, days=20)
    await browser.sign_in("lee@example.org")
    form = await browser.get(f"/sessions/{session_id}/book")
    assert "Cost code (optional)" in form.text
    assert "This course costs £60.00" in form.text

    refused = await browser.post(f"/sessions/{session_id}/book", {"cost_code": "NOPE-1"})
    assert refused.status_code == 422
    assert "Nothing has been booked." in refused.text
    assert 'name="cost_code" maxlength="40"' in refused.text and 'value="NOPE-1"' in refused.text
    async with world.db.reading() as s:
        assert await s.scalar(select(func.count()).select_from(Booking)) == 0

    sent = await browser.post(f"/sessions/{session_id}/book", {"cost_code": "as-4410"})
    assert sent.status_code == 303, sent.text
    async with world.db.reading() as s:
        booking = await s.scalar(select(Booking))
    assert booking is not None and booking.cost_code == "AS-4410"
    # The code pays where a fee can arise, so its budget holder approves first.
    assert booking.state == "pending_approval"
