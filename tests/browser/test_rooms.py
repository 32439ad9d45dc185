"""An administrator adds a room, then schedules a session in it by picking it on the session
form; the room's calendar shows the session. axe on every page; the rooms list fits 320 px."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from booking import catalogue
from tests import support
from tests.browser.conftest import PHONE, Site, TabFactory
from tests.browser.test_small_screens import NO_SCROLL_JS

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
ROOM = "Civic Centre, Committee Room 2"


@JS
async def test_an_administrator_adds_a_room_and_schedules_a_session_in_it(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    async with open_tab(js=js) as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        await tab.goto("/admin/rooms")
        await tab.check("1-no-rooms")
        await page.get_by_role("link", name="Add a room").first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Add a room")
        await page.get_by_label("Capacity (optional)").fill("16")
        await page.get_by_label("Address (optional)").fill("1 High Street, Anytown")
        await page.get_by_role("button", name="Add the room").click()
        # Refused in place, with what was typed kept.
        await expect(page.locator(".error-summary")).to_contain_text("Give the room a name.")
        await expect(page.get_by_label("Capacity (optional)")).to_have_value("16")
        await tab.check("2-room-form-error")
        await page.get_by_label("Name").fill(ROOM)
        await page.get_by_label("Accessibility (optional)").fill("Step-free; hearing loop")
        await page.get_by_label("Joining and arrival details (optional)").fill("Sign in first")
        await page.get_by_role("button", name="Add the room").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text(ROOM)
        await expect(page.locator(".flash, [role=status]").first).to_contain_text("Room added")
        await tab.check("3-room-page")

        await tab.goto(f"/admin/courses/{world.course_id}/sessions/new")
        await page.get_by_label("Room (optional)").select_option(label=f"{ROOM} (seats 16)")
        await page.locator("#date_0").fill("2027-03-16")
        await page.locator("#start_0").fill("09:30")
        await page.locator("#end_0").fill("12:30")
        await page.get_by_label("Places").fill("12")
        await tab.check("4-session-form", full_page=True)
        await page.get_by_role("button", name="Schedule the session").last.click()
        await expect(page).to_have_url(re.compile(rf"/courses/{world.course_id}$"))
        await expect(page.get_by_text("Session scheduled")).to_be_visible()

        rooms = await catalogue.list_rooms(world.db, world.admin)
        [room] = [r for r in rooms if r.name == ROOM]
        await tab.goto(f"/admin/rooms/{room.id}")
        upcoming = page.locator("table").first
        await expect(upcoming).to_contain_text("Tue 16 Mar 2027")
        await expect(upcoming).to_contain_text("Safeguarding Adults")
        await tab.check("5-room-calendar")

    course = await catalogue.get_course(world.db, world.clock, world.admin, world.course_id)
    [session] = course.sessions
    assert session.room is not None and session.room.name == ROOM


async def test_the_rooms_list_fits_a_320_pixel_screen(site: Site, open_tab: TabFactory) -> None:
    world = site.world
    long_word = "Interprofessionalsafeguardingcoordinationframework"
    for name, active in ((f"The {long_word} Suite", True), ("Old annexe", False)):
        await catalogue.create_room(
            world.db,
            world.clock,
            world.admin,
            catalogue.RoomDetails(
                name=name, address=f"Unit 4, {long_word} Park, Anytown", capacity=30, active=active
            ),
        )
    await support.make_session(world)
    async with open_tab(js=True, viewport=PHONE) as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        for path in ("/admin/rooms", "/admin/rooms?show=all"):
            await tab.goto(path)
            measured = await tab.page.evaluate(NO_SCROLL_JS)
            assert measured["width"] <= PHONE["width"], f"{path} scrolls sideways: {measured}"
        await tab.check("rooms-list-phone", full_page=True)
