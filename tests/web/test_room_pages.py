"""Administrators' room pages: the list, the form, a room's calendar, and the session form's
room picker. Forms are posted as a browser without JavaScript would."""

from __future__ import annotations

from datetime import timedelta

from booking import catalogue
from booking.catalogue import RoomDetails, RoomInput
from tests import support
from tests.web.conftest import Browser
from tests.web.test_admin_pages import MONDAY, form_fields

NEW = "/admin/rooms/new"


async def _room_named(browser: Browser, name: str) -> catalogue.RoomSummary:
    world = browser.world
    rooms = await catalogue.list_rooms(world.db, world.admin, with_inactive=True)
    return next(r for r in rooms if r.name == name)


async def test_an_administrator_adds_a_room_and_finds_it_in_the_list(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    empty = await browser.get("/admin/rooms")
    assert empty.status_code == 200 and "No rooms in use yet." in empty.text
    fields = form_fields((await browser.get(NEW)).text, NEW)
    assert fields["active"] == "yes"
    fields.update(
        name="Civic Centre, Room 2",
        address="1 High Street",
        capacity="20",
        accessibility="Step-free; hearing loop",
        details="Sign in at reception",
    )
    added = await browser.post(NEW, fields)
    assert added.status_code == 303, added.text
    room = await _room_named(browser, "Civic Centre, Room 2")
    assert added.headers["location"] == f"/admin/rooms/{room.id}"
    page = await browser.get(added.headers["location"])
    assert "Room added: Civic Centre, Room 2." in page.text
    assert "Step-free; hearing loop" in page.text and "Sign in at reception" in page.text
    listed = await browser.get("/admin/rooms")
    assert f'<a href="/admin/rooms/{room.id}">Civic Centre, Room 2</a>' in listed.text
    assert '<td data-label="Capacity">20</td>' in listed.text


async def test_a_refused_room_form_comes_back_as_typed_and_nothing_is_saved(
    browser: Browser,
) -> None:
    world = browser.world
    await catalogue.create_room(world.db, world.clock, world.admin, RoomDetails(name="Annexe"))
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    fields.update(name="Hall", capacity="lots", address="9 Low Road")
    refused = await browser.post(NEW, fields)
    assert refused.status_code == 422
    assert "Enter the capacity as a whole number, such as 20." in refused.text
    assert 'value="lots"' in refused.text and "9 Low Road" in refused.text
    assert 'aria-describedby="capacity-hint capacity-error"' in refused.text

    taken = await browser.post(NEW, {**fields, "name": "Annexe", "capacity": "5"})
    assert taken.status_code == 409 and "There is already a room called Annexe." in taken.text

    nameless = await browser.post(NEW, {**fields, "name": "", "capacity": "-3"})
    assert nameless.status_code == 422 and "Give the room a name." in nameless.text
    rooms = await catalogue.list_rooms(world.db, world.admin, with_inactive=True)
    assert [r.name for r in rooms] == ["Annexe"]


async def test_a_room_taken_out_of_use_leaves_the_list_and_the_picker(browser: Browser) -> None:
    world = browser.world
    room = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Annexe", capacity=8)
    )
    await browser.sign_in("admin@example.org")
    url = f"/admin/rooms/{room.id}/edit"
    fields = form_fields((await browser.get(url)).text, url)
    assert (fields["name"], fields["capacity"], fields["active"]) == ("Annexe", "8", "yes")
    same = await browser.post(url, fields)
    assert same.status_code == 303
    assert "Nothing was changed on Annexe." in (await browser.get(same.headers["location"])).text
    del fields["active"]
    saved = await browser.post(url, {**fields, "accessibility": "Lift to the first floor"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/admin/rooms/{room.id}"
    shown = await browser.get(saved.headers["location"])
    assert "Saved the changes to Annexe. It is no longer offered on the session form." in (
        shown.text
    )
    assert "Annexe" not in (await browser.get("/admin/rooms")).text
    everything = await browser.get("/admin/rooms?show=all")
    assert "Annexe" in everything.text and "No longer in use" in everything.text
    new_session = await browser.get(f"/admin/courses/{world.course_id}/sessions/new")
    assert "Annexe" not in new_session.text
    after = await catalogue.get_room(world.db, world.admin, room.id)
    assert (after.active, after.accessibility) == (False, "Lift to the first floor")


async def test_a_session_is_scheduled_in_a_room_picked_from_the_list(browser: Browser) -> None:
    world = browser.world
    room = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Civic Centre, Room 2", capacity=20)
    )
    other = await support.make_session(world, start=MONDAY, room=RoomInput("", id=room.id))
    await browser.sign_in("admin@example.org")
    url = f"/admin/courses/{world.course_id}/sessions/new"
    form = await browser.get(url)
    assert f'<option value="{room.id}">Civic Centre, Room 2 (seats 20)</option>' in form.text
    fields = form_fields(form.text, url)
    fields.update(date_0="2027-03-15", start_0="10:00", end_0="11:00", capacity="8")

    both = await browser.post(url, {**fields, "room_pick": str(room.id), "room_name": "Hall"})
    assert both.status_code == 422
    assert "Choose a room from the list or type a new one, not both." in both.text

    clash = await browser.post(url, {**fields, "room_pick": str(room.id)})
    assert clash.status_code == 409
    assert (
        f"Civic Centre, Room 2 is already booked for Safeguarding Adults (session {other})"
        in clash.text
    )
    assert f'<option value="{room.id}" selected>' in clash.text

    fields.update(date_0="2027-03-16", room_pick=str(room.id))
    created = await browser.post(url, fields)
    assert created.status_code == 303, created.text
    course = await catalogue.get_course(world.db, world.clock, world.admin, world.course_id)
    new = next(s for s in course.sessions if s.id != other)
    assert new.room is not None and new.room.name == "Civic Centre, Room 2"

    calendar = await browser.get(f"/admin/rooms/{room.id}")
    assert f'href="/sessions/{new.id}"' in calendar.text
    assert "Tue 16 Mar 2027" in calendar.text and "Safeguarding Adults" in calendar.text


async def test_the_edit_form_shows_the_sessions_room_picked_and_can_change_it(
    browser: Browser,
) -> None:
    world = browser.world
    first = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Annexe", address="Back lane")
    )
    second = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Hall")
    )
    session_id = await support.make_session(world, start=MONDAY, room=RoomInput("Annexe"))
    await browser.sign_in("admin@example.org")
    url = f"/sessions/{session_id}/edit"
    fields = form_fields((await browser.get(url)).text, url)
    assert fields["room_pick"] == str(first.id) and fields["room_name"] == ""

    unchanged = await browser.post(url, fields)
    assert unchanged.status_code == 303
    assert "Nothing was changed" in (await browser.get(unchanged.headers["location"])).text

    moved = await browser.post(url, {**fields, "room_pick": str(second.id)})
    assert moved.status_code == 303, moved.text
    view = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert view.room is not None and view.room.name == "Hall"
    # The room's own details were not touched by the session form.
    assert (await catalogue.get_room(world.db, world.admin, first.id)).address == "Back lane"

    gone = await browser.post(url, {**fields, "room_pick": "999999"})
    assert gone.status_code == 422 and "not on file" in gone.text


