"""Administrators' session pages: schedule, change, copy and cancel sessions, and waiting-list
demand on the course page. Forms are posted as a browser without JavaScript would."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import RoomInput
from booking.models import Outbox
from tests import support
from tests.web.conftest import Browser, person_id_of

# support.T0 is Monday 1 March 2027, 09:00 UTC; London is on GMT until 28 March.
MONDAY = support.T0 + timedelta(days=14)  # 15 March 2027, 09:00 GMT


class _Fields(HTMLParser):
    """The fields one form would send, as a browser sends them (checked boxes only)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name and name != "_csrf_token":
            kind = a.get("type", "text")
            if kind == "submit":
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value", "")
        elif tag == "select":
            self.select = name
        elif (
            tag == "option" and self.select and ("selected" in a or self.select not in self.fields)
        ):
            self.fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea:
            self.fields[self.textarea] += data


def form_fields(html: str, action: str) -> dict[str, str]:
    parser = _Fields(action)
    parser.feed(html)
    assert parser.fields, f"no form posting to {action}"
    return parser.fields


async def _as_admin(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")


async def _sessions(world: support.World) -> list[catalogue.SessionView]:
    course = await catalogue.get_course(world.db, world.clock, world.admin, world.course_id)
    return course.sessions


async def _book(world: support.World, session_id: int, *emails: str) -> None:
    for email in emails:
        who = await support.actor(world.db, email)
        await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))


def _new_url(world: support.World) -> str:
    return f"/admin/courses/{world.course_id}/sessions/new"


async def test_admin_schedules_a_session_and_sees_it_on_the_course_page(
    browser: Browser,
) -> None:
    world = browser.world
    await _as_admin(browser)
    course = await browser.get(f"/courses/{world.course_id}")
    assert "Manage sessions" in course.text
    assert f'href="{_new_url(world)}"' in course.text
    assert "See waiting-list demand" in course.text

    form = await browser.get(_new_url(world))
    assert form.status_code == 200
    fields = form_fields(form.text, _new_url(world))
    assert fields["tz_0"] == "Europe/London" and fields["date_rows"] == "3"
    fields.update(
        date_0="2027-03-16",
        start_0="09:30",
        end_0="12:30",
        date_2="2027-03-17",
        start_2="09:30",
        end_2="12:30",
        capacity="12",
        room_name="Room 1",
        room_address="1 High Street",
        facilitators="Trainer@example.org",
        min_bookings="4",
        auto_cancel="yes",
    )
    created = await browser.post(_new_url(world), fields)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/courses/{world.course_id}"

    after = await browser.get(f"/courses/{world.course_id}")
    assert "Session scheduled: Tue 16 Mar 2027, 09:30–12:30 GMT." in after.text
    assert "Wed 17 Mar 2027, 09:30–12:30 GMT" in after.text
    assert "Room 1" in after.text
    [session] = await _sessions(world)
    assert (session.capacity, session.min_bookings) == (12, 4)
    assert session.facilitators == ["trainer@example.org"]
    assert session.room is not None and session.room.address == "1 High Street"
    assert [d.start.hour for d in session.dates] == [9, 9]
    assert f'href="/sessions/{session.id}/edit"' in after.text


async def test_bad_input_shows_the_form_again_with_each_field_explained(
    browser: Browser,
) -> None:
    world = browser.world
    await _as_admin(browser)
    form = form_fields((await browser.get(_new_url(world))).text, _new_url(world))
    form.update(date_0="2027-03-16", start_0="9.30", capacity="lots", room_name="Room 1")
    refused = await browser.post(_new_url(world), form)
    assert refused.status_code == 422
    assert "Enter the start time of date 1, such as 09:30." in refused.text
    assert 'aria-describedby="start_0-error"' in refused.text
    assert 'aria-describedby="capacity-hint capacity-error"' in refused.text
    # As it was sent.
    assert 'value="lots"' in refused.text and 'value="Room 1"' in refused.text
    assert await _sessions(world) == []

    # Without JavaScript, "Add a date row" brings the form back as sent with another row.
    more = await browser.post(_new_url(world), {**form, "add_date": "yes"})
    assert more.status_code == 200
    assert 'name="date_3"' in more.text and 'value="2027-03-16"' in more.text
    assert await _sessions(world) == []


