"""The administrators' reports in a real browser: each page shows its chart (an SVG image the
server drew) and its table, passes axe, and its CSV downloads; the fill-rate page is kept as
the screenshot in docs/screenshots/report-fill-rate.png."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from playwright.async_api import expect

from booking import PROJECT_ROOT, bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.browser.conftest import Site, TabFactory
from tests.web.report_world import seed_reports

REPORTS = {
    "fill-rate": "Places used per session",
    "waitlist-demand": "Waiting lists per session",
    "attendance": "Attendance per course",
    "cancellations": "Cancellations by reason and notice given",
    "fees": "Fee income and waivers per cost code",
    "trainer-utilisation": "Sessions, hours and places per trainer",
    "compliance": "Required learning by unit and staff type",
}
SCREENSHOT = PROJECT_ROOT / "docs" / "screenshots" / "report-fill-rate.png"


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
async def test_every_report_shows_its_chart_and_table_and_downloads_its_csv(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    await seed_reports(site.world)
    async with open_tab(js=js, viewport={"width": 1280, "height": 900}) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/reports")
        await tab.check("hub")
        for name, caption in REPORTS.items():
            await tab.goto(f"/admin/reports/{name}")
            chart = page.locator(".report-chart img")
            await expect(chart).to_be_visible()
            drawn = await chart.evaluate("img => img.complete && img.naturalWidth > 0")
            assert drawn, f"{name}: the chart did not draw"
            assert (await chart.get_attribute("src") or "").startswith("data:image/svg+xml")
            await expect(page.get_by_role("table", name=caption).first).to_be_visible()
            await tab.check(name, full_page=True)
            async with page.expect_download() as download_info:
                await page.get_by_role("link", name="Download CSV").click()
            download = await download_info.value
            assert download.suggested_filename.startswith(
                name.replace("compliance", "compliance-report")
            )
            assert download.suggested_filename.endswith(".csv")
            body = (await download.path()).read_bytes()
            assert body.startswith(b"\xef\xbb\xbf") and len(body.splitlines()) > 1


async def test_a_refused_filter_is_shown_on_its_field(site: Site, open_tab: TabFactory) -> None:
    async with open_tab(js=False) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/reports/attendance")
        await page.get_by_label("From").fill("2027-03-10")
        await page.get_by_label("To").fill("2027-03-01")
        await page.get_by_role("button", name="Show the report").click()
        await expect(page.locator(".error-summary")).to_contain_text(
            "The end date must be the same as or after the start date."
        )
        await expect(page.get_by_label("To")).to_have_value("2027-03-01")
        await tab.check("refused-filter")


# Courses for the screenshot: code, title, capacity, places taken.
MORE_COURSES = (
    ("FIRE-MAR", "Fire Marshal", 12, 9),
    ("MAN-HAND", "Manual Handling", 8, 8),
    ("DIFF-CONV", "Difficult Conversations", 10, 4),
    ("GDPR-REF", "Data Protection Refresher", 6, 2),
)


async def test_the_fill_rate_report_at_1280_pixels(site: Site, open_tab: TabFactory) -> None:
    """Several courses, several bars. With `UPDATE_DOC_SCREENSHOTS=1` the screenshot is kept as
    docs/screenshots/report-fill-rate.png (otherwise only under test-artifacts/)."""
    world = site.world
    made = await seed_reports(world)
    emails = await support.make_learners(world, 9, prefix="shot")
    for n, (code, title, capacity, taken) in enumerate(MORE_COURSES):
        course = await catalogue.create_course(
            world.db, world.clock, world.admin, CourseInput(code=code, title=title)
        )
        session_id = await support.make_session(
            world,
            course_id=course.id,
            capacity=capacity,
            start=support.T0 + timedelta(days=7 + n),
            facilitators=["trainer@example.org"],
        )
        for email in emails[:taken]:
            await bookings.book_place(
                world.db, world.clock, world.admin, BookingRequest(session_id, learner_email=email)
            )
    assert made.past_session
    async with open_tab(js=True, viewport={"width": 1280, "height": 900}) as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/reports/fill-rate")
        await expect(tab.page.get_by_role("table", name="Places used per course")).to_contain_text(
            "Fire Marshal"
        )
        await tab.check("fill-rate", full_page=True)
        shot = await tab.screenshot("fill-rate-1280", full_page=True)
        if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":
            shutil.copyfile(shot, SCREENSHOT)
