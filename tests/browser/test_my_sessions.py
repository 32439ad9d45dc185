"""A trainer finds today's session under "My sessions" and takes attendance; the page (and the
administration page) pass axe and fit a 320 px screen. With JavaScript (htmx) and without."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import expect

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.browser.conftest import PHONE, SiteFactory, TabFactory
from tests.browser.test_small_screens import NO_SCROLL_JS

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
TODAY = support.T0 + timedelta(days=14)
LONG_TITLE = "Multidisciplinary Safeguarding: Interprofessionalsafeguardingcoordination (Level 3)"


async def seed(world: support.World) -> dict[str, int]:
    """Today's session (Lee and Kim booked, Mo waiting), one next month, and another trainer's."""
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="SAFE-3", title=LONG_TITLE)
    )
    today = await support.make_session(
        world, course_id=course.id, start=TODAY, capacity=2, facilitators=["trainer@example.org"]
    )
    booked = {}
    for email in ("lee@example.org", "kim@example.org", "manager@example.org"):
        who = await support.actor(world.db, email)
        outcome = await bookings.book_place(world.db, world.clock, who, BookingRequest(today))
        booked[email] = outcome.booking.id
    await support.make_session(
        world, start=TODAY + timedelta(days=30), facilitators=["trainer@example.org"]
    )
    await support.make_session(world, start=TODAY + timedelta(days=2))
    return {"today": today, **booked}


@JS
async def test_a_trainer_finds_todays_session_and_takes_attendance(
    js: bool, open_site: SiteFactory, world: support.World, open_tab: TabFactory
) -> None:
    seeded = await seed(world)
    today = seeded["today"]
    # An hour into today's session.
    async with open_site(now=TODAY + timedelta(hours=1)), open_tab(js=js) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Tia Trainer")
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="My team")).to_have_count(0)
        await expect(nav.get_by_role("link", name="Approvals")).to_have_count(0)
        await nav.get_by_role("link", name="My sessions").click()
        await expect(page).to_have_url(re.compile(r"/me/sessions$"))
        await expect(nav.get_by_role("link", name="My sessions")).to_have_attribute(
            "aria-current", "page"
        )

        to_take = page.locator("section[aria-labelledby=to-take-heading]")
        await expect(to_take.locator("tbody tr")).to_have_count(1)
        await expect(to_take).to_contain_text(LONG_TITLE)
        await expect(to_take).to_contain_text("2 to mark")
        upcoming = page.locator("section[aria-labelledby=upcoming-heading] tbody tr")
        await expect(upcoming).to_have_count(2)
        await expect(upcoming.first).to_contain_text("2 / 2")
        await expect(upcoming.first.locator("td[data-label='Places'] .waiting")).to_have_text(
            "1 waiting"
        )
        await expect(upcoming.nth(1)).to_contain_text("Not started")
        await tab.check("1-my-sessions", full_page=True)

        await to_take.get_by_role("link", name=re.compile(r"^Take attendance for")).click()
        await expect(page).to_have_url(re.compile(rf"/sessions/{today}/roster$"))
        lee_row = page.locator(f"#attendance-{seeded['lee@example.org']}")
        await lee_row.get_by_role("button", name="No-show").click()
        await expect(page.locator("#status")).to_contain_text("Lee Learner: No-show.")
        await page.get_by_role("button", name="Mark all 1 unmarked as attended").click()
        kim_row = page.locator(f"#attendance-{seeded['kim@example.org']}")
        await expect(kim_row.locator(".badge")).to_have_text(re.compile("Attended"))

        await nav.get_by_role("link", name="My sessions").click()
        await expect(page.locator("section[aria-labelledby=to-take-heading]")).to_contain_text(
            "Nothing to mark"
        )
        await expect(upcoming.first.locator("td[data-label='Attendance']")).to_have_text("Taken")
        await tab.check("2-attendance-taken")

    states = {
        email: (await bookings.get_booking(world.db, world.clock, world.admin, b)).state
        for email, b in seeded.items()
        if email != "today"
    }
    assert states == {
        "lee@example.org": "no_show",
        "kim@example.org": "attended",
        "manager@example.org": "waitlisted",
    }


async def test_my_sessions_and_administration_fit_320_pixels(
    open_site: SiteFactory, world: support.World, open_tab: TabFactory
) -> None:
    await seed(world)
    async with open_site(now=TODAY + timedelta(hours=1)):
        for who, path in (("Tia Trainer", "/me/sessions"), ("Ada Admin", "/admin")):
            async with open_tab(js=True, who=who, viewport=PHONE) as tab:
                await tab.goto("/login")
                await tab.sign_in(who)
                await tab.goto(path)
                measured = await tab.page.evaluate(NO_SCROLL_JS)
                assert measured["width"] <= PHONE["width"], f"{path} scrolls sideways: {measured}"
                await tab.check("320px", full_page=True)
        async with open_tab(js=True, who="Ada Admin") as tab:
            await tab.goto("/login")
            await tab.sign_in("Ada Admin")
            await tab.goto("/admin")
            await tab.check("desktop")