async def test_room_clash_names_the_other_session_until_overridden(browser: Browser) -> None:
    world = browser.world
    other = await support.make_session(world, start=MONDAY, room=RoomInput("Room 1"))
    await _as_admin(browser)
    form = form_fields((await browser.get(_new_url(world))).text, _new_url(world))
    form.update(
        date_0="2027-03-15", start_0="10:00", end_0="11:00", capacity="8", room_name="Room 1"
    )
    clash = await browser.post(_new_url(world), form)
    assert clash.status_code == 409
    assert f"Room 1 is already booked for Safeguarding Adults (session {other})" in clash.text
    assert 'aria-describedby="override_reason-hint override_reason-error"' in clash.text
    assert 'value="2027-03-15"' in clash.text and 'value="8"' in clash.text
    assert [s.id for s in await _sessions(world)] == [other]

    ok = await browser.post(_new_url(world), {**form, "override_reason": "Room split in two"})
    assert ok.status_code == 303, ok.text
    assert len(await _sessions(world)) == 2


async def test_edit_moves_a_date_in_place_and_changes_capacity(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, start=MONDAY, capacity=10)
    before = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    date_id = before.dates[0].id
    await _book(world, session_id, "lee@example.org", "kim@example.org")
    url = f"/sessions/{session_id}/edit"
    await _as_admin(browser)
    fields = form_fields((await browser.get(url)).text, url)
    assert fields["date_id_0"] == str(date_id)
    assert (fields["date_0"], fields["start_0"], fields["end_0"]) == (
        "2027-03-15",
        "09:00",
        "12:00",
    )
    assert fields["capacity"] == "10"

    # Below the places held: the service's message, on the field, and nothing changed.
    low = await browser.post(url, {**fields, "capacity": "1", "start_0": "10:00"})
    assert low.status_code == 409
    assert "Capacity cannot go below the 2 places already held" in low.text
    assert 'aria-describedby="capacity-hint capacity-error"' in low.text
    same = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert (same.capacity, same.dates[0].start.hour) == (10, 9)

    moved = await browser.post(
        url, {**fields, "capacity": "20", "start_0": "10:00", "end_0": "13:00"}
    )
    assert moved.status_code == 303, moved.text
    after = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert after.capacity == 20
    assert [d.id for d in after.dates] == [date_id]
    assert (after.dates[0].start.hour, after.dates[0].end.hour) == (10, 13)
    page = await browser.get(f"/courses/{world.course_id}")
    assert "Saved the changes to the session of Mon 15 Mar 2027, 10:00–13:00 GMT." in page.text
    # The learner already booked is sent the changed session.
    async with world.db.reading() as s:
        topics = (
            await s.scalars(select(Outbox.topic).where(Outbox.session_id == session_id))
        ).all()
    assert "session.changed" in topics


async def test_edit_adds_and_removes_dates(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, start=MONDAY)
    url = f"/sessions/{session_id}/edit"
    await _as_admin(browser)
    fields = form_fields((await browser.get(url)).text, url)
    added = await browser.post(
        url, {**fields, "date_1": "2027-03-16", "start_1": "09:00", "end_1": "12:00"}
    )
    assert added.status_code == 303, added.text
    two = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert [d.start.day for d in two.dates] == [15, 16]

    fields = form_fields((await browser.get(url)).text, url)
    assert fields["date_id_1"] == str(two.dates[1].id)
    removed = await browser.post(url, {**fields, "remove_0": "yes"})
    assert removed.status_code == 303, removed.text
    one = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert [d.id for d in one.dates] == [two.dates[1].id]

    fields = form_fields((await browser.get(url)).text, url)
    none_left = await browser.post(url, {**fields, "remove_0": "yes"})
    assert none_left.status_code == 422
    assert "at least one date" in none_left.text
    assert [d.id for d in (await _sessions(world))[0].dates] == [two.dates[1].id]


async def test_copy_to_new_dates(browser: Browser) -> None:
    world = browser.world
    source = await support.make_session(
        world,
        start=MONDAY,
        capacity=7,
        room=RoomInput("Room 2"),
        facilitators=["trainer@example.org"],
    )
    url = f"/sessions/{source}/copy"
    await _as_admin(browser)
    page = await browser.get(url)
    assert page.status_code == 200 and "Mon 15 Mar 2027, 09:00–12:00 GMT" in page.text
    fields = form_fields(page.text, url)
    # The same time: the room and the trainer clash with the source.
    clash = await browser.post(
        url, {**fields, "date_0": "2027-03-15", "start_0": "09:00", "end_0": "12:00"}
    )
    assert clash.status_code == 409 and f"(session {source})" in clash.text

    copied = await browser.post(
        url, {**fields, "date_0": "2027-04-20", "start_0": "09:00", "end_0": "12:00"}
    )
    assert copied.status_code == 303, copied.text
    sessions = await _sessions(world)
    assert len(sessions) == 2
    copy = next(s for s in sessions if s.id != source)
    assert (copy.capacity, copy.facilitators) == (7, ["trainer@example.org"])
    assert copy.room is not None and copy.room.name == "Room 2"
    # 20 April is in summer time.
    assert copy.dates[0].start.strftime("%H:%M %Z") == "09:00 BST"


