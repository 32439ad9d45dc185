"""An administrator looks a person up, opens their page, changes their roles with a reason and
finds the change, with the reason, in the audit log: with JavaScript and without, every page
checked by axe; the people list and a person's page fit a 320 px screen."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from booking import people
from tests.browser.conftest import PHONE, Site, TabFactory
from tests.browser.test_small_screens import NO_SCROLL_JS

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
LONG_EMAIL = "maximilian.fotheringham-worthington@adultsocialcare.anytown-borough-council.gov.uk"


@JS
async def test_an_administrator_changes_someones_roles_with_a_reason(
    site: Site, open_tab: TabFactory, js: bool
) -> None:
    async with open_tab(js=js, who="admin") as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/people")
        await tab.check("people-list")
        page = tab.page
        await page.get_by_label("Name, email or personnel number").fill("kim")
        await page.get_by_role("button", name="Find people").click()
        table = page.get_by_role("table")
        await expect(table.get_by_role("link", name="Kim Learner")).to_be_visible()
        await expect(table.get_by_role("link", name="Lee Learner")).to_have_count(0)
        await tab.check("people-found")
        await table.get_by_role("link", name="Kim Learner").click()
        await expect(page.get_by_role("heading", name="Kim Learner", level=1)).to_be_visible()
        await tab.check("person")

        # Without a reason: refused in place, the ticked box kept, nothing changed.
        await page.get_by_label("Trainer").check()
        await page.get_by_role("button", name="Change roles").click()
        await expect(page.get_by_text("There is a problem")).to_be_visible()
        await expect(page.get_by_label("Trainer")).to_be_checked()
        await tab.check("person-roles-error")
        await page.get_by_label("Reason for the change").fill("Runs the team's induction")
        await page.get_by_role("button", name="Change roles").click()
        await expect(page.get_by_text("Their roles are changed")).to_be_visible()
        await expect(page.get_by_text("Learner, Trainer", exact=True)).to_be_visible()

        await tab.goto("/admin/audit?action=person.roles_changed")
        row = page.get_by_role("row").filter(has_text="kim@example.org")
        await expect(row).to_contain_text("Runs the team's induction")
        await expect(row).to_contain_text("learner trainer")
        await tab.check("audit")


async def test_the_people_pages_fit_a_320_pixel_screen(site: Site, open_tab: TabFactory) -> None:
    world = site.world
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                LONG_EMAIL,
                "Maximilian Alexander Fotheringham-Worthington",
                "P100-LONG-PERSONNEL-NUMBER",
                "manager@example.org",
                "ADULT",
                "Multidisciplinary Safeguarding Coordinator",
            )
        ],
    )
    person = next(p.id for p in await people.list_people(world.db) if p.email == LONG_EMAIL)
    async with open_tab(js=True, who="admin", viewport=PHONE) as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        for path in ("/admin/people", f"/admin/people/{person}", "/admin/units"):
            await tab.goto(path)
            measured = await tab.page.evaluate(NO_SCROLL_JS)
            assert measured["width"] <= PHONE["width"], f"{path} scrolls sideways: {measured}"
        await tab.goto("/admin/people")
        await tab.check("people-list-320", full_page=True)
