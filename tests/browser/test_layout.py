"""The shared layout in Chromium: the header on one line on a laptop, button lists without
bullets, and nothing outside a landmark."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import Site, TabFactory, seed_cost_code

LAPTOP = {"width": 1280, "height": 800}

# The vertical centre of each item of the header: on one line, they are all the same.
HEADER_ROWS_JS = """
() => {
  const items = document.querySelectorAll(
    '.site-header .brand, .site-header .nav-list a, .site-header .who > *');
  return Array.from(items, (el) => {
    const box = el.getBoundingClientRect();
    return {text: el.textContent.trim(), middle: Math.round(box.top + box.height / 2)};
  });
}
"""


async def test_the_header_fits_on_one_line_at_1280_pixels(site: Site, open_tab: TabFactory) -> None:
    await seed_cost_code(site.world)  # Bea Budget: a learner who holds a cost code
    for who in ("Lee Learner", "Bea Budget", "Mo Manager", "Ada Admin"):
        async with open_tab(js=True, who=who, viewport=LAPTOP) as tab:
            await tab.goto("/login")
            await tab.sign_in(who)
            await tab.goto("/courses")
            items = await tab.page.evaluate(HEADER_ROWS_JS)
            assert len(items) >= 4, items
            middles = {item["middle"] for item in items}
            assert max(middles) - min(middles) <= 2, f"{who}: the header wraps: {items}"


async def test_lists_of_buttons_have_no_bullets(site: Site, open_tab: TabFactory) -> None:
    async with open_tab(js=True, who="manager", viewport=LAPTOP) as tab:
        await tab.goto("/login")
        await tab.sign_in("Mo Manager")
        for path in ("/me/record", "/team"):
            await tab.goto(path)
            download = tab.page.get_by_role("link", name="Download CSV")
            await expect(download).to_be_visible()
            marker = await download.evaluate(
                "(a) => { const li = a.closest('li'); const style = getComputedStyle(li);"
                " return style.display === 'list-item' ? style.listStyleType : 'none'; }"
            )
            assert marker == "none", f"{path}: the download buttons have bullets ({marker})"


async def test_nothing_sits_outside_a_landmark_with_the_demo_banner_shown(
    site: Site, open_tab: TabFactory
) -> None:
    from axe_playwright_python.async_playwright import Axe

    async with open_tab(js=True, who="lee", viewport=LAPTOP) as tab:
        await tab.goto("/login")
        await tab.sign_in("Lee Learner")
        await tab.goto("/courses")
        await expect(tab.page.get_by_text("Demo mode:")).to_be_visible()
        results = await Axe().run(tab.page, options={"runOnly": ["region"]})
        violations = results.response["violations"]
        assert violations == [], [[node["target"] for node in v["nodes"]] for v in violations]
