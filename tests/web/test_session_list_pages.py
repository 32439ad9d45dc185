"""The administrators' list of every session: the tabs (upcoming, past, cancelled, drafts), the
filters and search, the columns, paging, and who may open it."""

from __future__ import annotations

from datetime import timedelta

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, RoomDetails, RoomInput
from booking.catalogue.session_list import PAGE_SIZE
from tests import support
from tests.web.conftest import Browser

LIST = "/admin/sessions"


async def _course(world: support.World, code: str, title: str) -> int:
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code=code, title=title)
    )
    return course.id


async def test_the_list_shows_upcoming_sessions_with_their_places_and_links(
    browser: Browser,
) -> None:
    world = browser.world
    room = await catalogue.create_room(world.db, world.clock, world.admin, RoomDetails("Hall 1"))
    course = await _course(world, "FA-1", "First Aid")
    session_id = await support.make_session(
        world,
        course_id=course,
        capacity=1,
        facilitators=["trainer@example.org"],
        room=RoomInput("", id=room.id),
    )
    for email in ("lee@example.org", "manager@example.org"):
        await bookings.book_place(
            world.db, world.clock, world.admin, BookingRequest(session_id, learner_email=email)
        )
    await browser.sign_in("admin@example.org")
    page = await browser.get(LIST)
    assert page.status_code == 200
    text = page.text
    assert "First Aid" in text and "FA-1" in text and "Hall 1" in text and "Tia Trainer" in text
    assert "1 / 1 (1 wait-listed)" in text and "Europe/London" in text
    for link in ("", "/roster", "/edit"):
        assert f'href="/sessions/{session_id}{link}"' in text
    hub = await browser.get("/admin")
    assert 'href="/admin/sessions"' in hub.text


async def test_tabs_filters_and_search_choose_the_sessions(browser: Browser) -> None:
    world = browser.world
    now = world.clock.now()
    first_aid = await _course(world, "FA-1", "First Aid")
    fire = await _course(world, "FIRE-2", "Fire Safety")
    soon = await support.make_session(
        world, course_id=first_aid, facilitators=["trainer@example.org"]
    )
    later = await support.make_session(world, course_id=fire, start=now + timedelta(days=40))
    draft = await support.make_session(
        world, course_id=fire, start=now + timedelta(days=50), status="draft"
    )
    gone = await support.make_session(world, course_id=fire, start=now + timedelta(days=60))
    await catalogue.cancel_session(world.db, world.clock, world.admin, gone, reason="No trainer")
    await browser.sign_in("admin@example.org")

    def shown(html: str) -> set[int]:
        ids = {soon, later, draft, gone}
        return {i for i in ids if f'href="/sessions/{i}/roster"' in html}

    assert shown((await browser.get(LIST)).text) == {soon, later, draft, gone}
    assert shown((await browser.get(f"{LIST}?when=all&status=draft")).text) == {draft}
    assert shown((await browser.get(f"{LIST}?when=all&status=cancelled")).text) == {gone}
    assert shown((await browser.get(f"{LIST}?when=past")).text) == set()
    assert shown((await browser.get(f"{LIST}?q=fire")).text) == {later, draft, gone}
    assert shown((await browser.get(f"{LIST}?q=FA-")).text) == {soon}
    assert shown((await browser.get(f"{LIST}?course={first_aid}")).text) == {soon}
    trainer = await support.actor(world.db, "trainer@example.org")
    assert shown((await browser.get(f"{LIST}?trainer={trainer.person_id}")).text) == {soon}
    assert shown((await browser.get(f"{LIST}?room=online")).text) == {soon, later, draft, gone}
    start, end = (now + timedelta(days=39)).date(), (now + timedelta(days=41)).date()
    ranged = await browser.get(f"{LIST}?from={start.isoformat()}&to={end.isoformat()}")
    assert shown(ranged.text) == {later}
    assert shown((await browser.get(f"{LIST}?status=open")).text) == {soon, later}


async def test_odd_filters_are_ignored_not_refused(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    for query in (
        "course=abc",
        "trainer=" + "9" * 40,
        "room=-1",
        "from=2027-02-30",
        "to=yesterday",
        "page=0",
        "page=" + "9" * 30,
        "when=soon&status=gone",
        "q=" + "%_\\" * 300,
    ):
        response = await browser.get(f"{LIST}?{query}")
        assert response.status_code == 200, query


async def test_the_list_is_paged(browser: Browser) -> None:
    world = browser.world
    course = await _course(world, "MANY", "Many sessions")
    for i in range(PAGE_SIZE + 2):
        await support.make_session(
            world, course_id=course, start=world.clock.now() + timedelta(days=3, hours=4 * i)
        )
    await browser.sign_in("admin@example.org")
    first = await browser.get(f"{LIST}?q=many")
    assert first.text.count('/roster"') == PAGE_SIZE
    assert 'href="/admin/sessions?when=upcoming&amp;q=many&amp;page=2"' in first.text
    second = await browser.get(f"{LIST}?when=upcoming&q=many&page=2")
    assert second.text.count('/roster"') == 2 and "Previous page" in second.text


async def test_only_administrators_open_the_list(browser: Browser) -> None:
    await browser.sign_in("trainer@example.org")
    assert (await browser.get(LIST)).status_code == 403
