"""Query counts of the pages and API lists (pretix-style): the number of SQL statements a page
issues must not grow with the rows it shows. Each test renders the same page for a small and a
larger data set (or for a small and a large subject: a session with 3 people on its roster and
one with 14) and asserts the counts are equal, naming the statements that repeat when they are
not. A page that starts loading something per row fails here, not only in the benchmark.

The count is taken on the second of two identical requests, so one-off work (a session cookie
being issued, a calendar token being made) does not blur it. BEGIN/COMMIT are left out: SQLite's
`BEGIN IMMEDIATE` goes through the cursor and PostgreSQL's does not. Both backends run."""

from __future__ import annotations

import collections
import contextlib
import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event, select

from billing.domain.money import Money
from billing.services import ledger
from booking import bookings, catalogue, people, records, roster, webhooks
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, DateInput, SessionInput
from booking.clock import FixedClock
from booking.kernel import tx
from booking.models import Outbox
from tests import support
from tests.web.conftest import Browser, BrowserFactory, person_id_of

# A page that shows a list may still issue a handful of statements (who is asking, their
# session, the list, its related rows); one that needs more than this is doing too much.
CEILING = 30
# A plain booking (no cost code, no approval, no prerequisites): see the test at the end. It
# takes the lean path (bookings/lean.py), whose statements the driver sends and the engine's
# listeners hear: the token, then on PostgreSQL the learner with the session, its dates and the
# learner's other bookings in one statement and the seat with every row it writes in another;
# on SQLite the learner with the session, the dates with the other bookings, then seat,
# booking, history, emails one statement each. With no webhook endpoint registered the
# session's read says so (and names its trainers), and the fan-out is skipped (one INSERT …
# SELECT more where an endpoint listens: the test shows both). On PostgreSQL the token is not
# read on its own: a token never used before finds the learner in the first statement, one
# used before is checked there (bookings/vouch.py); on SQLite the latter saves its read too.
BOOKING_STATEMENTS = {"postgresql": 2, "sqlite": 7}
# A learner cancelling their own booked place, the next in line promoted (bookings/lean_cancel),
# 26 statements through the ORM before. Token; the session locked with its course, the booking,
# learner, trainers, listeners and whether billing holds anything; then on PostgreSQL the dates,
# history and line in one read, the cancellation with its rows and the seat given back in one
# statement, the promotion with its seat and rows in another. On SQLite (one hop to its thread):
# dates; history; the booking cancelled, its history, its emails; the seat released; the line
# with its learners' other bookings; the seat taken, the promotion, its history, its emails.
CANCEL_STATEMENTS = {"postgresql": 5, "sqlite": 13}


@contextlib.contextmanager
def counting(browser: Browser) -> Iterator[list[str]]:
    """Statements the app's own engine executes inside the block (not the test's seeding)."""
    engine = browser.client.app.state.db.engine.sync_engine
    statements: list[str] = []

    def on_execute(*args: Any) -> None:
        statement: str = args[2]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


async def queries(browser: Browser, url: str, **kw: Any) -> tuple[list[str], httpx.Response]:
    """The statements of one request for `url`, in steady state (the second of two)."""
    fetch = browser.client.get if "headers" in kw else browser.get
    first = await fetch(url, **kw)
    assert first.status_code == 200, (url, first.status_code, first.text[:500])
    with counting(browser) as statements:
        response = await fetch(url, **kw)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    return statements, response


def shape(statement: str) -> str:
    """A statement without its literal lists, so `IN (?, ?)` and `IN (?, ?, ?)` are one query."""
    return re.sub(r"\(\s*[^()]*\)", "(…)", statement)


def assert_same_count(small: list[str], large: list[str], what: str) -> None:
    assert len(small) <= CEILING, f"{what}: {len(small)} statements\n" + "\n".join(small)
    if len(small) == len(large):
        return
    grew = collections.Counter(map(shape, large))
    grew.subtract(collections.Counter(map(shape, small)))
    listing = "\n".join(f"  {n:+d}× {s[:300]}" for s, n in grew.most_common() if n)
    raise AssertionError(
        f"{what}: {len(small)} statements for the small data set, {len(large)} for the larger "
        f"one. The difference:\n{listing}"
    )


# --- seeding ----------------------------------------------------------------------------------


async def add_course(world: support.World, code: str, title: str, **kw: Any) -> int:
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code=code, title=title, **kw)
    )
    return course.id


_slots = itertools.count()


async def add_session(world: support.World, course_id: int, *, capacity: int = 10) -> int:
    """A session of two dates with a facilitator, so every kind of related row is there. Each
    starts in a time slot of its own, so neither the trainer nor a learner has a clash."""
    start = world.clock.now() + timedelta(days=3, hours=4 * next(_slots))
    view = await catalogue.create_session(
        world.db,
        world.clock,
        world.admin,
        course_id,
        SessionInput(
            dates=[
                DateInput(
                    start + timedelta(days=365 * i),
                    start + timedelta(days=365 * i, hours=3),
                    support.LONDON,
                )
                for i in range(2)
            ],
            capacity=capacity,
            facilitators=["trainer@example.org"],
        ),
    )
    return view.id


async def book(world: support.World, session_id: int, email: str, **kw: Any) -> int:
    outcome = await bookings.book_place(
        world.db, world.clock, world.admin, BookingRequest(session_id, learner_email=email, **kw)
    )
    return outcome.booking.id


async def add_people(
    world: support.World, n: int, prefix: str, manager: str | None = None
) -> list[str]:
    emails = [f"{prefix}{i:03d}@example.org" for i in range(n)]
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(e, f"{prefix.title()} {i}", None, manager, "ADULT", "Officer")
            for i, e in enumerate(emails)
        ],
    )
    return emails


async def lee_books_across(world: support.World, tag: str, n: int) -> None:
    """Lee gets `n` courses' worth of bookings: booked, waitlisted behind others, cancelled."""
    others = await add_people(world, 2, f"{tag}other")
    for i in range(n):
        course_id = await add_course(
            world, f"{tag}-{i}", f"Course {tag} {i}", allow_multiple_bookings=True
        )
        booked = await add_session(world, course_id)
        await book(world, booked, "lee@example.org")
        full = await add_session(world, course_id, capacity=1)
        await book(world, full, others[0])
        await book(world, full, others[1])  # waiting, ahead of Lee
        await book(world, full, "lee@example.org")  # waiting, second
        gone = await add_session(world, course_id)
        booking_id = await book(world, gone, "lee@example.org")
        await bookings.cancel_booking(
            world.db, world.clock, world.admin, booking_id, reason="Plans changed"
        )


