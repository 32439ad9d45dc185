"""The HTML pages: sign-in, catalogue, the session table, signing up with and without htmx,
the waiting list, cancelling, the roster, and the CSRF guard. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.models import Booking
from booking.people import auth
from tests import support
from tests.web.conftest import Browser, BrowserFactory, person_id_of


def text_of(markup: str) -> str:
    """The page's text as a reader gets it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", markup)
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def tbody(markup: str, session_id: int) -> str:
    match = re.search(rf'<tbody id="session-{session_id}".*?</tbody>', markup, re.S)
    assert match, f"no row for session {session_id}"
    return match.group(0)


async def count_bookings(world: support.World) -> int:
    return await catalogue.count_table(world.db, Booking)


# --- signing in ------------------------------------------------------------------------------


async def test_pages_send_visitors_who_are_not_signed_in_to_the_login_page(
    browser: Browser,
) -> None:
    response = await browser.get("/courses")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/courses"


async def test_demo_login_lists_people_and_signs_in_as_the_one_picked(browser: Browser) -> None:
    page = await browser.get("/login")
    assert "Sign in as Lee Learner" in page.text
    assert "Sign in as Tia Trainer" in page.text

    await browser.sign_in("lee@example.org")

    courses = await browser.get("/courses")
    assert courses.status_code == 200
    assert "Signed in as <strong>Lee Learner</strong>" in courses.text
    assert 'action="/logout"' in courses.text


async def test_signing_out_forgets_the_person(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    response = await browser.post("/logout")
    assert response.status_code == 303
    assert (await browser.get("/courses")).status_code == 303
    login = await browser.get("/login")
    assert "You are signed out." in login.text


async def test_login_only_redirects_within_the_site(browser: Browser) -> None:
    await browser.get("/login")
    lee = await person_id_of(browser.world, "lee@example.org")
    response = await browser.post("/login", {"person_id": str(lee), "next": "//evil.example/steal"})
    assert response.status_code == 303
    assert response.headers["location"] == "/courses"


async def test_without_demo_mode_nobody_is_listed_and_only_a_password_signs_in(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser(demo=False) as browser:
        page = await browser.get("/login")
        assert page.status_code == 200
        assert "Sign in as" not in page.text
        assert "Lee Learner" not in page.text
        assert 'name="password"' in page.text
        assert 'autocomplete="username"' in page.text

        # Picking a person is not a way in outside the demo.
        lee = await person_id_of(browser.world, "lee@example.org")
        refused = await browser.post("/login", {"person_id": str(lee)})
        assert refused.status_code == 422
        assert "Lee Learner" not in refused.text
        assert (await browser.get("/courses")).status_code == 303

        await auth.set_password(browser.world.db, browser.world.clock, lee, "Corr3ctHorse")
        wrong = await browser.post(
            "/login", {"email": "lee@example.org", "password": "wrong-Passw0rd"}
        )
        assert wrong.status_code == 422
        assert "do not match an account" in wrong.text
        assert 'aria-describedby="login-error"' in wrong.text

        ok = await browser.post(
            "/login",
            {"email": "lee@example.org", "password": "Corr3ctHorse", "next": "/me/bookings"},
        )
        assert ok.status_code == 303
        assert ok.headers["location"] == "/me/bookings"
        mine = await browser.get("/me/bookings")
        assert mine.status_code == 200
        assert "Signed in as <strong>Lee Learner</strong>" in mine.text


# --- catalogue and the session table ---------------------------------------------------------


async def test_catalogue_search_finds_a_course_by_a_word_of_its_title(browser: Browser) -> None:
    world = browser.world
    await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="FIRE-1", title="Fire Safety", summary="Extinguishers and exits"),
    )
    await support.make_session(world)
    await browser.sign_in("lee@example.org")

    everything = await browser.get("/courses")
    assert "Safeguarding Adults" in everything.text
    assert "Fire Safety" in everything.text

    found = await browser.get("/courses", params={"q": "safeguard"})
    assert found.status_code == 200
    assert f'href="/courses/{world.course_id}"' in found.text
    assert "Fire Safety" not in found.text
    assert "1 course matching" in text_of(found.text)
    # Price and the count of upcoming sessions.
    assert "Free" in found.text
    assert re.search(r"Upcoming sessions</dt><dd>1</dd>", found.text)

    nothing = await browser.get("/courses", params={"q": "knitting"})
    assert "No courses match" in text_of(nothing.text)


