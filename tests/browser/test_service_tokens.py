"""An administrator makes a service token, copies its secret from the one page that shows it,
finds it gone when the list is loaded again, and revokes the token after confirming (the API
then refuses it): with JavaScript and without, every page checked by axe; the list fits a
320 px screen."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from booking import people
from tests.browser.conftest import PHONE, Site, TabFactory
from tests.browser.test_small_screens import NO_SCROLL_JS

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])


@JS
async def test_an_administrator_makes_a_token_sees_it_once_and_revokes_it(
    site: Site, open_tab: TabFactory, js: bool
) -> None:
    async with open_tab(js=js, who="admin") as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin")
        page = tab.page
        await page.get_by_role("link", name="Service tokens").click()
        await expect(page.get_by_role("heading", name="Service tokens", level=1)).to_be_visible()
        await tab.check("tokens-empty")

        # No name: refused in place, nothing made.
        await page.get_by_role("button", name="Make the token").click()
        await expect(page.get_by_text("There is a problem")).to_be_visible()
        await tab.check("tokens-error")
        await page.get_by_label("Name", exact=True).fill("Learning records service")
        await page.get_by_label("Records: send completions").check()
        await page.get_by_role("button", name="Make the token").click()
        secret = (await page.locator("#new-token-secret").inner_text()).strip()
        assert secret.startswith("bk_")
        await expect(page.get_by_text("This is the only time it is shown")).to_be_visible()
        await tab.check("token-made")

        async with httpx.AsyncClient(base_url=site.base_url) as api:
            bearer = {"Authorization": f"Bearer {secret}"}
            assert (await api.get("/api/v1/records", headers=bearer)).status_code == 200

            await tab.goto("/admin/tokens")
            await expect(page.locator("#new-token-secret")).to_have_count(0)
            assert secret not in await page.content()
            row = page.get_by_role("row").filter(has_text="Learning records service")
            await expect(row).to_contain_text("Active")
            await expect(row).not_to_contain_text("Never")
            await tab.check("tokens")

            await row.get_by_role("link", name="Revoke").click()
            await expect(page.get_by_role("heading", level=1)).to_contain_text("Revoke the token")
            await tab.check("token-revoke")
            await page.get_by_role("button", name="Revoke the token").click()
            await expect(page.get_by_text("The token is revoked")).to_be_visible()
            await expect(row).to_contain_text("Revoked")
            assert (await api.get("/api/v1/records", headers=bearer)).status_code == 401


async def test_the_tokens_list_fits_a_320_pixel_screen(site: Site, open_tab: TabFactory) -> None:
    world = site.world
    for name in ("Human resources nightly synchronisation feed (production)", "LMS"):
        await people.create_service_token(
            world.db, world.clock, world.admin, name=name, scope="records"
        )
    async with open_tab(js=True, who="admin", viewport=PHONE) as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/tokens")
        measured = await tab.page.evaluate(NO_SCROLL_JS)
        assert measured["width"] <= PHONE["width"], f"/admin/tokens scrolls sideways: {measured}"
        # The answer to a creation, with its long secret, fits too.
        page = tab.page
        await page.get_by_label("Name", exact=True).fill("Phone-made feed")
        await page.get_by_role("button", name="Make the token").click()
        await expect(page.locator("#new-token-secret")).to_be_visible()
        measured = await page.evaluate(NO_SCROLL_JS)
        assert measured["width"] <= PHONE["width"], f"the made token scrolls sideways: {measured}"
