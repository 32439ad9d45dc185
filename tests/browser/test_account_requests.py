"""Someone without an account asks for one, confirms their address by the emailed link, and an
administrator approves it in the queue; the sessions list. axe on every page, with and without
JavaScript; the queue and the sessions list fit a 320 px screen."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from booking.models import Outbox, Person
from tests import support
from tests.browser.conftest import PHONE, Site, TabFactory
from tests.browser.test_small_screens import NO_SCROLL_JS

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])


async def _confirm_link(site: Site) -> str:
    async with site.world.db.reading() as s:
        mail = await s.scalar(select(Outbox).where(Outbox.topic == "account.request_confirm"))
    assert mail is not None
    return re.sub(r"^https?://[^/]+", "", mail.payload["link"])


@JS
async def test_someone_asks_for_an_account_and_an_administrator_approves_it(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    async with open_tab(js=js) as tab:
        page = tab.page
        await tab.goto("/login")
        await page.get_by_role("link", name="ask for an account").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Ask for an account")
        await tab.check("1-request-form", full_page=True)
        await page.get_by_label("Full name").fill("Sam Supply")
        await page.get_by_label("Email address", exact=True).fill("not an address")
        await page.get_by_role("button", name="Request an account").click()
        # Refused in place, with what was typed kept.
        await expect(page.locator(".error-summary")).to_contain_text("Enter an email address")
        await expect(page.get_by_label("Full name")).to_have_value("Sam Supply")
        await tab.check("2-request-form-errors", full_page=True)
        await page.get_by_label("Email address", exact=True).fill("sam@school.example")
        await page.get_by_label("Organisation or employer").fill("Hillside Primary School")
        await page.get_by_label("Unit you work in (optional)").select_option(label="Adult Services")
        await page.get_by_label("Job role").fill("Teaching assistant")
        await page.get_by_label("External, such as school staff").check()
        await page.get_by_label("Why do you need an account?").fill("Safeguarding training")
        await page.get_by_role("button", name="Request an account").click()
        await expect(page.locator(".panel")).to_contain_text("We have sent an email")
        await tab.check("3-request-sent")

        await tab.goto(await _confirm_link(site))
        await tab.check("4-confirm")
        await page.get_by_role("button", name="Confirm my email address").click()
        await expect(page.locator(".panel")).to_contain_text("your address is confirmed")

    async with open_tab(js=js) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin")
        await page.get_by_role("link", name="Account requests").click()
        await expect(page.locator(".request-list")).to_contain_text("Hillside Primary School")
        await tab.check("5-queue", full_page=True)
        await page.get_by_role("button", name="Decline Sam Supply").click()
        await expect(page.locator(".error-summary")).to_contain_text("Give a reason")
        await tab.check("6-queue-error", full_page=True)
        await page.get_by_role("button", name="Approve Sam Supply").click()
        await expect(page.get_by_text("Sam Supply has an account")).to_be_visible()
        await tab.goto("/admin/sessions")
        await tab.check("7-sessions-list", full_page=True)
    async with site.world.db.reading() as s:
        person = await s.scalar(select(Person).where(Person.email == "sam@school.example"))
    assert person is not None and person.job_role == "Teaching assistant"


async def test_the_queue_and_the_sessions_list_fit_a_320_pixel_screen(
    site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    long_word = "Interprofessionalsafeguardingcoordinationframework"
    await support.waiting_account_request(world, f"{long_word}@{long_word}.example")
    await support.make_session(world, facilitators=["trainer@example.org"])
    async with open_tab(js=True, viewport=PHONE) as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        for path in ("/admin/account-requests", "/admin/sessions"):
            await tab.goto(path)
            measured = await tab.page.evaluate(NO_SCROLL_JS)
            assert measured["width"] <= 320, (path, measured)
        await tab.check("queue-320", full_page=True)