async def test_room_pages_are_for_administrators_only(browser: Browser) -> None:
    world = browser.world
    room = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Annexe")
    )
    await browser.sign_in("trainer@example.org")
    for url in ("/admin/rooms", NEW, f"/admin/rooms/{room.id}", f"/admin/rooms/{room.id}/edit"):
        assert (await browser.get(url)).status_code == 403, url
    refused = await browser.post(NEW, {"name": "Sneaky"})
    assert refused.status_code == 403
    assert [r.name for r in await catalogue.list_rooms(world.db, world.admin)] == ["Annexe"]


async def test_a_rooms_calendar_lists_recent_sessions_apart_from_those_to_come(
    browser: Browser,
) -> None:
    world = browser.world
    room = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Annexe")
    )
    here = RoomInput("", id=room.id)
    past = await support.make_session(world, start=MONDAY, room=here)
    to_come = await support.make_session(world, start=MONDAY + timedelta(days=30), room=here)
    app_clock = browser.client.app.state.clock
    app_clock.set(support.T0 + timedelta(days=20))
    try:
        await browser.sign_in("admin@example.org")
        page = await browser.get(f"/admin/rooms/{room.id}")
    finally:
        app_clock.set(support.T0)
    assert page.status_code == 200
    upcoming, recent = page.text.split("<h2>Recent sessions</h2>")
    assert f'href="/sessions/{to_come}"' in upcoming and f'href="/sessions/{past}"' in recent
    assert (await browser.get("/admin/rooms/999999")).status_code == 404
