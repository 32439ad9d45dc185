"""A line manager asks, from their team page, for an exemption for one of their reports; the
course's owner opens the link emailed to them (read from the outbox), confirms and approves;
the learner's record then says "Exempt". axe on every page, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from booking import notifications
from booking.models import Outbox
from tests import support
from tests.browser.conftest import Site, TabFactory
from tests.records.exemption_world import make_ex_world

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])


async def _emailed_link(site: Site, owner_id: int) -> str:
    settings = support.settings_for("sqlite://", base_url=site.base_url)
    async with site.world.db.reading() as s:
        row = await s.scalar(
            select(Outbox).where(
                Outbox.topic == "exemption.requested", Outbox.recipient_id == owner_id
            )
        )
        assert row is not None
        rendered = await notifications.render_row(s, row, settings, site.world.clock.now())
    match = re.search(r"Approve: (\S+)", rendered.text)
    assert match, rendered.text
    return match.group(1).removeprefix(site.base_url)


@JS
async def test_a_manager_asks_and_the_owner_approves_by_the_emailed_link(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    ex = await make_ex_world(site.world, "")
    async with open_tab(js=js, who="manager") as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Mo Manager")
        await tab.goto("/team")
        await page.get_by_role(
            "link", name="Ask for an exemption or extension for Lee Learner"
        ).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Ask for an exemption or extension for Lee Learner"
        )
        await tab.check("1-request-form")
        await page.get_by_label("Reason").fill("Registered nurse: covered by registration")
        await page.get_by_role("button", name="Send the request").click()
        # Refused in place, what was typed kept.
        await expect(page.locator(".error-summary")).to_contain_text("Choose at least one course.")
        await expect(page.get_by_label("Reason")).to_have_value(
            "Registered nurse: covered by registration"
        )
        await tab.check("2-request-form-error")
        await page.get_by_label(re.compile("^Safeguarding Adults")).check()
        await page.get_by_role("button", name="Send the request").click()
        await expect(page).to_have_url(re.compile(r"/team$"))
        await expect(
            page.get_by_text("An exemption has been asked for Lee Learner")
        ).to_be_visible()
        await tab.check("3-team-after-request")

    link = await _emailed_link(site, ex.ids["owner"])
    async with open_tab(js=js, who="owner") as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Olive Owner")
        await tab.goto(link)
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Approve the exemption for Lee Learner?"
        )
        await tab.check("4-confirm")
        await page.get_by_label(re.compile("^Comment")).fill("Agreed")
        await page.get_by_role("button", name="Approve", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/exemptions$"))
        await expect(page.get_by_text("Approved: exemption for Lee Learner")).to_be_visible()
        await tab.check("5-queue-after-decision")

    async with open_tab(js=js, who="lee") as tab:
        await tab.goto("/login")
        await tab.sign_in("Lee Learner")
        await tab.goto("/me/record")
        await expect(tab.page.get_by_text("Exempt (no end date)")).to_be_visible()
        await tab.check("6-record")