async def test_cancel_needs_a_reason_and_tells_everyone(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, start=MONDAY)
    await _book(world, session_id, "lee@example.org")
    url = f"/sessions/{session_id}/cancel-session"
    await _as_admin(browser)
    page = await browser.get(url)
    assert page.status_code == 200
    assert "Everyone booked and everyone waiting will be told" in page.text

    refused = await browser.post(url, {"reason": "  "})
    assert refused.status_code == 422
    assert "Give a reason for cancelling the session." in refused.text
    assert 'aria-describedby="reason-hint reason-error"' in refused.text
    still = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert still.status == "open" and still.booked == 1

    done = await browser.post(url, {"reason": "Trainer unwell"})
    assert done.status_code == 303
    after = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    assert (after.status, after.cancel_reason, after.booked) == ("cancelled", "Trainer unwell", 0)
    lee_id = await person_id_of(world, "lee@example.org")
    async with world.db.reading() as s:
        told = (
            await s.scalars(
                select(Outbox.recipient_id).where(
                    Outbox.topic == "session.cancelled", Outbox.session_id == session_id
                )
            )
        ).all()
    assert told == [lee_id]
    again = await browser.post(url, {"reason": "Twice"})
    assert again.status_code == 409 and "already cancelled" in again.text


async def test_a_learner_gets_403_on_every_admin_page(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, start=MONDAY)
    await browser.sign_in("lee@example.org")
    course = await browser.get(f"/courses/{world.course_id}")
    assert course.status_code == 200 and "Manage sessions" not in course.text
    pages = [
        _new_url(world),
        f"/sessions/{session_id}/edit",
        f"/sessions/{session_id}/copy",
        f"/sessions/{session_id}/cancel-session",
    ]
    for url in [*pages, f"/admin/courses/{world.course_id}/demand"]:
        response = await browser.get(url)
        assert response.status_code == 403, url
        assert "Not allowed" in response.text
    form = {
        "date_rows": "1",
        "date_0": "2027-04-01",
        "start_0": "09:00",
        "end_0": "10:00",
        "tz_0": "Europe/London",
        "capacity": "5",
        "reason": "No",
    }
    for url in pages:
        assert (await browser.post(url, form)).status_code == 403, url
    assert [s.status for s in await _sessions(world)] == ["open"]
    assert len(await _sessions(world)) == 1


async def test_demand_and_inviting_the_waiting_learners(browser: Browser) -> None:
    world = browser.world
    full = await support.make_session(world, start=MONDAY, capacity=1)
    await _book(world, full, "lee@example.org", "kim@example.org", "manager@example.org")
    await _as_admin(browser)
    url = f"/admin/courses/{world.course_id}/demand"
    panel = await browser.get(url, htmx=True)
    assert panel.status_code == 200 and "<html" not in panel.text
    assert "2 learners are waiting" in panel.text
    assert f'href="{_new_url(world)}?invite=1"' in panel.text
    assert "Open a new session for them" in panel.text
    no_js = await browser.get(url)
    assert "<html" in no_js.text and "2 learners are waiting" in no_js.text
    course = await browser.get(f"/courses/{world.course_id}")
    assert f'hx-get="{url}"' in course.text and f'href="{url}"' in course.text

    form_page = await browser.get(f"{_new_url(world)}?invite=1")
    assert "2 learners are waiting for a place on other dates" in form_page.text
    fields = form_fields(form_page.text, _new_url(world))
    assert fields["invite"] == "yes"
    fields.update(date_0="2027-03-22", start_0="09:00", end_0="12:00", capacity="10")
    created = await browser.post(_new_url(world), fields)
    assert created.status_code == 303, created.text
    after = await browser.get(created.headers["location"])
    assert "2 learners waiting for another date were invited to book it." in after.text

    new_id = next(s.id for s in await _sessions(world) if s.id != full)
    async with world.db.reading() as s:
        invited = (
            await s.scalars(
                select(Outbox.recipient_id).where(
                    Outbox.topic == "course.new_session", Outbox.session_id == new_id
                )
            )
        ).all()
    waiting = {
        await person_id_of(world, "kim@example.org"),
        await person_id_of(world, "manager@example.org"),
    }
    # One invitation per waiting learner.
    assert len(invited) == 2 and set(invited) == waiting


async def test_invitations_need_an_open_session(browser: Browser) -> None:
    world = browser.world
    await _as_admin(browser)
    fields = form_fields((await browser.get(f"{_new_url(world)}?invite=1")).text, _new_url(world))
    fields.update(
        date_0="2027-03-22", start_0="09:00", end_0="12:00", capacity="10", status="draft"
    )
    refused = await browser.post(_new_url(world), fields)
    assert refused.status_code == 422
    assert "Learners can only be invited to an open session" in refused.text
    assert await _sessions(world) == []
