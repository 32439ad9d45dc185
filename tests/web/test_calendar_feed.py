"""The private calendar feed as calendar clients poll it: HEAD, conditional GET (ETag and
Last-Modified, 304 when nothing changed, 200 after any change to a booking in it), one charset,
and no CSRF cookie (or any cookie)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

from icalendar import Calendar

from booking import bookings, catalogue, notifications
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.web.conftest import Browser


async def _feed_url(browser: Browser, email: str) -> str:
    token = await notifications.calendar_token(
        browser.world.db, await support.actor(browser.world.db, email)
    )
    return f"/calendar/{token}.ics"


async def test_the_feed_answers_head_with_its_headers_and_no_body(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    url = await _feed_url(browser, "lee@example.org")

    got = await browser.client.get(url)
    head = await browser.client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "text/calendar; charset=utf-8"
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["last-modified"] == got.headers["last-modified"]
    assert (await browser.client.head("/calendar/not-a-token.ics")).status_code == 404


async def test_the_feed_sets_no_cookie_and_one_charset(browser: Browser) -> None:
    url = await _feed_url(browser, "lee@example.org")
    feed = await browser.client.get(url)
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "set-cookie" not in feed.headers
    assert "csrftoken" not in browser.client.cookies
    Calendar.from_ical(feed.content)
    # Pages still get their CSRF cookie.
    await browser.get("/login")
    assert browser.client.cookies.get("csrftoken")


async def test_an_unchanged_feed_is_not_sent_again(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    url = await _feed_url(browser, "lee@example.org")

    first = await browser.client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and etag.endswith('"')
    assert parsedate_to_datetime(modified) <= world.clock.now()

    world.clock.advance(timedelta(minutes=30))
    # Polled again with nothing changed: the same bytes, the same validators.
    again = await browser.client.get(url)
    assert again.content == first.content and again.headers["etag"] == etag

    for validators in (
        {"If-None-Match": etag},
        {"If-None-Match": f'W/{etag}, "other"'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
    ):
        cached = await browser.client.get(url, headers=validators)
        assert cached.status_code == 304, validators
        assert cached.content == b""
        assert cached.headers["etag"] == etag
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    stale = await browser.client.get(
        url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}
    )
    assert stale.status_code == 200 and stale.content == first.content
    older = format_datetime(parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)
    assert (await browser.client.get(url, headers={"If-Modified-Since": older})).status_code == 200
    garbage = await browser.client.get(url, headers={"If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200


async def test_any_change_to_a_booking_in_the_feed_changes_its_validators(
    browser: Browser,
) -> None:
    world = browser.world
    first_session = await support.make_session(world)
    other = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="FIRE-1", title="Fire Safety")
    )
    second_session = await support.make_session(
        world, course_id=other.id, start=world.clock.now() + timedelta(days=20)
    )
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(first_session))
    second = await bookings.book_place(world.db, world.clock, lee, BookingRequest(second_session))
    url = await _feed_url(browser, "lee@example.org")

    before = await browser.client.get(url)
    etag, modified = before.headers["etag"], before.headers["last-modified"]
    assert len(Calendar.from_ical(before.content).walk("VEVENT")) == 2

    # A cancellation takes a booking out of the feed: an ETag poll and a date poll both see it.
    world.clock.advance(timedelta(hours=2))
    await bookings.cancel_booking(world.db, world.clock, lee, second.booking.id, reason="Clash")
    for validators in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        after = await browser.client.get(url, headers=validators)
        assert after.status_code == 200, validators
        assert len(Calendar.from_ical(after.content).walk("VEVENT")) == 1
        assert after.headers["etag"] != etag
        assert parsedate_to_datetime(after.headers["last-modified"]) > parsedate_to_datetime(
            modified
        )
