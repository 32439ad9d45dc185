"""Learning programs in a browser, with axe on every page: an administrator creates a program
through the form (adding a second set row, with and without JavaScript), and a learner opens
their program page with its progress."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from booking import catalogue, records
from booking.catalogue import CourseInput
from tests import support
from tests.browser.conftest import Site, TabFactory

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])


async def _courses(world: support.World) -> None:
    for code, title in (("FIRE-1", "Fire Safety"), ("DP-1", "Data Protection")):
        await catalogue.create_course(
            world.db, world.clock, world.admin, CourseInput(code=code, title=title)
        )


@JS
async def test_an_administrator_creates_a_program_and_a_learner_follows_it(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    await _courses(world)
    async with open_tab(js=js) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/programs")
        await tab.check("1-no-programs")
        await page.get_by_role("link", name="Add a program").first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Add a program")
        await page.get_by_label("Code", exact=True).fill("IND")
        await page.get_by_label("Title", exact=True).fill("Induction")
        await page.get_by_label("Due within (days, optional)").fill("30")
        await page.locator("#set_title_0").fill("Core")
        await page.locator("#set_codes_0").fill("SAFE-1, FIRE-1")
        await page.get_by_role("button", name="Add another set").click()
        await expect(page.locator("#set_title_1")).to_be_visible()
        await expect(page.locator("#set_codes_0")).to_have_value("SAFE-1, FIRE-1")
        await page.locator("#set_title_1").fill("Data")
        await page.locator("#set_rule_1").select_option("any")
        await page.locator("#set_codes_1").fill("DP-1, NOPE")
        await page.get_by_role("button", name="Add the program").last.click()
        await expect(page.locator(".error-summary")).to_contain_text("no course with code NOPE")
        await tab.check("2-program-form-error", full_page=True)
        await page.locator("#set_codes_1").fill("DP-1")
        await page.get_by_role("button", name="Add the program").last.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Learning programs")
        await expect(page.get_by_text("Program added: Induction.")).to_be_visible()
        await tab.check("3-programs-list")

    (program,) = await records.list_programs(world.db, world.admin)
    async with open_tab(js=js) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Lee Learner")
        await tab.goto("/me/programs")
        await tab.check("4-my-programs")
        await page.get_by_role("link", name="Induction").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Induction")
        await expect(page.get_by_text("0% complete")).to_be_visible()
        await expect(
            page.get_by_text(
                "You have been enrolled in Fire Safety via required learning program Induction."
            )
        ).to_be_visible()
        assert page.url.endswith(f"/programs/{program.id}")
        await tab.check("5-program-page")