async def api_token(world: support.World, email: str) -> dict[str, str]:
    token = await people.create_token(world.db, world.clock, email=email)
    return {"Authorization": f"Bearer {token}"}


# --- the learner's pages ----------------------------------------------------------------------


async def test_my_bookings_page_and_api_do_not_query_per_booking(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("lee@example.org")
    lee = await api_token(world, "lee@example.org")

    await lee_books_across(world, "S", 1)
    small, page = await queries(browser, "/me/bookings")
    small_api, listing = await queries(browser, "/api/v1/me/bookings", headers=lee)
    assert len(listing.json()["items"]) == 3

    await lee_books_across(world, "L", 5)
    large, page = await queries(browser, "/me/bookings")
    large_api, listing = await queries(browser, "/api/v1/me/bookings", headers=lee)
    items = listing.json()["items"]
    assert len(items) == 18
    # The positions are right, not only cheap: Lee is second in every waiting list.
    assert {b["waitlist_position"] for b in items if b["state"] == "waitlisted"} == {2}
    assert "Course L 4" in page.text

    assert_same_count(small, large, "/me/bookings")
    assert_same_count(small_api, large_api, "GET /api/v1/me/bookings")


async def test_catalogue_search_and_course_page_do_not_query_per_course_or_session(
    browser: Browser,
) -> None:
    world = browser.world
    await browser.sign_in("lee@example.org")
    lee = await api_token(world, "lee@example.org")

    one = await add_course(world, "ONE", "Moving and Handling Basics")
    await add_session(world, one)
    small_search, _ = await queries(browser, "/courses?q=handling")
    small_course, _ = await queries(browser, f"/courses/{one}")
    small_api, _ = await queries(browser, "/api/v1/courses", headers=lee)
    small_api_course, _ = await queries(browser, f"/api/v1/courses/{one}", headers=lee)

    many = await add_course(world, "MANY", "Handling Complaints", allow_multiple_bookings=True)
    for _ in range(6):
        session_id = await add_session(world, many, capacity=2)
        await book(world, session_id, "kim@example.org")
    for i in range(5):
        course_id = await add_course(world, f"H{i}", f"Handling Data {i}")
        await add_session(world, course_id)
    large_search, search = await queries(browser, "/courses?q=handling")
    large_course, course = await queries(browser, f"/courses/{many}")
    large_api, listing = await queries(browser, "/api/v1/courses", headers=lee)
    large_api_course, detail = await queries(browser, f"/api/v1/courses/{many}", headers=lee)

    assert "Handling Data 4" in search.text and "Handling Complaints" in search.text
    assert course.text.count('<tbody id="session-') == 6
    assert len(detail.json()["sessions"]) == 6
    assert len(listing.json()["items"]) >= 7

    assert_same_count(small_search, large_search, "/courses?q=")
    assert_same_count(small_course, large_course, "/courses/{id}")
    assert_same_count(small_api, large_api, "GET /api/v1/courses")
    assert_same_count(small_api_course, large_api_course, "GET /api/v1/courses/{id}")


async def test_record_of_learning_does_not_query_per_course(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("lee@example.org")
    lms = await support.actor_for_service(world.db)
    lee = await api_token(world, "lee@example.org")
    at = world.clock.now() - timedelta(days=30)

    async def complete(tag: str, n: int) -> None:
        for i in range(n):
            await add_course(
                world, f"{tag}{i}", f"Record {tag} {i}", certification_months=12 if i % 2 else None
            )
        await records.record_completions(
            world.db,
            world.clock,
            lms,
            [
                records.CompletionInput(f"{tag}{i}", at, learner_email="lee@example.org")
                for i in range(n)
            ],
        )

    await complete("RS", 1)
    await lee_books_across(world, "RSB", 1)
    small, _ = await queries(browser, "/me/record")
    small_api, _ = await queries(browser, "/api/v1/me/record", headers=lee)

    await complete("RL", 6)
    await lee_books_across(world, "RLB", 3)
    large, page = await queries(browser, "/me/record")
    large_api, _ = await queries(browser, "/api/v1/me/record", headers=lee)
    assert "Record RL 5" in page.text

    assert_same_count(small, large, "/me/record")
    assert_same_count(small_api, large_api, "GET /api/v1/me/record")


# --- trainers, managers, administrators ---------------------------------------------------------


async def test_roster_does_not_query_per_learner(open_browser: BrowserFactory) -> None:
    async with open_browser() as browser:
        world = browser.world
        await browser.sign_in("trainer@example.org")
        trainer = await api_token(world, "trainer@example.org")
        course_id = await add_course(
            world,
            "ROST",
            "Roster Course",
            questions=[{"id": "diet", "label": "Dietary needs?", "kind": "text"}],
            allow_multiple_bookings=True,
        )
        emails = await add_people(world, 14, "roster")

        small_session = await add_session(world, course_id, capacity=2)
        large_session = await add_session(world, course_id, capacity=10)
        for email in emails[:3]:
            await book(
                world, small_session, email, answers={"diet": "none"}, special_requirements="Ramp"
            )
        for email in emails:
            await book(
                world, large_session, email, answers={"diet": "none"}, special_requirements="Ramp"
            )
        for session_id in (small_session, large_session):  # a cancelled row on each roster
            cancelled = await book(world, session_id, "kim@example.org")
            await bookings.cancel_booking(
                world.db, world.clock, world.admin, cancelled, reason="Plans changed"
            )

        small, _ = await queries(browser, f"/sessions/{small_session}/roster")
        large, page = await queries(browser, f"/sessions/{large_session}/roster")
        small_api, _ = await queries(
            browser, f"/api/v1/sessions/{small_session}/roster", headers=trainer
        )
        large_api, roster = await queries(
            browser, f"/api/v1/sessions/{large_session}/roster", headers=trainer
        )
        small_csv, _ = await queries(browser, f"/sessions/{small_session}/roster/export.csv")
        large_csv, csv = await queries(browser, f"/sessions/{large_session}/roster/export.csv")

        body = roster.json()
        assert len(body["booked"]) == 10 and len(body["waitlisted"]) == 4
        assert "Roster 13" in page.text
        assert csv.text.count("\n") >= 14

        assert_same_count(small, large, "/sessions/{id}/roster")
        assert_same_count(small_api, large_api, "GET /api/v1/sessions/{id}/roster")
        assert_same_count(small_csv, large_csv, "/sessions/{id}/roster/export.csv")


async def test_team_and_approval_queue_do_not_query_per_person(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser() as browser:
        world = browser.world
        await browser.sign_in("manager@example.org")
        manager = await api_token(world, "manager@example.org")
        gated = await add_course(world, "GATE", "Leading Teams", approval=["manager"])
        session_id = await add_session(world, gated, capacity=30)
        lee = await support.actor(world.db, "lee@example.org")
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))

        small_team, _ = await queries(browser, "/team")
        small_queue, _ = await queries(browser, "/approvals")
        small_api, _ = await queries(browser, "/api/v1/approvals", headers=manager)
        small_team_api, _ = await queries(browser, "/api/v1/me/team", headers=manager)

        for email in await add_people(world, 6, "report", manager="manager@example.org"):
            learner = await support.actor(world.db, email)
            await bookings.book_place(world.db, world.clock, learner, BookingRequest(session_id))
        large_team, team = await queries(browser, "/team")
        large_queue, queue = await queries(browser, "/approvals")
        large_api, waiting = await queries(browser, "/api/v1/approvals", headers=manager)
        large_team_api, _ = await queries(browser, "/api/v1/me/team", headers=manager)

        assert "Report 5" in team.text and "Report 5" in queue.text
        assert len(waiting.json()["items"]) == 7

        assert_same_count(small_team, large_team, "/team")
        assert_same_count(small_queue, large_queue, "/approvals")
        assert_same_count(small_api, large_api, "GET /api/v1/approvals")
        assert_same_count(small_team_api, large_team_api, "GET /api/v1/me/team")


async def test_compliance_report_and_outbox_do_not_query_per_row(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser() as browser:
        world = browser.world
        await browser.sign_in("admin@example.org")
        admin = {"Authorization": f"Bearer {world.admin_token}"}
        await add_course(world, "CERT0", "Fire Safety", certification_months=12)
        small, _ = await queries(browser, "/admin/compliance")
        small_api, _ = await queries(browser, "/api/v1/reports/compliance", headers=admin)
        small_outbox, _ = await queries(browser, "/admin/outbox")

        await people.upsert_org_units(
            world.db,
            world.clock,
            world.admin,
            [people.OrgUnitInput(f"U{i}", f"Unit {i}", "ORG") for i in range(4)],
        )
        await people.upsert_people(
            world.db,
            world.clock,
            world.admin,
            [
                people.PersonInput(f"c{i}@example.org", f"C {i}", None, None, f"U{i % 4}", "Nurse")
                for i in range(12)
            ],
        )
        for i in range(1, 5):
            await add_course(world, f"CERT{i}", f"Certified {i}", certification_months=12)
        await lee_books_across(world, "OB", 3)  # mail in the outbox
        large, report = await queries(browser, "/admin/compliance")
        large_api, _ = await queries(browser, "/api/v1/reports/compliance", headers=admin)
        large_outbox, outbox = await queries(browser, "/admin/outbox")

        assert "Certified 4" in report.text or "Unit 3" in report.text
        assert "Course OB 2" in outbox.text or "lee@example.org" in outbox.text

        assert_same_count(small, large, "/admin/compliance")
        assert_same_count(small_api, large_api, "GET /api/v1/reports/compliance")
        assert_same_count(small_outbox, large_outbox, "/admin/outbox")


async def test_rooms_list_calendar_and_picker_do_not_query_per_row(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser() as browser:
        world = browser.world
        await browser.sign_in("admin@example.org")
        room = await catalogue.create_room(
            world.db, world.clock, world.admin, catalogue.RoomDetails(name="Room 0", capacity=9)
        )
        here = catalogue.RoomInput("", id=room.id)
        course = await add_course(world, "RM", "Room course")
        await support.make_session(world, course_id=course, room=here)
        calendar = f"/admin/rooms/{room.id}"
        picker = f"/admin/courses/{course}/sessions/new"
        small_list, _ = await queries(browser, "/admin/rooms?show=all")
        small_calendar, _ = await queries(browser, calendar)
        small_picker, _ = await queries(browser, picker)

        for i in range(1, 7):
            await catalogue.create_room(
                world.db,
                world.clock,
                world.admin,
                catalogue.RoomDetails(name=f"Room {i}", active=i % 2 == 0),
            )
        for i in range(1, 6):
            other = await add_course(world, f"RM{i}", f"Room course {i}")
            await add_session(world, other)  # elsewhere
            await support.make_session(
                world,
                course_id=other,
                room=here,
                start=world.clock.now() + timedelta(days=20 + i),
            )
        large_list, listed = await queries(browser, "/admin/rooms?show=all")
        large_calendar, shown = await queries(browser, calendar)
        large_picker, _ = await queries(browser, picker)

        assert "Room 6" in listed.text and "Room course 5" in shown.text
        assert_same_count(small_list, large_list, "/admin/rooms")
        assert_same_count(small_calendar, large_calendar, "/admin/rooms/{room_id}")
        assert_same_count(small_picker, large_picker, "the session form's room picker")


async def test_people_list_person_page_and_unit_tree_do_not_query_per_row(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser() as browser:
        world = browser.world
        await browser.sign_in("admin@example.org")
        lee = await person_id_of(world, "lee@example.org")
        org = await people.search_people(world.db, world.admin, people.PeopleFilter())
        unit = next(u.id for u in org.units if u.code == "ORG")
        pages = ["/admin/people", f"/admin/people?unit={unit}&role=learner&q=e", "/admin/units"]
        pages.append(f"/admin/people/{lee}")
        small = [(await queries(browser, url))[0] for url in pages]

        # Deeper units, more people in them (with managers), and Lee's bookings on many courses.
        await people.upsert_org_units(
            world.db,
            world.clock,
            world.admin,
            [
                people.OrgUnitInput(f"D{i}", f"Deep {i}", f"D{i - 1}" if i else "ADULT")
                for i in range(5)
            ],
        )
        await people.upsert_people(
            world.db,
            world.clock,
            world.admin,
            [
                people.PersonInput(
                    f"d{i}@example.org", f"Deep {i}", None, "manager@example.org", f"D{i % 5}"
                )
                for i in range(20)
            ],
        )
        await lee_books_across(world, "PP", 3)
        large_pages = [(await queries(browser, url)) for url in pages]
        assert "Deep 4" in large_pages[0][1].text
        assert "Deep 4" in large_pages[2][1].text
        assert "Course PP 2" in large_pages[3][1].text
        for url, few, (many, _) in zip(pages, small, large_pages, strict=True):
            assert_same_count(few, many, url)


async def test_service_tokens_list_does_not_query_per_token(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")

    async def make(tag: str, n: int) -> None:
        for i in range(n):
            made = await people.create_service_token(
                world.db, world.clock, world.admin, name=f"{tag} {i}", scope="records"
            )
            if i % 2:
                await people.revoke_service_token(world.db, world.clock, world.admin, made.id)

    await make("Few", 2)
    small, _ = await queries(browser, "/admin/tokens")
    await make("Many", 12)
    large, answer = await queries(browser, "/admin/tokens")
    assert "Many 11" in answer.text
    assert_same_count(small, large, "/admin/tokens")


async def test_the_csv_import_previews_do_not_query_per_row(open_browser: BrowserFactory) -> None:
    """The previews read what the file names in a fixed number of statements, however long."""

    def people_csv(n: int) -> str:
        rows = "".join(f"p{i}@example.org,P {i},N{i},ADULT,manager@example.org\n" for i in range(n))
        return "email,name,personnel_number,unit_code,manager_email\n" + rows

    def units_csv(n: int) -> str:
        return "code,name,parent_code\n" + "".join(f"U{i},Unit {i},ORG\n" for i in range(n))

    async with open_browser() as browser:
        await browser.sign_in("admin@example.org")
        counts: dict[str, list[list[str]]] = {}
        for path, make in (
            ("/admin/people/import", people_csv),
            ("/admin/units/import", units_csv),
        ):
            for n in (2, 40):
                files = {"file": ("f.csv", make(n).encode(), "text/csv")}
                with counting(browser) as statements:
                    shown = await browser.client.post(
                        path, files=files, data={"_csrf_token": browser.csrf()}
                    )
                assert shown.status_code == 200 and f"To create ({n})" in shown.text
                counts.setdefault(path, []).append(statements)
        for path, (few, many) in counts.items():
            assert_same_count(few, many, path)


# --- writes -----------------------------------------------------------------------------------


async def test_a_booking_answers_from_what_it_holds_and_the_answer_matches_a_fresh_read(
    browser: Browser,
) -> None:
    """The booking's answer is built from the rows the transaction already holds rather than
    read back; it must equal `GET /bookings/{id}` in every state a new booking can take, and
    booking must not cost more statements on a busier session or for a busier learner."""
    world = browser.world
    gated = await add_course(world, "APPR", "Approved Course", approval=["manager"])
    course_id = await add_course(
        world,
        "BUSY",
        "Busy Course",
        allow_multiple_bookings=True,
        cancellation_policy={"tiers": [{"min_notice_hours": 72, "fee_percent": 50}]},
    )
    one_seat = await add_session(world, course_id, capacity=1)
    roomy = await add_session(world, course_id, capacity=30)
    pending_session = await add_session(world, gated, capacity=5)
    lee = await api_token(world, "lee@example.org")
    kim = await api_token(world, "kim@example.org")
    admin = {"Authorization": f"Bearer {world.admin_token}"}

    async def post(session_id: int, token: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
        with counting(browser) as statements:
            response = await browser.client.post(
                f"/api/v1/sessions/{session_id}/bookings", json={}, headers=token
            )
        assert response.status_code == 201, response.text
        return statements, response.json()

    first, booked = await post(one_seat, kim)
    _, waiting = await post(one_seat, lee)
    _, pending = await post(pending_session, lee)
    assert (booked["state"], waiting["state"], pending["state"]) == (
        "booked",
        "waitlisted",
        "pending_approval",
    )
    assert waiting["waitlist_position"] == 1
    for answer in (booked, waiting, pending):
        fresh = await browser.client.get(f"/api/v1/bookings/{answer['id']}", headers=admin)
        assert fresh.status_code == 200, fresh.text
        assert answer == fresh.json()

    # A busier learner on a busier session: the same number of statements.
    for email in await add_people(world, 8, "busy"):
        await book(world, roomy, email)
    await lee_books_across(world, "BZ", 3)
    # (A token of Lee's read afresh, as Kim's was: Lee's first one is remembered by now.)
    lee_again = await api_token(world, "lee@example.org")
    later, again = await post(roomy, lee_again)
    assert again["state"] == "booked"
    assert_same_count(first, later, "POST /api/v1/sessions/{id}/bookings")
    # Token, learner (locked, with their unit), session with course (its trainers, and whether
    # any webhook endpoint listens), its dates with the learner's other bookings; the seat;
    # booking, history, and the learner's and trainer's emails (one executemany).
    budget = BOOKING_STATEMENTS[world.db.engine.dialect.name]
    assert len(later) <= budget, "\n".join(later)
    assert not any("webhook_endpoints" in q for q in later if q.startswith("INSERT"))
    # A token this process has read before: checked in the booking's own read of the learner
    # (bookings/vouch.py); on SQLite, one statement fewer (PostgreSQL reads no token anyway).
    remembered, answer = await post(await add_session(world, course_id, capacity=30), lee_again)
    assert answer["state"] == "booked"
    fewer = 1 if world.db.engine.dialect.name == "sqlite" else 0
    assert len(remembered) == len(later) - fewer, "\n".join(remembered)
    assert not any(q.startswith("SELECT api_tokens.") for q in remembered), remembered
    assert any("token_stands" in q for q in remembered)

    # An endpoint listening: one statement more, the events queued for it.
    await webhooks.create_webhook(
        world.db,
        world.clock,
        world.admin,
        webhooks.WebhookInput(url="https://93.184.215.14/in", event_types=[]),
        allow_private=False,
    )
    for email in await add_people(world, 1, "hooked"):
        token = await api_token(world, email)
        heard, answer = await post(roomy, token)
    assert answer["state"] == "booked"
    assert len(heard) == budget + 1, "\n".join(heard)
    async with world.db.reading() as s:
        topics = (
            await s.scalars(select(Outbox.topic).where(Outbox.booking_id == answer["id"]))
        ).all()
    assert {"booking.created", "booking.state_changed"} <= set(topics)


async def test_a_cancellation_reads_listeners_and_trainers_with_the_session_lock(
    browser: Browser,
) -> None:
    """Cancelling a booked place promotes the next in line; the session's lock also reads its
    trainers (their emails go out) and whether any webhook endpoint listens, so with none the
    fan-out statements are skipped — and with one, both moves' events are queued."""
    world = browser.world
    course_id = await add_course(world, "CNX", "Cancelling")

    async def cancel_with_promotion(tag: str) -> tuple[list[str], int, int]:
        session_id = await add_session(world, course_id, capacity=1)
        first, second = await add_people(world, 2, tag)
        held = await book(world, session_id, first)
        waiting = await book(world, session_id, second)
        token = await api_token(world, first)
        with counting(browser) as statements:
            response = await browser.client.post(
                f"/api/v1/bookings/{held}/cancel", json={"reason": "Ill"}, headers=token
            )
        assert response.status_code == 200, response.text
        return statements, held, waiting

    quiet, held, waiting = await cancel_with_promotion("cq")
    assert len(quiet) <= CANCEL_STATEMENTS[world.db.engine.dialect.name], "\n".join(quiet)
    fan_outs = [q for q in quiet if q.startswith("INSERT INTO outbox") and "webhook" in q]
    trainers_read = [q for q in quiet if q.startswith("SELECT session_facilitators.person_id")]
    assert (fan_outs, trainers_read) == ([], [])
    async with world.db.reading() as s:
        topics = (
            await s.scalars(
                select(Outbox.topic)
                .where(Outbox.booking_id.in_([held, waiting]))
                .order_by(Outbox.id)
            )
        ).all()
    assert {"booking.cancelled", "trainer.cancelled", "booking.promoted", "trainer.booked"} <= set(
        topics
    )

    await webhooks.create_webhook(
        world.db,
        world.clock,
        world.admin,
        webhooks.WebhookInput(url="https://93.184.215.14/in", event_types=[]),
        allow_private=False,
    )
    heard, held, waiting = await cancel_with_promotion("ch")
    assert len(heard) == len(quiet) + 2, "\n".join(heard)  # one fan-out for each move
    async with world.db.reading() as s:
        events = (
            await s.scalars(
                select(Outbox.payload).where(
                    Outbox.booking_id.in_([held, waiting]), Outbox.channel == "webhook"
                )
            )
        ).all()
    moves = sorted(
        (e["data"]["from_state"], e["data"]["to_state"])
        for e in events
        if e["type"] == "booking.state_changed" and e["data"]["from_state"] is not None
    )
    assert moves == [("booked", "cancelled"), ("waitlisted", "booked")]


# --- a trainer's sessions and the header --------------------------------------------------------


async def test_my_sessions_does_not_query_per_session(db_url: str, world: support.World) -> None:
    from litestar.testing import AsyncTestClient

    from booking.app import create_app
    from booking.clock import FixedClock

    course_id = await add_course(world, "RUN", "Running Sessions", allow_multiple_bookings=True)
    t0 = world.clock.now()
    slots = itertools.count()  # past ones all end before "now", within the attendance lock

    async def run(tag: str, n: int) -> None:
        """`n` past sessions with a learner still to mark, and `n` to come with a waiting list."""
        learners = await add_people(world, 2 * n, tag)
        for i in range(n):
            for when, capacity in ((timedelta(days=2), 5), (timedelta(days=40), 1)):
                session_id = await support.make_session(
                    world,
                    course_id=course_id,
                    capacity=capacity,
                    start=t0 + when + timedelta(hours=4 * next(slots)),
                    facilitators=["trainer@example.org"],
                )
                await book(world, session_id, learners[2 * i])
                await book(world, session_id, learners[2 * i + 1])

    later = FixedClock(t0 + timedelta(days=5))
    app = create_app(support.settings_for(db_url, demo=True), clock=later, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        browser = Browser(client, world)
        await browser.sign_in("trainer@example.org")
        await run("ms", 1)
        small, _ = await queries(browser, "/me/sessions")
        await run("ml", 6)
        large, page = await queries(browser, "/me/sessions")

    assert page.text.count("2 to mark") == 7 * 2  # in "to take" and in the past list
    assert page.text.count("1 / 1") == 7
    assert_same_count(small, large, "/me/sessions")


async def test_the_header_costs_no_query_of_its_own(browser: Browser) -> None:
    """Who may see which entry is read with the sign-in, in its one statement: the
    administration page (a list of links) runs only its own counts: the account requests
    waiting, and the webhook endpoints paused after failures (issue 19)."""
    await browser.sign_in("admin@example.org")
    statements, page = await queries(browser, "/admin")
    assert "Administration" in page.text
    assert len(statements) == 3, statements
    # has reports, runs sessions, approvals waiting, owns a course (evidence, issue 18)
    assert statements[0].count("EXISTS") == 4
    assert "account_requests" in statements[1]
    assert "webhook_endpoints" in statements[2]


# --- Catalogue administration (courses) -------------------------------------------------------


async def test_the_course_list_and_course_page_do_not_query_per_row(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser() as browser:
        world = browser.world
        await browser.sign_in("admin@example.org")
        await add_session(world, world.course_id)
        await records.set_course_rules(
            world.db,
            world.clock,
            world.admin,
            world.course_id,
            completion_mode=None,
            criteria=[],
            mandatory=True,
            due_within_days=None,
        )
        page = f"/admin/courses/{world.course_id}"
        small_list, _ = await queries(browser, "/admin/courses?status=all")
        small_page, _ = await queries(browser, page)
        for i in range(1, 7):
            other = await add_course(world, f"CA{i}", f"Course admin {i}")
            await add_session(world, other)
            await add_session(world, world.course_id)
            await records.set_course_rules(
                world.db,
                world.clock,
                world.admin,
                other,
                completion_mode=None,
                criteria=[],
                mandatory=i % 2 == 0,
                due_within_days=None,
            )
        large_list, listed = await queries(browser, "/admin/courses?status=all")
        large_page, _ = await queries(browser, page)

        assert "Course admin 6" in listed.text
        assert_same_count(small_list, large_list, "/admin/courses")
        assert_same_count(small_page, large_page, "/admin/courses/{course_id}")


# --- account requests and the sessions list --------------------------------------------------


async def test_account_request_queue_does_not_query_per_request(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")
    await support.waiting_account_request(world, "q0@example.net")
    small = {
        state: (await queries(browser, f"/admin/account-requests?state={state}"))[0]
        for state in ("waiting", "approved")
    }
    for i in range(1, 7):
        request_id = await support.waiting_account_request(world, f"q{i}@example.net")
        if i % 2:
            await people.approve_account_request(
                world.db,
                world.clock,
                support.settings_for("sqlite://"),
                world.admin,
                request_id,
                sso=False,
            )
    for state in ("waiting", "approved"):
        large, page = await queries(browser, f"/admin/account-requests?state={state}")
        assert "q3@example.net" in page.text or state == "waiting"
        assert_same_count(small[state], large, f"/admin/account-requests?state={state}")


async def test_sessions_list_does_not_query_per_session(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")
    course = await add_course(world, "SL", "Listed course")
    first = await add_session(world, course, capacity=2)
    await book(world, first, "lee@example.org")
    pages = ("/admin/sessions", "/admin/sessions?q=listed&trainer=1", "/admin/sessions?when=all")
    small = {url: (await queries(browser, url))[0] for url in pages}
    learners = await add_people(world, 6, "sl")
    for i in range(6):
        other = await add_course(world, f"SL{i}", f"Listed course {i}")
        session_id = await add_session(world, other, capacity=1)
        await book(world, session_id, learners[i])
        await book(world, session_id, "lee@example.org")
    for url in pages:
        large, page = await queries(browser, url)
        assert_same_count(small[url], large, url)
    assert "Listed course 5" in page.text


# --- reports (issue 17) ------------------------------------------------------------------------

REPORT_PAGES = (
    "/admin/reports",
    "/admin/reports/fill-rate",
    "/admin/reports/waitlist-demand",
    "/admin/reports/attendance",
    "/admin/reports/cancellations",
    "/admin/reports/fees",
    "/admin/reports/trainer-utilisation",
    "/admin/reports/compliance",
    "/admin/reports/fill-rate.csv",
    "/admin/reports/attendance.xlsx",
)


async def grow_reports(world: support.World, tag: str, n: int) -> None:
    """`n` of everything the reports count: sessions to come (a place, a waiting list, a
    cancellation, someone who left the list), past sessions with attendance and a late
    cancellation, a course and a unit each, and ledger rows on a cost code each."""
    await people.upsert_org_units(
        world.db,
        world.clock,
        world.admin,
        [people.OrgUnitInput(f"U-{tag}", f"Unit {tag}", "ADULT")],
    )
    course = await add_course(world, f"REP-{tag}", f"Report {tag}")
    learners = await add_people(world, 4 * n, tag)
    for i in range(n):
        ahead = await add_session(world, course, capacity=1)
        first = await book(world, ahead, learners[4 * i])
        await book(world, ahead, learners[4 * i + 1])
        left = await book(world, ahead, learners[4 * i + 2])
        await bookings.cancel_booking(world.db, world.clock, world.admin, left, reason="Left")
        await bookings.cancel_booking(world.db, world.clock, world.admin, first, reason="Ill")
        await _past_report_session(world, course, learners[4 * i + 3], i)
    await _ledger_rows(world, tag, n)


async def _past_report_session(world: support.World, course_id: int, email: str, i: int) -> None:
    start = support.T0 - timedelta(days=5, hours=4 * next(_slots))
    then = FixedClock(start - timedelta(days=30))
    past = support.World(world.db, then, world.admin, world.admin_token, course_id)
    session_id = await support.make_session(
        past, course_id=course_id, start=start, facilitators=["trainer@example.org"]
    )
    booking_id = await book(past, session_id, email)
    await book(past, session_id, "kim@example.org") if i == 0 else None
    trainer = await support.actor(world.db, "trainer@example.org")
    after = FixedClock(start + timedelta(hours=4))
    await roster.mark_attendance(
        world.db, after, trainer, session_id, [roster.Mark(booking_id, "no_show")]
    )


async def _ledger_rows(world: support.World, tag: str, n: int) -> None:
    async def work(s: Any) -> None:
        for i in range(n):
            for kind, amount in (("charge", 5000), ("waiver", -1000)):
                await ledger.record(
                    s,
                    kind=kind,
                    amount=Money(amount, "GBP"),
                    reference=f"{tag}-{i}",
                    description="Query counts",
                    actor="system",
                    now=support.T0 - timedelta(days=1),
                    cost_code=f"CC-{tag}-{i}".upper(),
                )

    await tx.run(world.db, work)


async def test_report_pages_and_downloads_do_not_query_per_row(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")
    await grow_reports(world, "rs", 1)
    small = {url: (await queries(browser, url))[0] for url in REPORT_PAGES}
    await grow_reports(world, "rl", 5)
    for url in REPORT_PAGES:
        large, page = await queries(browser, url)
        assert_same_count(small[url], large, url)
    trainer = await person_id_of(world, "trainer@example.org")
    filtered = f"?unit=1&course=1&trainer={trainer}&from=2026-01-01&to=2027-12-31"
    for url in ("/admin/reports/waitlist-demand", "/admin/reports/attendance"):
        statements, _ = await queries(browser, url + filtered)
        assert len(statements) == len(small[url]), url


# Exemptions and extensions (issue 18): the queue, the API list, and a record with approved
# exemptions for many courses read them in one statement.


async def _exemptions(world: support.World, tag: str, n: int) -> None:
    manager = await support.actor(world.db, "manager@example.org")
    learners = await add_people(world, n, f"{tag}ex", manager="manager@example.org")
    codes = [f"{tag.upper()}-EX{i}" for i in range(n)]
    for code in codes:
        course_id = await add_course(world, code, f"Exempt course {code}")
        await records.set_course_rules(
            world.db,
            world.clock,
            world.admin,
            course_id,
            completion_mode=None,
            criteria=[],
            mandatory=True,
            due_within_days=30,
        )
    for i, email in enumerate(learners):
        await records.request_exemptions(
            world.db,
            world.clock,
            manager,
            records.ExemptionInput(email, [codes[i]], "exemption", "Query counts"),
        )
    # Lee: an approved exemption for each new course.
    made = await records.request_exemptions(
        world.db,
        world.clock,
        manager,
        records.ExemptionInput("lee@example.org", codes, "exemption", "Query counts"),
    )
    for view in made:
        await records.decide_exemption(
            world.db, world.clock, world.admin, view.id, decision="approve"
        )


async def test_exemption_queue_and_record_do_not_query_per_request(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")
    lee = await person_id_of(world, "lee@example.org")
    token = {"Authorization": f"Bearer {world.admin_token}"}
    urls = ["/exemptions", f"/people/{lee}/record"]
    await _exemptions(world, "xs", 1)
    small = {url: (await queries(browser, url))[0] for url in urls}
    small_api, _ = await queries(browser, "/api/v1/exemptions", headers=token)
    await _exemptions(world, "xl", 5)
    for url in urls:
        large, page = await queries(browser, url)
        assert_same_count(small[url], large, url)
    assert "Exempt (no end date)" in page.text
    large_api, answer = await queries(browser, "/api/v1/exemptions", headers=token)
    assert_same_count(small_api, large_api, "/api/v1/exemptions")
    assert len(answer.json()["items"]) == 2 * (1 + 5)


# --- certificates and evidence (issue 18) -------------------------------------------------------


async def _evidence_and_certificates(world: support.World, tag: str, n: int) -> None:
    """`n` pieces of evidence from Lee for SAFE-1, and `n` certified completions of a course
    that awards certificates."""
    lee = await support.actor(world.db, "lee@example.org")
    for i in range(n):
        upload = records.EvidenceUpload(
            "SAFE-1", support.T0 - timedelta(days=i + 1), f"{tag} {i}", "a.pdf", b"%PDF-1.4\n"
        )
        await records.send_evidence(world.db, world.clock, lee, upload)
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code=f"CQ-{tag}", title=f"Certified {tag}")
    )
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        course.id,
        completion_mode=None,
        criteria=[],
        mandatory=False,
        due_within_days=None,
        certificate=True,
    )
    done = [
        records.CompletionInput(
            f"CQ-{tag}", support.T0 - timedelta(days=30 * (i + 1)), learner_email="lee@example.org"
        )
        for i in range(n)
    ]
    await records.record_completions(world.db, world.clock, world.admin, done)


async def test_the_evidence_queue_and_the_record_with_certificates_do_not_query_per_row(
    browser: Browser,
) -> None:
    world = browser.world
    await _evidence_and_certificates(world, "s", 1)
    await browser.sign_in("admin@example.org")
    small_queue, _ = await queries(browser, "/evidence")
    await browser.sign_in("lee@example.org")
    small_record, _ = await queries(browser, "/me/record")
    await _evidence_and_certificates(world, "l", 6)
    large_record, page = await queries(browser, "/me/record")
    assert page.text.count("Download certificate") == 7
    assert_same_count(small_record, large_record, "/me/record")
    await browser.sign_in("admin@example.org")
    large_queue, page = await queries(browser, "/evidence")
    assert page.text.count("Download a.pdf") == 7
    assert_same_count(small_queue, large_queue, "/evidence")


# Learning programs (issue 18): the assignment sweep and the program pages.


# --- requirements (issue 18) -------------------------------------------------------------------


@contextlib.contextmanager
def counting_db(world: support.World) -> Iterator[list[str]]:
    """Statements the test's own engine executes inside the block (a worker sweep)."""

    """Statements the world's engine executes inside the block."""
    engine = world.db.engine.sync_engine
    statements: list[str] = []

    def on_execute(*args: Any) -> None:
        statement: str = args[2]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


async def _programs(world: support.World, tag: str, n: int, unit: str) -> None:
    for i in range(n):
        await records.create_program(
            world.db,
            world.clock,
            world.admin,
            records.ProgramInput(
                code=f"{tag}-{i}",
                title=f"Program {tag} {i}",
                audience={"org_units": [unit]},
                due_within_days=30,
                sets=[
                    records.ProgramSetInput("Core", "all", ["SAFE-1"]),
                    records.ProgramSetInput("Extra", "optional", ["SAFE-1"]),
                ],
            ),
        )


async def test_the_program_sweep_is_flat_in_statements(browser: Browser) -> None:
    world = browser.world
    await _programs(world, "ps", 1, "CHILD")
    await add_people(world, 3, "ps")
    with counting_db(world) as small:
        assert await records.sync_program_assignments(world.db, world.clock) > 0
    await _programs(world, "pl", 1, "ADULT")
    await add_people(world, 40, "pl")
    with counting_db(world) as large:
        assert await records.sync_program_assignments(world.db, world.clock) > 40
    assert_same_count(small, large, "program sweep")


async def test_program_pages_do_not_query_per_program(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")
    await _programs(world, "qs", 1, "ORG")
    small = {url: (await queries(browser, url))[0] for url in ("/admin/programs", "/me/programs")}
    await _programs(world, "ql", 6, "ORG")
    for url, before in small.items():
        large, _ = await queries(browser, url)
        assert_same_count(before, large, url)


async def _joiners(world: support.World, prefix: str, n: int, fire: str) -> None:
    """`n` people join (one of them starting next month), each with a certification of
    `fire` whose renewal window is open."""
    emails = await support.make_learners(world, n, prefix=prefix)
    starts = (world.clock.now() + timedelta(days=30)).date().isoformat()
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput(emails[0], "Later Starter", None, None, "ADULT", start_date=starts)],
    )
    lms = await support.actor_for_service(world.db)
    done = world.clock.now() - timedelta(days=340)
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput(fire, done, learner_email=e) for e in emails],
    )


async def test_requirements_sweep_and_reminders_do_not_query_per_person(
    world: support.World,
) -> None:
    """The sweep (open and close rows, later starters' due dates, renewals) and the reminders
    issue the same statements for 3 new people as for 30."""
    await add_course(
        world, "FIRE", "Fire safety", certification_months=12, certification_window_days=60
    )
    for course_id, audience in ((world.course_id, None), (None, {"org_units": ["ADULT"]})):
        cid = course_id or await add_course(world, "GDPR", "Data protection", audience=audience)
        await records.set_course_rules(
            world.db,
            world.clock,
            world.admin,
            cid,
            completion_mode=None,
            criteria=[],
            mandatory=True,
            due_within_days=30,
        )
    await records.sweep_requirements(world.db, world.clock)
    await records.queue_requirement_reminders(world.db, world.clock)
    counts = []
    for prefix, n in (("small", 3), ("large", 30)):
        world.clock.advance(timedelta(hours=1))
        await _joiners(world, prefix, n, "FIRE")
        with counting_db(world) as statements:
            changed = await records.sweep_requirements(world.db, world.clock)
            queued = await records.queue_requirement_reminders(world.db, world.clock)
        assert changed == 3 * n and queued == 3 * n, (changed, queued)
        counts.append(statements)
    # A few statements per course (more than a page's ceiling), the same for both sizes.
    small, large = counts
    assert len(small) == len(large), collections.Counter(map(shape, large)) - collections.Counter(
        map(shape, small)
    )


# --- compliance filters (issue 18) ------------------------------------------------------------


async def test_filtered_compliance_page_does_not_query_per_row(
    open_browser: BrowserFactory,
) -> None:
    """The compliance page narrowed to a unit with its sub-units, a staff type and an as-of
    date issues the same statements for a few people and units as for many."""
    async with open_browser() as browser:
        world = browser.world
        await browser.sign_in("admin@example.org")
        admin = {"Authorization": f"Bearer {world.admin_token}"}
        await add_course(world, "CERT0", "Fire Safety", certification_months=12)
        params = "unit=ORG&sub_units=true&staff_type=payroll&as_of=" + (
            world.clock.now().date().isoformat()
        )
        small, _ = await queries(browser, f"/admin/compliance?{params}")
        small_api, _ = await queries(browser, f"/api/v1/reports/compliance?{params}", headers=admin)

        await people.upsert_org_units(
            world.db,
            world.clock,
            world.admin,
            [people.OrgUnitInput(f"F{i}", f"Filter unit {i}", "ADULT") for i in range(4)],
        )
        await people.upsert_people(
            world.db,
            world.clock,
            world.admin,
            [
                people.PersonInput(f"f{i}@example.org", f"F {i}", None, None, f"F{i % 4}", "Nurse")
                for i in range(12)
            ],
        )
        for i in range(1, 5):
            await add_course(world, f"FCERT{i}", f"Filter certified {i}", certification_months=12)
        large, page = await queries(browser, f"/admin/compliance?{params}")
        large_api, _ = await queries(browser, f"/api/v1/reports/compliance?{params}", headers=admin)

        assert page.status_code == 200 and "Filter unit 3" in page.text
        assert_same_count(small, large, "/admin/compliance (filtered)")
        assert_same_count(small_api, large_api, "GET /api/v1/reports/compliance (filtered)")


# --- programs' courses chased like mandatory ones (issue 18) -----------------------------------


async def test_program_requirement_rows_and_reminders_do_not_query_per_person(
    world: support.World,
) -> None:
    """The sweep's program rows (one program of two sets, every course still required) and
    their day-1 reminders issue the same statements for 3 new people as for 30."""
    await add_course(world, "DP-A", "Data protection")
    await add_course(world, "DP-B", "Data protection (short)")
    await records.create_program(
        world.db,
        world.clock,
        world.admin,
        records.ProgramInput(
            code="PRQ",
            title="Program requirements",
            audience={"org_units": ["ADULT"]},
            due_within_days=30,
            sets=[
                records.ProgramSetInput("Core", "all", ["SAFE-1"]),
                records.ProgramSetInput("Data", "any", ["DP-A", "DP-B"]),
            ],
        ),
    )
    await records.sync_program_assignments(world.db, world.clock)
    await records.sweep_requirements(world.db, world.clock)
    await records.queue_requirement_reminders(world.db, world.clock)
    counts = []
    for prefix, n in (("prsmall", 3), ("prlarge", 30)):
        world.clock.advance(timedelta(hours=1))
        await add_people(world, n, prefix)
        await records.sync_program_assignments(world.db, world.clock)
        with counting_db(world) as statements:
            changed = await records.sweep_requirements(world.db, world.clock)
            queued = await records.queue_requirement_reminders(world.db, world.clock)
        assert changed == 3 * n and queued == 3 * n, (changed, queued)
        counts.append(statements)
    small, large = counts
    assert len(small) == len(large), collections.Counter(map(shape, large)) - collections.Counter(
        map(shape, small)
    )


# --- outgoing webhooks (issue 19) ---------------------------------------------------------------


async def test_webhooks_list_and_delivery_log_do_not_query_per_row(browser: Browser) -> None:
    """The endpoints list (page and API) and an endpoint's delivery log, for few and many."""
    world = browser.world
    await browser.sign_in("admin@example.org")
    admin = {"Authorization": f"Bearer {world.admin_token}"}

    async def add(n: int) -> int:
        made = 0
        for i in range(n):
            made = (
                await webhooks.create_webhook(
                    world.db,
                    world.clock,
                    world.admin,
                    webhooks.WebhookInput(url=f"https://93.184.215.14/q{i}", event_types=[]),
                    allow_private=False,
                )
            ).id
        return made

    last = await add(2)
    course_id = await add_course(world, "HOOK", "Hooked", allow_multiple_bookings=True)
    session_id = await add_session(world, course_id, capacity=30)
    await book(world, session_id, "lee@example.org")
    counts: dict[str, list[list[str]]] = {}
    for url, kw in (
        ("/admin/webhooks", {}),
        ("/api/v1/webhooks", {"headers": admin}),
        (f"/admin/webhooks/{last}", {}),
        (f"/api/v1/webhooks/{last}/deliveries", {"headers": admin}),
    ):
        counts[url] = [(await queries(browser, url, **kw))[0]]
    await add(10)
    for email in await add_people(world, 6, "hooked"):
        await book(world, session_id, email)
    for url, kw in (
        ("/admin/webhooks", {}),
        ("/api/v1/webhooks", {"headers": admin}),
        (f"/admin/webhooks/{last}", {}),
        (f"/api/v1/webhooks/{last}/deliveries", {"headers": admin}),
    ):
        statements, answer = await queries(browser, url, **kw)
        counts[url].append(statements)
        assert "q9" in answer.text or "deliveries" in url or str(last) in url
    for url, (few, many) in counts.items():
        assert_same_count(few, many, url)
