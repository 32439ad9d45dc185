"""Booking emails over real SMTP, with invitations that calendars add, update and remove.

Each message is parsed with the standard library; each invitation with `icalendar` and again with
`vobject` (see mail.read_invite), which must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from booking import bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import DateInput, SessionChanges, SessionInput
from booking.clock import FixedClock
from booking.config import Settings
from booking.kernel.views import SessionDateView
from booking.mailer import SmtpMailer
from booking.models import Outbox
from tests import support
from tests.notifications.conftest import Inbox
from tests.notifications.mail import (
    calendar_part,
    content_types,
    deliver,
    ics_attachment,
    invite_of,
)

LEE = "lee@example.org"
ORGANISER = "mailto:training@example.org"


async def _book(world: support.World, session_id: int, email: str = LEE) -> int:
    learner = await support.actor(world.db, email)
    outcome = await bookings.book_place(world.db, world.clock, learner, BookingRequest(session_id))
    return outcome.booking.id


async def _dates(world: support.World, session_id: int) -> list[SessionDateView]:
    view = await catalogue.get_session(world.db, world.clock, world.admin, session_id)
    return list(view.dates)


async def test_booking_sends_one_email_with_a_request_invitation(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    start = datetime(2027, 3, 16, 9, 30)  # naive: wall-clock time in London (GMT in March)
    session_id = await support.make_session(world, start=start.replace(tzinfo=UTC))
    booking_id = await _book(world, session_id)

    report = await deliver(world.db, world.clock, settings, mailer)

    assert report.sent == 1
    [received] = inbox.all()
    assert received.rcpt_tos == [LEE]
    msg = received.parsed()
    assert msg["Subject"] == "You're booked: Safeguarding Adults"
    assert msg["To"].addresses[0].addr_spec == LEE
    assert msg["To"].addresses[0].display_name == "Lee Learner"
    assert msg["From"].addresses[0].addr_spec == "training@example.org"
    assert msg["Message-ID"].startswith("<outbox-") and msg["Message-ID"].endswith("@example.org>")
    assert msg.get_content_type() == "multipart/mixed"
    alternative = msg.get_payload(0)
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar = calendar_part(msg)
    assert calendar is not None and calendar.get_param("method") == "REQUEST"
    attachment = ics_attachment(msg)
    assert attachment is not None and attachment.get_content_disposition() == "attachment"

    text = msg.get_body(("plain",)).get_content()
    assert "Hello Lee Learner" in text
    assert "Tuesday 16 March 2027, 9:30 AM – 12:30 PM Europe/London" in text
    assert f"https://training.example.org/bookings/{booking_id}" in text
    html = msg.get_body(("html",)).get_content()
    assert "You&#39;re booked: Safeguarding Adults" in html
    assert f'href="https://training.example.org/bookings/{booking_id}"' in html

    invite = invite_of(msg)
    assert invite.method == "REQUEST"
    [event] = invite.events
    [date] = await _dates(world, session_id)
    assert invite.uids() == [f"booking-{booking_id}-date-{date.id}@training.example.org"]
    assert str(event["ORGANIZER"]) == ORGANISER
    assert [str(a) for a in event.attendees] == [f"mailto:{LEE}"]
    assert event["SUMMARY"] == "Safeguarding Adults"
    assert "DTSTAMP" in event
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.start == datetime(2027, 3, 16, 9, 30, tzinfo=event.start.tzinfo)
    assert event.start.utcoffset() == timedelta(0)
    assert event.end - event.start == timedelta(hours=3)
    assert [str(tz["TZID"]) for tz in invite.calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert b"DTSTART;TZID=Europe/London:20270316T093000" in invite.raw
    # vobject reads the same instant, in the same zone.
    v_event = invite.vobj.vevent
    assert v_event.dtstart.value.astimezone(UTC) == datetime(2027, 3, 16, 9, 30, tzinfo=UTC)
    assert v_event.organizer.value == ORGANISER
    assert v_event.attendee.value == f"mailto:{LEE}"


async def test_patch_of_times_resends_request_with_same_uids_and_higher_sequence(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    booking_id = await _book(world, session_id)
    await deliver(world.db, world.clock, settings, mailer)
    first = invite_of(inbox.to(LEE)[0])
    inbox.clear()

    [date] = await _dates(world, session_id)
    new_start = datetime(2027, 3, 17, 13, 0)  # wall-clock, London
    await catalogue.update_session(
        world.db,
        world.clock,
        world.admin,
        session_id,
        SessionChanges(
            dates=[DateInput(new_start, new_start + timedelta(hours=2), "Europe/London", date.id)]
        ),
    )
    await deliver(world.db, world.clock, settings, mailer)

    [changed] = inbox.to(LEE)
    assert changed["Subject"] == "Changed: Safeguarding Adults"
    update = invite_of(changed)
    assert update.method == "REQUEST"
    assert (
        update.uids()
        == first.uids()
        == [f"booking-{booking_id}-date-{date.id}@training.example.org"]
    )
    assert update.sequences()[0] > first.sequences()[0]
    assert b"DTSTART;TZID=Europe/London:20270317T130000" in update.raw
    assert b"DTEND;TZID=Europe/London:20270317T150000" in update.raw
    assert "Wednesday 17 March 2027, 1:00 PM – 3:00 PM Europe/London" in (
        changed.get_body(("plain",)).get_content()
    )


async def test_change_that_moves_nothing_sends_nothing(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    await _book(world, session_id)
    await deliver(world.db, world.clock, settings, mailer)
    inbox.clear()
    [date] = await _dates(world, session_id)
    await catalogue.update_session(
        world.db,
        world.clock,
        world.admin,
        session_id,
        SessionChanges(dates=[DateInput(date.start, date.end, date.timezone, date.id)]),
    )
    report = await deliver(world.db, world.clock, settings, mailer)
    assert report.claimed == 0
    assert inbox.all() == []


async def test_learner_cancellation_sends_cancel_with_same_uids_and_higher_sequence(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world)
    booking_id = await _book(world, session_id)
    await deliver(world.db, world.clock, settings, mailer)
    booked = invite_of(inbox.to(LEE)[0])
    inbox.clear()

    lee = await support.actor(world.db, LEE)
    await bookings.cancel_booking(world.db, world.clock, lee, booking_id, reason="Clash")
    await deliver(world.db, world.clock, settings, mailer)

    [msg] = inbox.to(LEE)
    assert msg["Subject"] == "Cancelled: Safeguarding Adults"
    part = calendar_part(msg)
    assert part is not None and part.get_param("method") == "CANCEL"
    cancel = invite_of(msg)
    assert cancel.method == "CANCEL"
    assert cancel.uids() == booked.uids()
    assert cancel.sequences()[0] > booked.sequences()[0]
    assert [str(e["STATUS"]) for e in cancel.events] == ["CANCELLED"]
    assert cancel.vobj.vevent.status.value == "CANCELLED"


async def test_organiser_cancellation_sends_cancel_and_waitlisted_get_no_calendar(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(world, capacity=1)
    await _book(world, session_id, LEE)
    await _book(world, session_id, "kim@example.org")  # waitlisted
    await deliver(world.db, world.clock, settings, mailer)
    booked = invite_of(inbox.to(LEE)[0])
    inbox.clear()

    await catalogue.cancel_session(
        world.db, world.clock, world.admin, session_id, reason="Trainer unwell"
    )
    await deliver(world.db, world.clock, settings, mailer)

    [lee_msg] = inbox.to(LEE)
    assert lee_msg["Subject"] == "Session cancelled: Safeguarding Adults"
    assert "Trainer unwell" in lee_msg.get_body(("plain",)).get_content()
    cancel = invite_of(lee_msg)
    assert cancel.method == "CANCEL"
    assert cancel.uids() == booked.uids()
    assert cancel.sequences()[0] > booked.sequences()[0]
    [kim_msg] = inbox.to("kim@example.org")
    assert kim_msg["Subject"] == "Session cancelled: Safeguarding Adults"
    assert calendar_part(kim_msg) is None and ics_attachment(kim_msg) is None


async def _two_date_session(world: support.World, first: datetime, second: datetime) -> int:
    view = await catalogue.create_session(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        SessionInput(
            dates=[
                DateInput(first, first + timedelta(hours=3), "Europe/London"),
                DateInput(second, second + timedelta(hours=3), "Europe/London"),
            ],
            capacity=5,
        ),
    )
    return view.id


async def test_two_date_session_has_two_events_and_removing_one_cancels_only_it(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await _two_date_session(
        world, datetime(2027, 3, 16, 9, 30), datetime(2027, 3, 23, 9, 30)
    )
    booking_id = await _book(world, session_id)
    await deliver(world.db, world.clock, settings, mailer)
    booked = invite_of(inbox.to(LEE)[0])
    first, second = await _dates(world, session_id)
    uid_first = f"booking-{booking_id}-date-{first.id}@training.example.org"
    uid_second = f"booking-{booking_id}-date-{second.id}@training.example.org"
    assert booked.method == "REQUEST"
    assert sorted(booked.uids()) == sorted([uid_first, uid_second])
    assert len(set(booked.sequences())) == 1
    inbox.clear()

    # Remove the second date, keep the first as it is.
    await catalogue.update_session(
        world.db,
        world.clock,
        world.admin,
        session_id,
        SessionChanges(dates=[DateInput(first.start, first.end, first.timezone, first.id)]),
    )
    await deliver(world.db, world.clock, settings, mailer)

    messages = inbox.to(LEE)
    assert [m["Subject"] for m in messages] == [
        "A date has been removed: Safeguarding Adults",
        "Changed: Safeguarding Adults",
    ]
    removed, changed = (invite_of(m) for m in messages)
    assert removed.method == "CANCEL"
    assert removed.uids() == [uid_second]
    assert removed.sequences()[0] > booked.sequences()[0]
    assert "Tuesday 23 March 2027" in messages[0].get_body(("plain",)).get_content()
    assert changed.method == "REQUEST"
    assert changed.uids() == [uid_first]
    assert changed.sequences()[0] > booked.sequences()[0]
    async with world.db.reading() as s:
        topics = list(await s.scalars(select(Outbox.topic).where(Outbox.topic.like("session.%"))))
    assert sorted(topics) == ["session.changed", "session.date_removed"]


async def test_session_across_october_clock_change_keeps_wall_clock_times(
    world: support.World, clock: FixedClock, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    clock.set(datetime(2027, 10, 4, 9, 0, tzinfo=UTC))
    # Friday before the clocks go back (Sunday 31 October 2027), and the Monday after.
    session_id = await _two_date_session(
        world, datetime(2027, 10, 29, 9, 30), datetime(2027, 11, 1, 9, 30)
    )
    await _book(world, session_id)
    await deliver(world.db, world.clock, settings, mailer)

    [msg] = inbox.to(LEE)
    invite = invite_of(msg)
    assert len(invite.events) == 2
    assert b"DTSTART;TZID=Europe/London:20271029T093000" in invite.raw
    assert b"DTSTART;TZID=Europe/London:20271101T093000" in invite.raw
    assert b"DTEND;TZID=Europe/London:20271029T123000" in invite.raw
    assert b"DTEND;TZID=Europe/London:20271101T123000" in invite.raw
    starts = sorted(e.start for e in invite.events)
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2027, 10, 29, 8, 30, tzinfo=UTC),  # BST, UTC+1
        datetime(2027, 11, 1, 9, 30, tzinfo=UTC),  # GMT, UTC+0
    ]
    # vobject resolves the same instants from our VTIMEZONE (checked in read_invite) and reads
    # the same wall-clock hour on both sides of the change.
    v_starts = sorted(e.dtstart.value for e in invite.vobj.contents["vevent"])
    assert [(s.hour, s.minute) for s in v_starts] == [(9, 30), (9, 30)]
    [zone] = invite.calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/London"
    # Its VTIMEZONE covers the change: summer time before it, GMT after.
    assert b"TZOFFSETTO:+0100" in invite.raw and b"TZOFFSETTO:+0000" in invite.raw
    text = msg.get_body(("plain",)).get_content()
    assert "Friday 29 October 2027, 9:30 AM – 12:30 PM Europe/London" in text
    assert "Monday 1 November 2027, 9:30 AM – 12:30 PM Europe/London" in text


async def test_waitlisted_and_offered_messages_have_no_calendar_part(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    session_id = await support.make_session(
        world, capacity=1, waitlist_mode="offer", offer_hours=24
    )
    booking_id = await _book(world, session_id, LEE)
    await _book(world, session_id, "kim@example.org")
    await _book(world, session_id, "manager@example.org")
    await deliver(world.db, world.clock, settings, mailer)

    [kim_waiting] = inbox.to("kim@example.org")
    [manager_waiting] = inbox.to("manager@example.org")
    for msg in (kim_waiting, manager_waiting):
        assert msg["Subject"] == "You're on the waiting list: Safeguarding Adults"
        assert "text/calendar" not in content_types(msg)
        assert ics_attachment(msg) is None
    assert "waiting list at number 1:" in kim_waiting.get_body(("plain",)).get_content()
    assert "waiting list at number 2:" in manager_waiting.get_body(("plain",)).get_content()
    inbox.clear()

    lee = await support.actor(world.db, LEE)
    await bookings.cancel_booking(world.db, world.clock, lee, booking_id, reason="Clash")
    await deliver(world.db, world.clock, settings, mailer)
    [offered] = inbox.to("kim@example.org")
    assert offered["Subject"] == "A place is being held for you: Safeguarding Adults"
    assert "text/calendar" not in content_types(offered)
    assert ics_attachment(offered) is None
    # The deadline, in the session's zone: 24 hours from now.
    assert "until Tuesday 2 March 2027, 9:00 AM Europe/London" in (
        offered.get_body(("plain",)).get_content()
    )
