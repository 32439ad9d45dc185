"""An administrator creates a course through the form (a cancellation policy, an audience and a
manager's approval), schedules a two-date session in a new room from the course's page,
imports a people CSV with one bad row (fixed, then confirmed), and a learner in the audience
books it: the place waits for the manager's approval. axe on the list, the form (empty and
with errors) and the course page; the filled form's screenshot is a test artefact."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from booking import catalogue
from booking.models import Course
from tests.browser.conftest import Site, Tab, TabFactory
from tests.browser.test_journeys import sign_up
from tests.browser.test_people_import import HEADER, _file

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
WIDE = {"width": 1280, "height": 900}
NEW_ROOM = "Riverside Centre, Room 4"
ROWS = "nia@example.org,Nia New,P200,ADULT,manager@example.org,Officer,learner\n"
BAD = "omar@example.org,Omar Odd,P201,NOWHERE,,Officer,learner\n"


async def _fill_course(tab: Tab) -> None:
    page = tab.page
    await page.get_by_label("Code", exact=True).fill("LEAD-2")
    await page.get_by_label("Title").fill("Leading Change")
    await page.get_by_label("Summary").fill(
        "Two mornings for team leaders.\n\nReading: https://example.org/leading"
    )
    await page.get_by_label("Category (optional)").fill("Leadership")
    await page.get_by_label("Owner’s email (optional)").fill("leadership@example.org")
    await page.get_by_label("Price in pounds (optional)", exact=True).fill("80.00")
    await page.locator("#tier_hours_0").fill("72")
    await page.locator("#tier_fee_0").fill("0")
    await page.locator("#tier_hours_1").fill("24")
    await page.locator("#tier_fee_1").fill("50")
    await page.get_by_label("No-show fee (%)").fill("100")
    await page.get_by_label("Step 1").select_option("manager")
    await page.locator("#audience_units").fill("ADULT")


@JS
async def test_an_administrator_builds_a_course_and_a_learner_books_it(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    async with open_tab(js=js, who="admin", viewport=WIDE) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin")
        await page.get_by_role("link", name="Courses", exact=True).last.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Courses to manage")
        await tab.check("1-course-list")
        await page.get_by_role("link", name="Add a course").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Add a course")
        await tab.check("2-course-form", full_page=True)

        await _fill_course(tab)
        await page.get_by_label("Code", exact=True).fill("")
        await page.get_by_role("button", name="Add the course").last.click()
        await expect(page.locator(".error-summary")).to_contain_text("A course code is required")
        await expect(page.get_by_label("Title")).to_have_value("Leading Change")
        await expect(page.locator("#tier_fee_1")).to_have_value("50")
        await tab.check("3-course-form-error", full_page=True)

        await page.get_by_label("Code", exact=True).fill("LEAD-2")
        await page.get_by_role("button", name="Update the preview").click()
        await expect(page.locator("#terms-preview")).to_contain_text("then £40.00 (50%)")
        # docs/screenshots/course-form.png is this artefact, copied (tests leave docs/ alone).
        await tab.screenshot("course-form-filled", full_page=True)
        await page.get_by_role("button", name="Add the course").last.click()
        await expect(page.get_by_text("Course added: LEAD-2 Leading Change.")).to_be_visible()
        await tab.check("4-course-admin-page", full_page=True)

        async with world.db.reading() as s:
            course_id = await s.scalar(select(Course.id).where(Course.code == "LEAD-2"))
        assert course_id is not None
        await page.get_by_role("link", name="Schedule a session").click()
        await expect(page).to_have_url(re.compile(rf"/admin/courses/{course_id}/sessions/new$"))
        await page.get_by_label("Room name").fill(NEW_ROOM)
        await page.get_by_label("Room capacity").fill("12")
        for i, day in enumerate(("2027-03-16", "2027-03-23")):
            await page.locator(f"#date_{i}").fill(day)
            await page.locator(f"#start_{i}").fill("09:30")
            await page.locator(f"#end_{i}").fill("12:30")
        await page.get_by_label("Places").fill("10")
        await page.get_by_role("button", name="Schedule the session").last.click()
        await expect(page.get_by_text("Session scheduled")).to_be_visible()

        await tab.goto("/admin/people/import")
        await page.get_by_label("CSV file").set_input_files(_file(HEADER + ROWS + BAD))  # type: ignore[arg-type]
        await page.get_by_role("button", name="Preview").click()
        bad = page.get_by_role("table", name="Bad rows")
        await expect(bad).to_contain_text("Line 3: there is no organisation unit")
        fixed = BAD.replace("NOWHERE", "CHILD")
        await page.get_by_label("CSV file").set_input_files(_file(HEADER + ROWS + fixed))  # type: ignore[arg-type]
        await page.get_by_role("button", name="Preview").click()
        await page.get_by_role("button", name="Import 2 rows").click()
        await expect(page.get_by_text("Imported: 2 created")).to_be_visible()

    course = await catalogue.get_course(world.db, world.clock, world.admin, course_id)
    [session] = course.sessions
    assert len(session.dates) == 2 and session.room is not None
    assert session.room.name == NEW_ROOM
    assert course.approval == ["manager"] and course.audience == {"org_units": ["ADULT"]}

    async with open_tab(js=js, who="nia") as tab:
        await tab.goto("/login")
        await tab.sign_in("Nia New")
        await tab.goto(f"/courses/{course_id}")
        await expect(tab.page.get_by_role("heading", level=1)).to_have_text("Leading Change")
        await tab.check("5-learner-course-page")
        told = await sign_up(tab, session.id, action="Sign up", confirm="Confirm sign-up")
        assert "waiting for approval" in told, told
