"""Reminders and the trainer's roster summary (queued by the worker's sweeps, once each), and the
private calendar feed (same UIDs as the invitations, revocable)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from booking import bookings, catalogue, jobs, notifications
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.config import Settings
from booking.db import Database
from booking.kernel.errors import NotFoundError
from booking.mailer import SmtpMailer
from booking.models import Outbox
from tests import support
from tests.notifications.conftest import Inbox
from tests.notifications.mail import calendar_part, deliver, invite_of


async def _topics(db: Database, topic: str) -> list[tuple[str, int | None]]:
    async with db.reading() as s:
        rows = await s.execute(
            select(Outbox.dedupe_key, Outbox.recipient_id)
            .where(Outbox.topic == topic)
            .order_by(Outbox.id)
        )
        return [(key, recipient) for key, recipient in rows.all()]


async def _book(world: support.World, session_id: int, *emails: str) -> list[int]:
    ids = []
    for email in emails:
        learner = await support.actor(world.db, email)
        outcome = await bookings.book_place(
            world.db, world.clock, learner, BookingRequest(session_id)
        )
        ids.append(outcome.booking.id)
    return ids


async def test_reminders_once_per_offset_and_roster_summary_the_day_before(
    world: support.World, clock: FixedClock, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    settings = replace(settings, reminder_hours=(168, 24))
    start = clock.now() + timedelta(days=14)
    session_id = await support.make_session(
        world, start=start, capacity=2, facilitators=["trainer@example.org"]
    )
    lee_id, kim_id = await _book(world, session_id, "lee@example.org", "kim@example.org")
    await _book(world, session_id, "manager@example.org")  # waitlisted: no reminder
    await jobs.tick(world.db, clock, settings, mailer)
    assert await _topics(world.db, "booking.reminder") == []
    inbox.clear()

    # Six days before: the 7-day reminder, once per booked learner.
    clock.set(start - timedelta(days=6))
    first = await jobs.tick(world.db, clock, settings, mailer)
    assert first.reminders_queued == 2
    assert sorted(k for k, _ in await _topics(world.db, "booking.reminder")) == sorted(
        [f"booking.reminder:{lee_id}:168h", f"booking.reminder:{kim_id}:168h"]
    )
    assert sorted(r.rcpt_tos[0] for r in inbox.all()) == ["kim@example.org", "lee@example.org"]
    [lee_reminder] = inbox.to("lee@example.org")
    assert lee_reminder["Subject"] == "Reminder: Safeguarding Adults"
    assert calendar_part(lee_reminder) is None
    inbox.clear()

    clock.advance(timedelta(hours=1))
    again = await jobs.tick(world.db, clock, settings, mailer)
    assert again.reminders_queued == 0 and again.sent == 0
    assert len(await _topics(world.db, "booking.reminder")) == 2

    # The day before: the 1-day reminder, and the trainer's roster summary.
    clock.set(start - timedelta(hours=20))
    day_before = await jobs.tick(world.db, clock, settings, mailer)
    assert day_before.reminders_queued == 3
    reminders = [k for k, _ in await _topics(world.db, "booking.reminder")]
    assert sorted(reminders[2:]) == sorted(
        [f"booking.reminder:{lee_id}:24h", f"booking.reminder:{kim_id}:24h"]
    )
    [(roster_key, _)] = await _topics(world.db, "trainer.roster")
    assert roster_key.startswith(f"trainer.roster:{session_id}:")
    [roster] = inbox.to("trainer@example.org")
    assert roster["Subject"] == "Tomorrow's roster: Safeguarding Adults"
    assert "Booked: 2. Waiting list: 1." in roster.get_body(("plain",)).get_content()
    assert len(inbox.all()) == 3

    clock.advance(timedelta(hours=1))
    assert (await jobs.tick(world.db, clock, settings, mailer)).reminders_queued == 0
    assert len(inbox.all()) == 3


async def test_late_booking_and_a_down_worker_get_only_the_nearest_reminder(
    world: support.World, clock: FixedClock, settings: Settings
) -> None:
    settings = replace(settings, reminder_hours=(168, 24))
    start = clock.now() + timedelta(days=14)
    session_id = await support.make_session(world, start=start)
    [lee_id] = await _book(world, session_id, "lee@example.org")
    clock.set(start - timedelta(days=3))
    [kim_id] = await _book(world, session_id, "kim@example.org")  # after the 7-day point

    # The worker was down until 12 hours before the start: one reminder each, the 1-day one.
    clock.set(start - timedelta(hours=12))
    assert (await jobs.tick(world.db, clock, settings)).reminders_queued == 2
    assert sorted(k for k, _ in await _topics(world.db, "booking.reminder")) == sorted(
        [f"booking.reminder:{lee_id}:24h", f"booking.reminder:{kim_id}:24h"]
    )


async def test_offer_expiring_once_and_not_for_offers_made_inside_the_notice(
    world: support.World, clock: FixedClock, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    long_offer = await support.make_session(world, capacity=1, waitlist_mode="offer")
    other = await catalogue.create_course(
        world.db, clock, world.admin, CourseInput(code="FIRE-1", title="Fire Safety")
    )
    short_offer = await support.make_session(
        world,
        capacity=1,
        waitlist_mode="offer",
        offer_hours=1,
        course_id=other.id,
        start=clock.now() + timedelta(days=20),
    )
    lee = await support.actor(world.db, "lee@example.org")
    for session_id in (long_offer, short_offer):
        [lee_booking] = await _book(world, session_id, "lee@example.org")
        await _book(world, session_id, "kim@example.org")
        await bookings.cancel_booking(world.db, clock, lee, lee_booking, reason="Clash")
    await jobs.tick(world.db, clock, settings, mailer)
    offered = sorted(
        m["Subject"] for m in inbox.to("kim@example.org") if "being held" in m["Subject"]
    )
    assert offered == [
        "A place is being held for you: Fire Safety",
        "A place is being held for you: Safeguarding Adults",
    ]
    assert await _topics(world.db, "booking.offer_expiring") == []  # the 1-hour offer too
    inbox.clear()

    clock.advance(timedelta(hours=23))  # the 24-hour offer has an hour left
    await jobs.tick(world.db, clock, settings, mailer)
    await jobs.tick(world.db, clock, settings, mailer)
    subjects = sorted(m["Subject"] for m in inbox.to("kim@example.org"))
    assert subjects == [
        "Your held place expires soon: Safeguarding Adults",
        "Your held place has expired: Fire Safety",  # the 1-hour offer, long gone
    ]
    [expiring] = [m for m in inbox.to("kim@example.org") if "soon" in m["Subject"]]
    assert "expires at Tuesday 2 March 2027, 9:00 AM Europe/London" in (
        expiring.get_body(("plain",)).get_content()
    )
    assert len(await _topics(world.db, "booking.offer_expiring")) == 1


async def test_calendar_feed_lists_booked_sessions_with_the_invitation_uids(
    world: support.World, clock: FixedClock, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    cancelled_session = await support.make_session(world, start=clock.now() + timedelta(days=20))
    booked_session = await support.make_session(world)
    [cancelled_id] = await _book(world, cancelled_session, "lee@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.cancel_booking(world.db, clock, lee, cancelled_id, reason="Clash")
    [booking_id] = await _book(world, booked_session, "lee@example.org")
    await deliver(world.db, clock, settings, mailer)
    _, cancelled, booked_again = inbox.to("lee@example.org")
    assert booked_again["Subject"] == "You're booked: Safeguarding Adults"
    invite = invite_of(booked_again)
    assert invite_of(cancelled).method == "CANCEL"

    token = await notifications.calendar_token(world.db, lee)
    assert await notifications.calendar_token(world.db, lee) == token  # stable until reset
    feed = Calendar.from_ical(
        (await notifications.calendar_feed(world.db, clock, settings, token)).body
    )
    assert "METHOD" not in feed
    events = feed.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == invite.uids()
    assert str(events[0]["UID"]).startswith(f"booking-{booking_id}-date-")
    assert events[0].start == invite.events[0].start
    assert events[0]["DTSTART"].params["TZID"] == "Europe/London"
    assert [str(z["TZID"]) for z in feed.walk("VTIMEZONE")] == ["Europe/London"]

    new = await notifications.calendar_token(world.db, lee, reset=True)
    assert new != token
    with pytest.raises(NotFoundError):
        await notifications.calendar_feed(world.db, clock, settings, token)
    still = Calendar.from_ical(
        (await notifications.calendar_feed(world.db, clock, settings, new)).body
    )
    assert [str(e["UID"]) for e in still.walk("VEVENT")] == invite.uids()
    with pytest.raises(NotFoundError):
        await notifications.calendar_feed(world.db, clock, settings, "")


async def test_trainer_feed_lists_the_sessions_they_run(
    world: support.World, clock: FixedClock, settings: Settings
) -> None:
    session_id = await support.make_session(world, facilitators=["trainer@example.org"])
    trainer = await support.actor(world.db, "trainer@example.org")
    token = await notifications.calendar_token(world.db, trainer)
    feed = Calendar.from_ical(
        (await notifications.calendar_feed(world.db, clock, settings, token)).body
    )
    [event] = feed.walk("VEVENT")
    assert str(event["UID"]).startswith(f"session-{session_id}-date-")
    assert str(event["SUMMARY"]) == "Safeguarding Adults (you are running it)"
