"""Journeys through the site in Chromium, as a new user would take them, each once with
JavaScript (htmx) and once without (plain forms). Every page on the way is checked by axe-core
(no serious or critical violations), for 24 × 24 px targets and for labelled forms with their
errors tied to the fields, and kept as a screenshot under test-artifacts/screenshots/.

The budget holder's request is made through the service layer: the sign-up form has no cost
code field yet.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Locator, expect

from billing.domain.money import Money
from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, RoomInput
from tests import support
from tests.browser.conftest import (
    Site,
    SiteFactory,
    Tab,
    TabFactory,
    feed_events,
    seed_cost_code,
)

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])

# Sessions start two weeks after the app's fixed clock: Mon 15 Mar 2027, 09:00–12:00 GMT.
FIRST_DAY = "Mon 15 Mar 2027"
SESSION_START = support.T0 + timedelta(days=14)


async def seed_catalogue(world: support.World, **session: object) -> int:
    """A few courses to search among; returns a session of Safeguarding Adults."""
    for code, title, summary, pence in (
        ("FIRE-1", "Fire Safety Awareness", "Extinguishers, exits and evacuation chairs.", 0),
        ("DATA-2", "Data Protection Essentials", "Handling personal data under UK GDPR.", 4500),
    ):
        course = await catalogue.create_course(
            world.db,
            world.clock,
            world.admin,
            CourseInput(
                code=code, title=title, summary=summary, price=Money(pence) if pence else None
            ),
        )
        await support.make_session(world, course_id=course.id, capacity=12)
    defaults: dict[str, object] = {
        "capacity": 12,
        "room": RoomInput("Room 2.14", "Civic Centre, Castle Street"),
        "facilitators": ["trainer@example.org"],
    }
    return await support.make_session(world, **{**defaults, **session})  # type: ignore[arg-type]


def row(tab: Tab, session_id: int) -> Locator:
    return tab.page.locator(f"#session-{session_id}")


async def find_course_by_search(
    tab: Tab, who: str, words: str, title: str, *, audit_all: bool = False
) -> None:
    """From a cold start: the login page, sign in, search the catalogue, open the course. The
    sign-in and search pages are the same in every journey: audited by the first one only."""
    await tab.goto("/courses")
    assert "/login" in tab.page.url
    if audit_all:
        await tab.check("1-sign-in")
    await tab.sign_in(who)
    await tab.page.get_by_label("Search courses").fill(words)
    await tab.page.get_by_role("button", name="Search").click()
    await expect(tab.page.get_by_text("1 course matching")).to_be_visible()
    if audit_all:
        await tab.check("2-search-results")
    await tab.page.get_by_role("link", name=title).click()
    await expect(tab.page.get_by_role("heading", level=1)).to_have_text(title)
    await tab.check("3-course")


async def sign_up(tab: Tab, session_id: int, *, action: str, confirm: str) -> str:
    """Sign up (or join the waiting list) from the session table; returns what the learner is
    told. With htmx the form opens in the row and the outcome goes to the status region; without,
    the form is a page of its own and the outcome a confirmation page."""
    page = tab.page
    if tab.js:
        status = page.locator("#status[role=status]")
        await expect(status).to_be_attached()
        assert await tab.status_text() == ""
        await row(tab, session_id).get_by_role("link", name=action).click()
        textarea = row(tab, session_id).get_by_label("Special requirements (optional)")
        await expect(textarea).to_be_focused()
        assert "/book" not in page.url, "htmx opens the form in place"
        await tab.check("4-sign-up-form")
        await textarea.fill("Step-free access, please")
        await page.get_by_role("button", name=confirm).click()
        # The region that was there from the start announces the outcome.
        await expect(status).not_to_be_empty()
        # The swapped row takes the focus (once htmx has settled it), so keyboard users carry
        # on from where they were rather than from the top of the page.
        await tab.wait_for_focus_in(f"session-{session_id}")
        await tab.check("5-signed-up")
        return await tab.status_text()
    await row(tab, session_id).get_by_role("link", name=action).click()
    await expect(page).to_have_url(re.compile(rf"/sessions/{session_id}/book$"))
    await tab.check("4-sign-up-form")
    await page.get_by_label("Special requirements (optional)").fill("Step-free access, please")
    await page.get_by_role("button", name=confirm).click()
    await expect(page).to_have_url(re.compile(r"/bookings/\d+\?new=1$"))
    await tab.check("5-signed-up")
    return " ".join((await page.locator("main").inner_text()).split())


def upcoming(tab: Tab) -> Locator:
    return tab.page.locator("table[aria-labelledby=upcoming-heading] tbody tr")


@JS
async def test_find_sign_up_see_download_and_cancel(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    session_id = await seed_catalogue(site.world)
    async with open_tab(js=js) as tab:
        page = tab.page
        await find_course_by_search(
            tab, "Lee Learner", "safeguard", "Safeguarding Adults", audit_all=True
        )
        the_row = row(tab, session_id)
        await expect(the_row).to_contain_text(f"{FIRST_DAY}, 09:00–12:00 GMT")
        await expect(the_row).to_contain_text("0 / 12")
        await expect(the_row.locator(".badge-open")).to_have_text("Open")
        if js:
            # Opening the form in the row and closing it again leaves the keyboard in the row.
            await the_row.get_by_role("link", name="Sign up").click()
            await the_row.get_by_role("link", name="Not now").click()
            await expect(the_row.get_by_role("link", name="Sign up")).to_be_visible()
            await tab.wait_for_focus_in(f"session-{session_id}")

        told = await sign_up(tab, session_id, action="Sign up", confirm="Confirm sign-up")
        assert "You're booked" in told, told

        # My bookings, through the main navigation.
        await (
            page.get_by_role("navigation", name="Main")
            .get_by_role("link", name="My bookings")
            .click()
        )
        await expect(page).to_have_url(re.compile(r"/me/bookings$"))
        await expect(upcoming(tab)).to_have_count(1)
        await expect(upcoming(tab)).to_contain_text("Safeguarding Adults")
        await expect(upcoming(tab).locator(".badge")).to_have_text("Booked")
        await tab.check("6-my-bookings", full_page=True)

        # The invitation: the private calendar feed downloads with the booked session in it.
        feed = page.locator("a.feed-url")
        href = await feed.get_attribute("href")
        assert href and re.fullmatch(re.escape(site.base_url) + r"/calendar/[^/]+\.ics", href)
        async with page.expect_download() as download_info:
            await feed.click()
        download = await download_info.value
        ics = (await download.path()).read_text(encoding="utf-8")
        assert ics.startswith("BEGIN:VCALENDAR"), ics[:200]
        events = feed_events(ics)
        assert len(events) == 1, events
        event = events[0]
        assert event["SUMMARY"] == "Safeguarding Adults"
        assert event["DTSTART;TZID=Europe/London"] == "20270315T090000"
        assert event["DTEND;TZID=Europe/London"] == "20270315T120000"
        assert "BEGIN:VTIMEZONE" in ics
        assert re.search(r"/bookings/\d+$", event["URL"])

        # Cancel: first without a reason (the error is tied to the field), then with one.
        await upcoming(tab).get_by_role("link", name=re.compile("^Cancel")).click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Cancel your booking")
        await tab.check("7-cancel")
        await page.get_by_role("button", name="Cancel booking").click()
        summary = page.locator(".error-summary[role=alert]")
        await expect(summary).to_contain_text("Choose a reason for cancelling.")
        await expect(summary).to_be_focused()
        reason = page.get_by_label("Reason for cancelling")
        await expect(reason).to_have_attribute("aria-invalid", "true")
        described_by = (await reason.get_attribute("aria-describedby") or "").split()
        assert "reason-error" in described_by
        await expect(page.locator("#reason-error")).to_contain_text("Choose a reason")
        await expect(page).to_have_title(re.compile("^Error: "))
        await tab.check("8-cancel-error")
        # The link in the error summary takes the keyboard to the field.
        await summary.get_by_role("link", name="Choose a reason for cancelling.").click()
        await expect(reason).to_be_focused()

        await reason.select_option("Work commitments")
        await page.get_by_label("More details (optional)").fill("A panel moved to that morning")
        await page.get_by_role("button", name="Cancel booking").click()
        await expect(page).to_have_url(re.compile(r"/me/bookings$"))
        await expect(page.locator("#status")).to_contain_text(
            f"Your booking on Safeguarding Adults, {FIRST_DAY} is cancelled."
        )
        past = page.locator("table[aria-labelledby=past-heading] tbody tr")
        await expect(past.locator(".badge")).to_have_text("Cancelled")
        await expect(page.get_by_text("You have no upcoming sessions.")).to_be_visible()
        await tab.check("9-cancelled")

    lee = await support.actor(site.world.db, "lee@example.org")
    mine = (await bookings.my_bookings(site.world.db, site.world.clock, lee)).items
    assert [(b.state, b.cancel_reason, b.special_requirements) for b in mine] == [
        ("cancelled", "Work commitments", "Step-free access, please")
    ]


@JS
async def test_join_the_waitlist_and_be_booked_when_someone_cancels(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    session_id = await seed_catalogue(world, capacity=1)
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))

    async with open_tab(js=js, who="lee") as tab:
        page = tab.page
        await find_course_by_search(tab, "Lee Learner", "safeguard", "Safeguarding Adults")
        await expect(row(tab, session_id)).to_contain_text("1 / 1")
        await expect(row(tab, session_id).locator(".badge-full")).to_have_text("Full")
        told = await sign_up(
            tab, session_id, action="Join waitlist", confirm="Join the waiting list"
        )
        assert "number 1 on the waiting list" in told, told

        await tab.goto("/me/bookings")
        await expect(upcoming(tab).locator(".badge")).to_have_text("Waitlisted #1")
        await tab.check("6-waitlisted")

        # Lee watches the course page while Kim cancels in a browser of her own.
        if js:
            await page.add_init_script(
                "document.addEventListener('htmx:sseOpen', () => {"
                " document.documentElement.dataset.liveOpen = 'yes'; })"
            )
        await tab.goto(f"/courses/{world.course_id}")
        mine = row(tab, session_id).locator(".badge-mine")
        await expect(mine).to_have_text("Waitlisted #1")
        if js:
            # Listening for changes. A locator, not `wait_for_function`: a string predicate that
            # has to poll is evaluated with eval, which the page's CSP forbids.
            await expect(page.locator("html[data-live-open='yes']")).to_have_count(1)
        async with open_tab(js=js, who="kim") as other:
            await other.goto("/login?next=/me/bookings")
            await other.sign_in("Kim Learner")
            await upcoming(other).get_by_role("link", name=re.compile("^Cancel")).click()
            await other.page.get_by_label("Reason for cancelling").select_option("Illness")
            await other.page.get_by_role("button", name="Cancel booking").click()
            await expect(other.page.locator("#status")).to_contain_text("is cancelled")

        # Waitlist mode "auto": the place is Lee's. With JavaScript the row updates by itself
        # (server-sent events); without, a reload shows it.
        if not js:
            await page.reload()
        await expect(mine).to_have_text("Booked")
        await expect(row(tab, session_id)).to_contain_text("1 / 1")
        await tab.check("7-promoted")
        await tab.goto("/me/bookings")
        await expect(upcoming(tab).locator(".badge")).to_have_text("Booked")


@JS
async def test_a_learner_asks_and_their_manager_approves_from_the_queue(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    await seed_catalogue(world)
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(
            code="LEAD-1",
            title="Leading Teams",
            summary="For new team leaders.",
            approval=["manager"],
        ),
    )
    session_id = await support.make_session(world, course_id=course.id, capacity=8)

    async with open_tab(js=js, who="lee") as tab:
        await find_course_by_search(tab, "Lee Learner", "leading", "Leading Teams")
        told = await sign_up(tab, session_id, action="Sign up", confirm="Confirm sign-up")
        assert "waiting for approval" in told, told

        async with open_tab(js=js, who="manager") as manager:
            page = manager.page
            await manager.goto("/login?next=/approvals")
            await manager.sign_in("Mo Manager")
            await expect(page.get_by_role("heading", level=1)).to_have_text("Approvals")
            request = page.locator("tbody tr", has_text="Lee Learner")
            await expect(request).to_contain_text("Leading Teams")
            await manager.check("1-queue")
            await request.get_by_role("button", name="Approve").click()
            await expect(page.locator("#status")).to_contain_text("Approved: Lee Learner")
            await expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
            await manager.check("2-approved")

        await tab.goto("/me/bookings")
        await expect(upcoming(tab).locator(".badge")).to_have_text("Booked")


@JS
async def test_a_budget_holder_approves_from_the_queue(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    """A priced place paid by a cost code waits for the code's budget holder. (The sign-up form
    has no cost code field yet, so the request is made through the service, as the API would.)"""
    world = site.world
    course_id = await seed_cost_code(world)
    session_id = await support.make_session(world, course_id=course_id, capacity=8)
    lee = await support.actor(world.db, "lee@example.org")
    asked = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="AS-4410")
    )
    assert asked.booking.state == "pending_approval"

    async with open_tab(js=js, who="budget") as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Bea Budget")
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Budget").click()
        request = page.locator("tbody tr", has_text="Lee Learner")
        await expect(request).to_contain_text("Mental Health First Aid")
        await expect(request).to_contain_text("AS-4410")
        await expect(request).to_contain_text("£60.00")
        await tab.check("1-queue", full_page=True)
        await request.get_by_role("button", name="Approve").click()
        await expect(page.locator("#status")).to_contain_text("Approved: Lee Learner")
        await tab.check("2-approved")

    async with open_tab(js=js, who="lee") as tab:
        await tab.goto("/login?next=/me/bookings")
        await tab.sign_in("Lee Learner")
        await expect(upcoming(tab).locator(".badge")).to_have_text("Booked")
        await expect(upcoming(tab)).to_contain_text("Mental Health First Aid")


@JS
async def test_a_trainer_opens_the_roster_and_takes_attendance(
    js: bool, open_site: SiteFactory, world: support.World, open_tab: TabFactory
) -> None:
    session_id = await seed_catalogue(world, capacity=2)
    booked = {}
    for email, needs in (
        ("lee@example.org", "Wheelchair user; needs a ground-floor room"),
        ("kim@example.org", None),
        ("manager@example.org", "Vegetarian lunch"),
    ):
        who = await support.actor(world.db, email)
        outcome = await bookings.book_place(
            world.db, world.clock, who, BookingRequest(session_id, special_requirements=needs)
        )
        booked[email] = outcome.booking.id
    late = await support.make_learners(world, 1, prefix="late")
    sam = await support.actor(world.db, late[0])
    sams = await bookings.book_place(world.db, world.clock, sam, BookingRequest(session_id))
    await bookings.cancel_booking(world.db, world.clock, sam, sams.booking.id, reason="Illness")

    # The app's clock stands an hour into the session: attendance can be taken.
    async with open_site(now=SESSION_START + timedelta(hours=1)), open_tab(js=js) as tab:
        page = tab.page
        await tab.goto(f"/sessions/{session_id}")
        await tab.sign_in("Tia Trainer")
        await page.get_by_role("link", name="See the roster").click()
        await expect(page).to_have_url(re.compile(rf"/sessions/{session_id}/roster$"))
        on_list = page.locator("section[aria-labelledby=roster-booked]")
        await expect(on_list.get_by_role("heading")).to_have_text("Booked (2)")
        await expect(on_list).to_contain_text("Wheelchair user")
        waiting = page.locator("section[aria-labelledby=roster-waitlisted] tbody tr")
        await expect(waiting).to_have_count(1)
        await expect(waiting).to_contain_text("Mo Manager")
        await expect(page.locator("section[aria-labelledby=roster-cancelled]")).to_contain_text(
            "Illness"
        )
        await tab.check("1-roster", full_page=True)

        # One learner marked in place, then everyone else in bulk.
        lee_row = page.locator(f"#attendance-{booked['lee@example.org']}")
        no_show = lee_row.get_by_role("button", name="No-show")
        await no_show.click()
        await expect(page.locator("#status")).to_contain_text("Lee Learner: No-show.")
        await expect(lee_row.get_by_role("button", name="No-show")).to_have_attribute(
            "aria-pressed", "true"
        )
        if js:
            # Marked in place: the keyboard stays on the row just marked.
            await tab.wait_for_focus_in(f"attendance-{booked['lee@example.org']}")
        await page.get_by_role("button", name="Mark all 1 unmarked as attended").click()
        kim_row = page.locator(f"#attendance-{booked['kim@example.org']}")
        await expect(kim_row.locator(".badge")).to_have_text(re.compile("Attended"))
        await expect(lee_row.locator(".badge")).to_have_text(re.compile("No-show"))
        await page.evaluate("window.scrollTo(0, 0)")  # the screenshot: the top of the roster
        await tab.check("2-attendance")

    states = {
        email: (await bookings.get_booking(world.db, world.clock, world.admin, b)).state
        for email, b in booked.items()
    }
    assert states == {
        "lee@example.org": "no_show",
        "kim@example.org": "attended",
        "manager@example.org": "waitlisted",
    }


async def test_the_sign_in_form_outside_the_demo(
    open_site: SiteFactory, open_tab: TabFactory
) -> None:
    """Outside demo mode the sign-in form asks who you are: fields the browser may fill in
    (autocomplete), whose error is tied to them and takes the focus."""
    async with open_site(demo=False), open_tab(js=False) as tab:
        page = tab.page
        await tab.goto("/login")
        form = page.locator("form.login-form")
        fields = form.locator("input:not([type=hidden])")
        assert await fields.count() >= 1
        for i in range(await fields.count()):
            field = fields.nth(i)
            assert await field.get_attribute("autocomplete") in (
                "username",
                "email",
                "current-password",
            ), await field.evaluate("el => el.outerHTML")
            kind = await field.get_attribute("type")
            await field.fill("nobody@example.org" if kind == "email" else "not-the-right-one")
        await tab.check("1-form")
        await form.get_by_role("button", name="Sign in").click()
        error = page.locator(".error-summary")
        await expect(error).to_be_focused()
        for i in range(await fields.count()):
            field = fields.nth(i)
            await expect(field).to_have_attribute("aria-invalid", "true")
            described_by = (await field.get_attribute("aria-describedby") or "").split()
            in_summary = [ref for ref in described_by if await error.locator(f"#{ref}").count()]
            assert in_summary, f"the error is not tied to the field: {described_by}"
        await tab.check("2-error")
