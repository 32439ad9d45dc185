"""The session table offers only what the booking would accept: the row's options come from the
same decision the booking makes (`booking_rules.preview_booking`), so a learner is shown the
refusal, or the offer to move their place, instead of a button that leads to a refusal. After
joining a waiting list, a date with free places is pointed out."""

from __future__ import annotations

import re
from datetime import timedelta

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.web.conftest import Browser
from tests.web.test_pages import tbody, text_of


async def test_a_learner_outside_the_audience_is_told_why_instead_of_offered_sign_up_or_waitlist(
    browser: Browser,
) -> None:
    world = browser.world
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="NURSE-1", title="Clinical Skills", audience={"job_roles": ["Nurse"]}),
    )
    open_id = await support.make_session(world, course_id=course.id, capacity=10)
    full_id = await support.make_session(
        world, course_id=course.id, capacity=0, start=support.T0 + timedelta(days=20)
    )
    await browser.sign_in("lee@example.org")  # a Social Worker

    page = await browser.get(f"/courses/{course.id}")
    assert "Before you can book" in page.text
    assert "This course is for these job roles: nurse" in text_of(page.text)
    for session_id in (open_id, full_id):
        row = tbody(page.text, session_id)
        assert "Sign up" not in text_of(row) and "Join waitlist" not in text_of(row)
        assert f'href="/sessions/{session_id}/book"' not in row
        assert "Not open to you: see Before you can book" in text_of(row)

    # The session's own page has no panel above: the row says why in full.
    alone = text_of(tbody((await browser.get(f"/sessions/{open_id}")).text, open_id))
    assert "This course is for these job roles: nurse" in alone
    # The sign-up page itself offers no form either.
    form = await browser.get(f"/sessions/{open_id}/book")
    assert 'name="special_requirements"' not in form.text
    assert "This course is for these job roles: nurse" in text_of(form.text)


async def test_booked_on_one_date_the_full_date_shows_the_refusal_and_a_free_date_offers_a_move(
    browser: Browser,
) -> None:
    world = browser.world
    held = await support.make_session(world, capacity=10)
    full = await support.make_session(world, capacity=0, start=support.T0 + timedelta(days=20))
    free = await support.make_session(world, capacity=5, start=support.T0 + timedelta(days=30))
    lee = await support.actor(world.db, "lee@example.org")
    mine = await bookings.book_place(world.db, world.clock, lee, BookingRequest(held))
    await browser.sign_in("lee@example.org")

    page = await browser.get(f"/courses/{world.course_id}")
    full_row = text_of(tbody(page.text, full))
    assert "Join waitlist" not in full_row and "Sign up" not in full_row
    assert "You already hold a place on another date of Safeguarding Adults" in full_row
    # Giving up a seat for a waiting-list place is not offered.
    assert "Move my place here" not in full_row
    free_row = tbody(page.text, free)
    assert "Sign up" not in text_of(free_row)
    assert "Move my place here" in text_of(free_row)

    # The move form says what moving does, and moving works.
    form = await browser.get(f"/sessions/{free}/book", htmx=True)
    assert f'name="move_from" value="{mine.booking.id}"' in form.text
    assert "Moving gives that place up and books you on this date" in text_of(form.text)
    moved = await browser.post(f"/sessions/{free}/book", {"move_from": str(mine.booking.id)})
    assert moved.status_code == 303, moved.text
    listed = (await bookings.my_bookings(world.db, world.clock, lee)).items
    states = {b.session_id: b.state for b in listed}
    assert states == {held: "cancelled", free: "booked"}


async def test_joining_a_waiting_list_while_another_date_has_free_places_says_so(
    browser: Browser,
) -> None:
    world = browser.world
    full = await support.make_session(world, capacity=1)
    free = await support.make_session(world, capacity=5, start=support.T0 + timedelta(days=30))
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(full))

    # Before joining, the waiting-list form points to the free date.
    await browser.sign_in("lee@example.org")
    form = await browser.get(f"/sessions/{full}/book", htmx=True)
    assert "Join the waiting list" in form.text
    assert "Another date has free places now: Wed 31 Mar 2027, 10:00 BST" in text_of(form.text)
    assert f'href="/sessions/{free}"' in form.text

    # With htmx: the outcome in the status region links to the free date.
    swapped = await browser.post(f"/sessions/{full}/book", htmx=True)
    assert swapped.status_code == 200, swapped.text
    status = re.search(
        r'<div id="status" role="status" hx-swap-oob="innerHTML">(.*?)</div>', swapped.text, re.S
    )
    assert status
    assert "You're number 1 on the waiting list" in text_of(status.group(1))
    assert "Another date has free places now: Wed 31 Mar 2027, 10:00 BST" in text_of(
        status.group(1)
    )
    assert f'href="/sessions/{free}"' in status.group(1)
    assert "you can move your place there" in text_of(status.group(1))
    # And that date's row offers the move.
    row = text_of(tbody((await browser.get(f"/courses/{world.course_id}")).text, free))
    assert "Move my place here" in row

    # Without JavaScript: the confirmation page says the same.
    await browser.sign_in("manager@example.org")
    plain = await browser.post(f"/sessions/{full}/book")
    assert plain.status_code == 303
    confirmation = await browser.get(plain.headers["location"])
    assert "You're number 2 on the waiting list" in confirmation.text
    assert "Another date has free places now" in text_of(confirmation.text)
    assert f'href="/sessions/{free}"' in confirmation.text


async def test_joining_a_waiting_list_when_no_other_date_is_free_says_nothing_more(
    browser: Browser,
) -> None:
    world = browser.world
    full = await support.make_session(world, capacity=1)
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(full))
    await browser.sign_in("lee@example.org")
    swapped = await browser.post(f"/sessions/{full}/book", htmx=True)
    assert "You're number 1 on the waiting list" in text_of(swapped.text)
    assert "free places" not in text_of(swapped.text)
