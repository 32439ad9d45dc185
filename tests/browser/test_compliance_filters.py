"""An administrator narrows the compliance report to a unit and a staff type, with and without
JavaScript, and sees the filtered table; a date in the future is refused in place. axe on each."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from booking import people
from tests.browser.conftest import Site, TabFactory

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])


@JS
async def test_an_administrator_filters_the_compliance_report(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                "cas@example.org", "Cas Casual", "P021", None, "ADULT", "SW", staff_type="casual"
            )
        ],
    )
    async with open_tab(js=js) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/compliance")
        await expect(page.get_by_label("Include sub-units")).to_be_checked()
        await tab.check("1-compliance")
        await page.get_by_label("Organisation unit").select_option(label="Adult Services (ADULT)")
        await page.get_by_label("Staff type").select_option(label="Casual")
        await page.get_by_role("button", name="Show the report").click()
        await expect(page).to_have_url(re.compile(r"staff_type=casual"))
        rows = page.locator("table tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("casual")
        await expect(rows.first).to_contain_text("Adult Services")
        await expect(page.get_by_label("Staff type")).to_have_value("casual")
        await tab.check("2-compliance-filtered")

        await page.get_by_label("As of (YYYY-MM-DD)").fill("2999-01-01")
        await page.get_by_role("button", name="Show the report").click()
        await expect(page.locator(".error-summary")).to_contain_text(
            "The as-of date cannot be in the future."
        )
        await expect(page.get_by_label("As of (YYYY-MM-DD)")).to_have_value("2999-01-01")
        await tab.check("3-compliance-error")