async def test_course_page_shows_the_session_table_with_counts_and_sign_up(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    await browser.sign_in("lee@example.org")

    page = await browser.get(f"/courses/{world.course_id}")
    assert page.status_code == 200
    row = tbody(page.text, session_id)
    row_text = text_of(row)
    # T0 + 14 days = Mon 15 Mar 2027 09:00 UTC = 09:00 GMT in London, for 3 hours.
    assert "Mon 15 Mar 2027, 09:00–12:00 GMT" in row_text
    assert "0 / 10" in row_text
    assert "Open" in row_text
    assert "Sign up" in row_text
    assert f'href="/sessions/{session_id}/book"' in row
    assert f'hx-get="/sessions/{session_id}/book"' in row
    assert "More info" in row_text
    assert "Roster" not in row_text  # Lee runs no sessions.


async def test_multi_date_sessions_list_every_date_in_its_own_time_zone(
    browser: Browser,
) -> None:
    world = browser.world
    # The clocks go forward on Sunday 28 March 2027: the second date is in BST.
    first = support.T0 + timedelta(days=25)  # Fri 26 Mar 2027 09:00 UTC
    second = first + timedelta(days=7)  # Fri 2 Apr 2027 09:00 UTC = 10:00 BST
    view = await catalogue.create_session(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        catalogue.SessionInput(
            dates=[
                catalogue.DateInput(first, first + timedelta(hours=2), support.LONDON),
                catalogue.DateInput(second, second + timedelta(hours=2), support.LONDON),
            ],
            capacity=17,
            room=catalogue.RoomInput("Room 101", "Town Hall"),
        ),
    )
    await browser.sign_in("lee@example.org")
    row_text = text_of(tbody((await browser.get(f"/courses/{world.course_id}")).text, view.id))
    assert "Fri 26 Mar 2027, 09:00–11:00 GMT" in row_text
    assert "Fri 2 Apr 2027, 10:00–12:00 BST" in row_text
    assert "Room 101" in row_text


async def test_a_full_session_shows_its_waitlist_and_join_waitlist(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=1)
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    await browser.sign_in("lee@example.org")

    row_text = text_of(tbody((await browser.get(f"/courses/{world.course_id}")).text, session_id))
    assert "1 / 1" in row_text
    assert "Full" in row_text
    assert "Join waitlist" in row_text
    assert "Sign up" not in row_text


# --- signing up ------------------------------------------------------------------------------


async def test_signing_up_with_the_plain_form_books_and_confirms(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    await browser.sign_in("lee@example.org")

    form = await browser.get(f"/sessions/{session_id}/book")
    assert form.status_code == 200
    assert '<label for="special-requirements-' in form.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token, "the form carries its CSRF token"

    response = await browser.client.post(
        f"/sessions/{session_id}/book",
        data={"_csrf_token": token.group(1), "special_requirements": "Step-free access"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/bookings/\d+\?new=1", location)

    confirmation = await browser.get(location)
    assert confirmation.status_code == 200
    assert "You're booked" in confirmation.text
    assert "Step-free access" in confirmation.text

    lee = await support.actor(world.db, "lee@example.org")
    mine = (await bookings.my_bookings(world.db, world.clock, lee)).items
    assert [(b.session_id, b.state, b.special_requirements) for b in mine] == [
        (session_id, "booked", "Step-free access")
    ]
    # The course page now offers to cancel instead of signing up.
    row_text = text_of(tbody((await browser.get(f"/courses/{world.course_id}")).text, session_id))
    assert "1 / 10" in row_text
    assert "Cancel booking" in row_text
    assert "Sign up" not in row_text


async def test_htmx_opens_the_form_in_the_row_and_swaps_the_row_after_signing_up(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    await browser.sign_in("lee@example.org")
    course_page = await browser.get(f"/courses/{world.course_id}")
    # The status region is in the page before anything is swapped into it.
    assert '<div id="status" class="status" role="status" aria-live="polite">' in course_page.text
    assert 'hx-headers=\'{"x-csrftoken": "' in course_page.text

    inline = await browser.get(f"/sessions/{session_id}/book", htmx=True)
    assert inline.status_code == 200
    assert inline.text.lstrip().startswith(f'<tbody id="session-{session_id}"')
    assert "<html" not in inline.text
    assert f'hx-post="/sessions/{session_id}/book"' in inline.text

    response = await browser.post(
        f"/sessions/{session_id}/book", {"special_requirements": ""}, htmx=True
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    row_text = text_of(tbody(response.text, session_id))
    assert "1 / 10" in row_text
    assert "Booked" in row_text
    assert "Cancel booking" in row_text
    status = re.search(
        r'<div id="status" role="status" hx-swap-oob="innerHTML">(.*?)</div>', response.text, re.S
    )
    assert status, "the outcome goes to the status region"
    assert "You're booked on Safeguarding Adults" in text_of(status.group(1))
    assert await count_bookings(world) == 1


async def test_joining_the_waiting_list_says_which_number_you_are(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=1)
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    await browser.sign_in("lee@example.org")

    form = await browser.get(f"/sessions/{session_id}/book")
    assert "Join the waiting list" in form.text

    response = await browser.post(f"/sessions/{session_id}/book")
    assert response.status_code == 303
    confirmation = await browser.get(response.headers["location"])
    assert "You're number 1 on the waiting list" in confirmation.text

    # And with htmx, for the next learner in line.
    await browser.sign_in("manager@example.org")
    swapped = await browser.post(f"/sessions/{session_id}/book", htmx=True)
    assert swapped.status_code == 200
    assert "You're number 2 on the waiting list" in text_of(swapped.text)
    row_text = text_of(tbody(swapped.text, session_id))
    assert "1 / 1 (2 wait-listed)" in row_text
    assert "Waitlisted #2" in row_text
    assert "Leave waitlist" in row_text


async def test_a_refused_sign_up_says_why_in_place_and_changes_nothing(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=1, waitlist_mode="off")
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    other = await support.make_session(world, capacity=5, start=support.T0 + timedelta(days=30))
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(other))
    await browser.sign_in("lee@example.org")
    before = await count_bookings(world)

    # Full with no waiting list: the row offers nothing to sign up for.
    row_text = text_of(tbody((await browser.get(f"/courses/{world.course_id}")).text, session_id))
    assert "Sign up" not in row_text and "Join waitlist" not in row_text

    # Lee already holds another date of this course.
    second = await support.make_session(world, capacity=5, start=support.T0 + timedelta(days=40))
    refused = await browser.post(
        f"/sessions/{second}/book", {"special_requirements": "Hearing loop"}, htmx=True
    )
    assert refused.status_code == 409
    row = tbody(refused.text, second)
    assert 'role="alert"' in row
    assert "You already hold a place on another date of Safeguarding Adults" in text_of(row)
    assert "Hearing loop" in row  # nothing typed is lost
    plain = await browser.post(f"/sessions/{second}/book", {"special_requirements": "Loop"})
    assert plain.status_code == 409
    assert "You cannot sign up for this session" in plain.text
    assert await count_bookings(world) == before


# --- my bookings, cancelling, offers ---------------------------------------------------------


async def test_my_bookings_shows_states_and_offers_can_be_accepted(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=1, waitlist_mode="offer")
    kim = await support.actor(world.db, "kim@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    kims = await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    lees = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    await browser.sign_in("lee@example.org")

    waiting = text_of((await browser.get("/me/bookings")).text)
    assert "Waitlisted #1" in waiting

    await bookings.cancel_booking(world.db, world.clock, kim, kims.booking.id, reason="Illness")
    offered = await browser.get("/me/bookings")
    assert "Offer — accept by Tue 2 Mar 2027, 09:00 GMT" in text_of(offered.text)
    assert f'action="/bookings/{lees.booking.id}/accept"' in offered.text

    accepted = await browser.post(f"/bookings/{lees.booking.id}/accept")
    assert accepted.status_code == 303
    after = await browser.get(accepted.headers["location"])
    assert "You have accepted the place" in text_of(after.text)
    assert "Booked" in text_of(after.text)
    view = await bookings.get_booking(world.db, world.clock, lee, lees.booking.id)
    assert view.state == "booked"


async def test_cancelling_without_a_reason_shows_the_error_on_the_field(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    lee = await support.actor(world.db, "lee@example.org")
    outcome = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    booking_id = outcome.booking.id
    await browser.sign_in("lee@example.org")

    form = await browser.get(f"/bookings/{booking_id}/cancel")
    assert form.status_code == 200
    assert '<label for="reason">' in form.text
    assert "Work commitments" in form.text

    response = await browser.post(
        f"/bookings/{booking_id}/cancel", {"reason": "", "details": "Clash with a panel"}
    )
    assert response.status_code == 422
    assert 'id="reason-error"' in response.text
    assert re.search(r'<select id="reason"[^>]*aria-describedby="reason-error"', response.text)
    assert re.search(r'<select id="reason"[^>]*aria-invalid="true"', response.text)
    assert "Choose a reason for cancelling." in response.text
    assert "Clash with a panel" in response.text  # the details typed are kept

    view = await bookings.get_booking(world.db, world.clock, lee, booking_id)
    assert view.state == "booked"


async def test_cancelling_with_a_reason_cancels_and_says_so(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    lee = await support.actor(world.db, "lee@example.org")
    outcome = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    booking_id = outcome.booking.id
    await browser.sign_in("lee@example.org")

    response = await browser.post(
        f"/bookings/{booking_id}/cancel", {"reason": "Illness", "details": "Back in April"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/me/bookings"
    page = await browser.get("/me/bookings")
    page_text = text_of(page.text)
    assert "Your booking on Safeguarding Adults, Mon 15 Mar 2027 is cancelled." in page_text
    assert "Cancelled" in page_text
    # The flash shows once.
    assert "is cancelled." not in text_of((await browser.get("/me/bookings")).text)

    view = await bookings.get_booking(world.db, world.clock, lee, booking_id)
    assert (view.state, view.cancel_reason, view.cancel_details) == (
        "cancelled",
        "Illness",
        "Back in April",
    )
    detail = await browser.get(f"/bookings/{booking_id}")
    assert "Illness" in detail.text
    assert "Booked → Cancelled" in text_of(detail.text)


# --- the roster ------------------------------------------------------------------------------


async def test_roster_is_refused_to_a_learner_and_lists_the_waitlist_in_order_for_the_trainer(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=1, facilitators=["trainer@example.org"])
    for email, needs in (
        ("lee@example.org", "Wheelchair user"),
        ("kim@example.org", None),
        ("manager@example.org", None),
    ):
        who = await support.actor(world.db, email)
        await bookings.book_place(
            world.db,
            world.clock,
            who,
            BookingRequest(session_id, special_requirements=needs),
        )

    await browser.sign_in("kim@example.org")
    refused = await browser.get(f"/sessions/{session_id}/roster")
    assert refused.status_code == 403
    assert "Only the session's trainers and administrators see its roster." in html.unescape(
        refused.text
    )
    assert "Wheelchair user" not in refused.text

    await browser.sign_in("trainer@example.org")
    course_row = text_of(tbody((await browser.get(f"/courses/{world.course_id}")).text, session_id))
    assert "Roster" in course_row
    roster = await browser.get(f"/sessions/{session_id}/roster")
    assert roster.status_code == 200
    booked = roster.text.split('id="roster-booked"')[1].split("</section>")[0]
    assert "Lee Learner" in booked and "Wheelchair user" in booked and "Social Worker" in booked
    waitlist = roster.text.split('id="roster-waitlisted"')[1].split("</section>")[0]
    assert waitlist.index("Kim Learner") < waitlist.index("Mo Manager")
    assert "Lee Learner" not in waitlist


# --- guards ----------------------------------------------------------------------------------


async def test_a_post_without_the_csrf_token_is_refused_and_books_nothing(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    await browser.sign_in("lee@example.org")

    response = await browser.post(f"/sessions/{session_id}/book", csrf=False)
    assert response.status_code == 403
    htmx = await browser.post(f"/sessions/{session_id}/book", htmx=True, csrf=False)
    assert htmx.status_code == 403
    assert await count_bookings(world) == 0


async def test_service_errors_render_the_error_page_in_the_layout(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    missing = await browser.get("/bookings/999999")
    assert missing.status_code == 404
    assert "There is no booking 999999." in missing.text
    assert 'role="status"' in missing.text  # the layout, not a bare page
    assert "Signed in as" in missing.text


async def test_a_learner_cannot_see_someone_elses_booking(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    kim = await support.actor(world.db, "kim@example.org")
    kims = await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    await browser.sign_in("lee@example.org")
    assert (await browser.get(f"/bookings/{kims.booking.id}")).status_code == 404
    response = await browser.post(f"/bookings/{kims.booking.id}/cancel", {"reason": "Illness"})
    assert response.status_code == 404
    view = await bookings.get_booking(world.db, world.clock, kim, kims.booking.id)
    assert view.state == "booked"


async def test_htmx_requests_whose_sign_in_lapsed_reload_the_login_page(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    response = await browser.client.get(
        f"/sessions/{session_id}/book", headers={"HX-Request": "true"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/login?next=/sessions/{session_id}/book"
    assert response.text == ""
