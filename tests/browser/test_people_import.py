"""An administrator imports a people CSV with one bad row: the preview names the row by its
line and nothing is written; the corrected file's preview is imported on confirmation. With
JavaScript and without, every page checked by axe."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from booking.models import Person
from tests.browser.conftest import Site, TabFactory

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
HEADER = "email,name,personnel_number,unit_code,manager_email,job_role,roles\n"
GOOD_ROWS = (
    "nia@example.org,Nia New,P200,ADULT,manager@example.org,Officer,learner\n"
    "kim@example.org,Kim Learner,P004,ADULT,manager@example.org,Social Worker,learner\n"
)
BAD_ROW = "omar@example.org,Omar Odd,P201,NOWHERE,,Officer,learner\n"


def _file(text: str) -> dict[str, object]:
    return {"name": "people.csv", "mimeType": "text/csv", "buffer": text.encode()}


async def _emails(site: Site) -> set[str]:
    async with site.world.db.reading() as s:
        return set((await s.scalars(select(Person.email))).all())


@JS
async def test_importing_people_with_one_bad_row(
    site: Site, open_tab: TabFactory, js: bool
) -> None:
    before = await _emails(site)
    async with open_tab(js=js, who="admin") as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/people")
        page = tab.page
        await page.get_by_role("link", name="Import people from a CSV file").click()
        await expect(page.get_by_role("heading", name="Import people", level=1)).to_be_visible()
        await tab.check("import-form")

        await page.get_by_label("CSV file").set_input_files(_file(HEADER + GOOD_ROWS + BAD_ROW))  # type: ignore[arg-type]
        await page.get_by_role("button", name="Preview").click()
        await expect(
            page.get_by_role("heading", name="Preview: nothing is written yet")
        ).to_be_visible()
        bad = page.get_by_role("table", name="Bad rows")
        await expect(bad.get_by_role("row").filter(has_text="omar@example.org")).to_contain_text(
            "Line 4: there is no organisation unit with the code NOWHERE."
        )
        await expect(page.get_by_role("button", name="Import 3 rows")).to_have_count(0)
        await tab.check("import-preview-bad-row", full_page=True)
        assert await _emails(site) == before

        fixed = BAD_ROW.replace("NOWHERE", "CHILD")
        await page.get_by_label("CSV file").set_input_files(_file(HEADER + GOOD_ROWS + fixed))  # type: ignore[arg-type]
        await page.get_by_role("button", name="Preview").click()
        created = page.get_by_role("table", name="To create (2)")
        await expect(created.get_by_role("row").filter(has_text="omar@example.org")).to_be_visible()
        updated = page.get_by_role("table", name="To update (1)")
        await expect(updated).to_contain_text("Unit: CHILD → ADULT")
        await tab.check("import-preview", full_page=True)
        assert await _emails(site) == before

        await page.get_by_role("button", name="Import 3 rows").click()
        await expect(
            page.get_by_text("Imported: 2 created, 1 updated, 0 unchanged.")
        ).to_be_visible()
        await tab.check("import-done")
    assert await _emails(site) == before | {"nia@example.org", "omar@example.org"}
