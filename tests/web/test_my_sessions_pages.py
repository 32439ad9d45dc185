"""My sessions, the administration page, and a header that shows each person only the entries
they can use."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar.testing import AsyncTestClient

from booking import bookings
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.clock import FixedClock
from booking.web.pages.admin_hub import ADMIN_PAGES
from tests import support
from tests.web.conftest import Browser

NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def header(html: str) -> dict[str, str]:
    """The header's entries: label → link (the current one's label ends with " *")."""
    found = NAV.search(html)
    assert found, "no main navigation"
    return {
        label + (" *" if current else ""): href for href, current, label in LINK.findall(found[1])
    }


async def test_each_person_sees_only_the_entries_they_can_use(browser: Browser) -> None:
    await support.add_budget_holder(browser.world)
    expected = {
        "lee@example.org": ["Courses *", "My bookings", "My record"],
        "manager@example.org": ["Courses *", "My bookings", "My record", "My team", "Approvals"],
        "trainer@example.org": ["Courses *", "My bookings", "My record", "My sessions"],
        "bud@example.org": ["Courses *", "My bookings", "My record", "Approvals", "Budget"],
        "admin@example.org": [
            "Courses *",
            "My bookings",
            "My record",
            "Approvals",
            "Administration",
        ],
    }
    for email, entries in expected.items():
        await browser.sign_in(email)
        page = await browser.get("/courses")
        assert list(header(page.text)) == entries, email
        await browser.post("/logout")
    signed_out = await browser.get("/login")
    assert list(header(signed_out.text)) == ["Courses"]


async def test_a_person_who_runs_a_session_is_a_trainer_in_the_header(browser: Browser) -> None:
    """Running a session, not the role, is what counts: Kim (a learner) runs one."""
    await support.make_session(browser.world, facilitators=["kim@example.org"])
    await browser.sign_in("kim@example.org")
    entries = header((await browser.get("/me/sessions")).text)
    assert entries["My sessions *"] == "/me/sessions"
    assert "My team" not in entries and "Approvals" not in entries


async def test_a_trainer_finds_the_started_session_and_its_roster(
    db_url: str, world: support.World
) -> None:
    started = await support.make_session(world, capacity=4, facilitators=["trainer@example.org"])
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(started))
    coming = await support.make_session(
        world,
        start=world.clock.now() + timedelta(days=30),
        facilitators=["trainer@example.org"],
        waitlist_mode="auto",
    )
    # The app's clock stands one hour into the first session.
    later = FixedClock(support.T0 + timedelta(days=14, hours=1))
    app = create_app(support.settings_for(db_url, demo=True), clock=later, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        browser = Browser(client, world)
        await browser.sign_in("trainer@example.org")
        page = await browser.get("/me/sessions")
        assert page.status_code == 200
        to_take = page.text.split('id="to-take-heading"')[1].split('id="upcoming-heading"')[0]
        assert "1 to mark" in to_take and f'href="/sessions/{started}/roster"' in to_take
        assert "Take attendance" in to_take and "Safeguarding Adults" in to_take
        assert f'href="/sessions/{coming}/roster"' in page.text
        assert "1 / 4" in page.text
        assert "You have not run a session yet." in page.text
        roster = await browser.get(f"/sessions/{started}/roster")
        assert roster.status_code == 200 and "Lee Learner" in roster.text
        assert "My sessions *" in header(roster.text)  # the trainer came from there
        for odd in ("?past=2", "?past=abc", "?past=-4", "?past=99999999999999999999"):
            assert (await browser.get(f"/me/sessions{odd}")).status_code == 200, odd


async def test_people_who_run_nothing_are_told_so(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    page = await browser.get("/me/sessions")
    assert page.status_code == 200
    assert "You have no upcoming sessions to run." in page.text
    assert "Nothing to mark" in page.text


async def test_the_administration_page_links_every_admin_page(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    hub = await browser.get("/admin")
    assert hub.status_code == 200
    assert header(hub.text)["Administration *"] == "/admin"
    for entry in ADMIN_PAGES:
        assert f'href="{entry.href}"' in hub.text
        opened = await browser.get(entry.href)
        assert opened.status_code == 200, entry.href
        if entry.nav != "courses":
            assert "Administration *" in header(opened.text), entry.href
    await browser.post("/logout")
    await browser.sign_in("trainer@example.org")
    assert (await browser.get("/admin")).status_code == 403
