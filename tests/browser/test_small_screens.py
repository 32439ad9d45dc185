"""At 320 CSS pixels wide (a small phone, or 1280 px zoomed to 400 %, WCAG 1.4.10 Reflow) the
main pages need no horizontal scrolling: tables become cards, long words and links wrap."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import expect

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, RoomInput
from tests import support
from tests.browser.conftest import PHONE, Site, Tab, TabFactory, seed_cost_code

NO_SCROLL_JS = """
() => {
  const width = document.documentElement.scrollWidth;
  const wide = [];
  if (width > document.documentElement.clientWidth) {
    for (const el of document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      if (box.right > document.documentElement.clientWidth + 1 && box.width > 0) {
        wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`
          + ` right=${Math.round(box.right)}`);
      }
    }
  }
  return {width, wide: wide.slice(0, 8)};
}
"""


async def assert_fits(tab: Tab, name: str) -> None:
    measured = await tab.page.evaluate(NO_SCROLL_JS)
    assert measured["width"] <= PHONE["width"], f"{name} scrolls sideways: {measured}"
    await tab.screenshot(name, full_page=True)


async def test_the_main_pages_fit_a_320_pixel_screen(site: Site, open_tab: TabFactory) -> None:
    world = site.world
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(
            code="LONG-WORDS-1",
            title="Multidisciplinary Safeguarding Responsibilities (Level 3)",
            summary="Information-sharing, record-keeping and escalation for practitioners.",
        ),
    )
    start = support.T0 + timedelta(days=14)
    # Two dates of the long-titled course, and a full session of another one.
    sessions = [
        await support.make_session(
            world,
            course_id=course_id,
            start=start + timedelta(days=i),
            capacity=capacity,
            room=RoomInput("Committee Room 1", "Civic Centre, Castle Street, Anytown AN1 1AA"),
            facilitators=["trainer@example.org"],
        )
        for i, (course_id, capacity) in enumerate(
            ((course.id, 12), (world.course_id, 1), (course.id, 12))
        )
    ]
    kim = await support.actor(world.db, "kim@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(sessions[1]))
    mine = await bookings.book_place(
        world.db,
        world.clock,
        lee,
        BookingRequest(sessions[0], special_requirements="A hearing loop, please"),
    )
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(sessions[1]))
    booking_id = mine.booking.id

    async with open_tab(js=True, who="lee", viewport=PHONE) as tab:
        await tab.goto("/login")
        await assert_fits(tab, "login")
        await tab.sign_in("Lee Learner")
        for name, path in (
            ("courses", "/courses"),
            ("course", f"/courses/{course.id}"),
            ("session", f"/sessions/{sessions[2]}"),
            ("book", f"/sessions/{sessions[2]}/book"),
            ("booking", f"/bookings/{booking_id}"),
            ("my-bookings", "/me/bookings"),
            ("cancel", f"/bookings/{booking_id}/cancel"),
        ):
            await tab.goto(path)
            await assert_fits(tab, name)
        # A phone screen's worth of the session cards (for the README).
        await tab.goto(f"/courses/{course.id}")
        await tab.page.evaluate(
            "document.getElementById('sessions-heading').scrollIntoView({block: 'start'})"
        )
        await tab.screenshot("course-cards")
        # The sign-up form opened inside a session card (Lee has given up the other date).
        await bookings.cancel_booking(
            world.db, world.clock, lee, booking_id, reason="Booked another date"
        )
        await tab.goto(f"/courses/{course.id}")
        row = tab.page.locator(f"#session-{sessions[2]}")
        await row.get_by_role("link", name="Sign up").click()
        await expect(row.get_by_label("Special requirements (optional)")).to_be_focused()
        await assert_fits(tab, "course-sign-up-open")

    async with open_tab(js=True, who="trainer", viewport=PHONE) as tab:
        await tab.goto(f"/sessions/{sessions[1]}/roster")
        await tab.sign_in("Tia Trainer")
        await expect(tab.page.get_by_role("heading", level=1)).to_contain_text("Roster")
        await assert_fits(tab, "roster")

    # The approvers' queues, each with a request waiting.
    gated = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="LEAD-1", title="Leading Teams", approval=["manager"]),
    )
    priced = await seed_cost_code(world)
    for later, course_id, cost_code in ((5, gated.id, None), (6, priced, "AS-4410")):
        session_id = await support.make_session(
            world, course_id=course_id, start=start + timedelta(days=later)
        )
        await bookings.book_place(
            world.db, world.clock, kim, BookingRequest(session_id, cost_code=cost_code)
        )
    for who, name, path in (
        ("manager", "Mo Manager", "/approvals"),
        ("budget", "Bea Budget", "/budget"),
    ):
        async with open_tab(js=True, who=who, viewport=PHONE) as tab:
            await tab.goto(f"/login?next={path}")
            await tab.sign_in(name)
            await expect(tab.page.get_by_role("button", name="Approve")).to_be_visible()
            await assert_fits(tab, path.strip("/"))
