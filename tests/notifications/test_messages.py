"""Every message the application queues can be rendered and sent: approvals (with one-click
links), moves (REQUEST for the new dates, CANCEL for the old), trainers' messages, new dates for
the waiting list and the minimum-bookings warning."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking import PROJECT_ROOT, approvals, bookings, catalogue, notifications, roster, webhooks
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.config import Settings
from booking.domain.states import BookingState
from booking.kernel.errors import ForbiddenError
from booking.mailer import SmtpMailer
from booking.people import auth
from tests import support
from tests.notifications.conftest import Inbox
from tests.notifications.mail import calendar_part, content_types, deliver, invite_of

# Dotted names in quotes; audit actions (`action="booking.override"`) are not email topics.
TOPIC_LITERAL = re.compile(
    r'(?<!action=)"((?:booking|session|trainer|approval|course|exemption)\.[a-z_]+)"'
)


def test_every_topic_the_code_queues_has_a_template() -> None:
    # Every package that queues email (the use cases, seats, the kernel) and the jobs; not the
    # notifications package, which holds the templates, nor the web.
    booking = PROJECT_ROOT / "booking"
    sources = [
        booking / "jobs.py",
        *(
            path
            for path in booking.glob("*/**/*.py")
            if path.relative_to(booking).parts[0] not in ("notifications", "web", "domain")
        ),
    ]
    queued: set[str] = set()
    for path in sources:
        queued |= set(TOPIC_LITERAL.findall(path.read_text(encoding="utf-8")))
    # Sign-up queues notify=f"booking.{state.value}" for the state it ends in.
    queued |= {
        f"booking.{s}"
        for s in (BookingState.BOOKED, BookingState.WAITLISTED, BookingState.PENDING_APPROVAL)
    }
    # Webhook event types (issue 19) name events, not emails: those that are no email topic too.
    queued -= set(webhooks.EVENT_TYPES) - set(notifications.TOPICS)
    assert len(queued) > 20  # the scan found the call sites
    assert sorted(queued - set(notifications.TOPICS)) == []
    env = notifications.email_templates()
    for template, _ in notifications.TOPICS.values():
        blocks = env.get_template(f"{template}.txt").blocks
        assert {"subject", "body"} <= set(blocks), template


async def test_approval_emails_carry_working_one_click_links(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="LEAD", title="Leading Teams", approval=["manager"]),
    )
    session_id = await support.make_session(world, course_id=course.id)
    lee = await support.actor(world.db, "lee@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    await deliver(world.db, world.clock, settings, mailer)

    [waiting] = inbox.to("lee@example.org")
    assert waiting["Subject"] == "Waiting for approval: Leading Teams"
    assert "Waiting for your line manager" in waiting.get_body(("plain",)).get_content()
    assert calendar_part(waiting) is None
    [request] = inbox.to("manager@example.org")
    assert request["Subject"] == "Approval needed: Lee Learner, Leading Teams"
    text = request.get_body(("plain",)).get_content()
    links = dict(re.findall(r"^(Approve|Decline): (\S+)\r?$", text, re.M))
    assert set(links) == {"Approve", "Decline"}
    html = request.get_body(("html",)).get_content()
    [item] = await approvals.list_waiting(world.db, world.clock, manager)
    for decision, link in (("approve", links["Approve"]), ("decline", links["Decline"])):
        assert link.startswith(f"https://training.example.org/approvals/{item.id}/{decision}?t=")
        assert f'href="{link.replace("&", "&amp;")}"' in html
        token = link.partition("?t=")[2]
        approvals.check_link(settings, manager, item.id, decision, token, world.clock.now())
        with pytest.raises(ForbiddenError):  # not for someone it was not sent to
            approvals.check_link(settings, lee, item.id, decision, token, world.clock.now())
    inbox.clear()

    await approvals.decide(
        world.db, world.clock, manager, item.id, decision="decline", comment="Not this quarter"
    )
    await deliver(world.db, world.clock, settings, mailer)
    [declined] = inbox.to("lee@example.org")
    assert declined["Subject"] == "Not approved: Leading Teams"
    assert "declined: Not this quarter" in declined.get_body(("plain",)).get_content()
    assert "text/calendar" not in content_types(declined)


async def test_approval_reminder_and_lapse_are_sent(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="LEAD", title="Leading Teams", approval=["manager"]),
    )
    session_id = await support.make_session(world, course_id=course.id)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    await deliver(world.db, world.clock, settings, mailer)
    inbox.clear()

    world.clock.advance(timedelta(days=settings.approval_reminder_days, hours=1))
    assert (
        await approvals.remind_approvers(
            world.db, world.clock, timedelta(days=settings.approval_reminder_days)
        )
        == 1
    )
    await deliver(world.db, world.clock, settings, mailer)
    [reminder] = inbox.to("manager@example.org")
    assert reminder["Subject"] == "Reminder — approval needed: Lee Learner, Leading Teams"
    assert "Approve: https://training.example.org/approvals/" in (
        reminder.get_body(("plain",)).get_content()
    )
    inbox.clear()

    world.clock.advance(timedelta(days=14))  # past the close of sign-up
    assert await approvals.lapse_requests(world.db, world.clock) == 1
    await deliver(world.db, world.clock, settings, mailer)
    [lapsed] = inbox.to("lee@example.org")
    assert lapsed["Subject"] == "Your request has lapsed: Leading Teams"


async def test_moving_a_booking_requests_the_new_dates_and_cancels_the_old(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    old_session = await support.make_session(world)
    new_session = await support.make_session(world, start=world.clock.now() + timedelta(days=21))
    lee = await support.actor(world.db, "lee@example.org")
    booking_id = (
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(old_session))
    ).booking.id
    await deliver(world.db, world.clock, settings, mailer)
    booked = invite_of(inbox.to("lee@example.org")[0])
    inbox.clear()

    await roster.move_booking(
        world.db, world.clock, world.admin, booking_id, new_session, reason="Clash"
    )
    await deliver(world.db, world.clock, settings, mailer)

    by_subject = {m["Subject"]: m for m in inbox.to("lee@example.org")}
    assert set(by_subject) == {
        "Your booking has moved: Safeguarding Adults",
        "Removed from your calendar: Safeguarding Adults",
    }
    request = invite_of(by_subject["Your booking has moved: Safeguarding Adults"])
    cancel = invite_of(by_subject["Removed from your calendar: Safeguarding Adults"])
    [new_date] = (
        await catalogue.get_session(world.db, world.clock, world.admin, new_session)
    ).dates
    assert request.method == "REQUEST"
    assert request.uids() == [f"booking-{booking_id}-date-{new_date.id}@training.example.org"]
    assert cancel.method == "CANCEL"
    assert cancel.uids() == booked.uids()
    assert cancel.sequences()[0] > booked.sequences()[0]


async def test_trainer_message_new_session_and_minimum_warning(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    full = await support.make_session(
        world, capacity=1, facilitators=["trainer@example.org"], min_bookings=3
    )
    lee = await support.actor(world.db, "lee@example.org")
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(full))
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(full))  # waitlisted
    await deliver(world.db, world.clock, settings, mailer)
    inbox.clear()

    trainer = await support.actor(world.db, "trainer@example.org")
    await roster.message_attendees(
        world.db,
        world.clock,
        trainer,
        full,
        subject="Parking",
        body="Use the <b>rear</b> car park.\n\nBring photo ID.",
    )
    extra = await support.make_session(world, start=world.clock.now() + timedelta(days=30))
    assert await roster.invite_waitlisted(world.db, world.clock, world.admin, extra) == 1
    world.clock.set(world.clock.now() + timedelta(days=10))
    assert await roster.check_minimum_bookings(world.db, world.clock, days_before=7) == 1
    await deliver(world.db, world.clock, settings, mailer)

    [message] = inbox.to("lee@example.org")
    assert message["Subject"] == "Parking — Safeguarding Adults"
    assert "Tia Trainer sent this message" in message.get_body(("plain",)).get_content()
    assert "&lt;b&gt;rear&lt;/b&gt;" in message.get_body(("html",)).get_content()
    [new_date] = inbox.to("kim@example.org")
    assert new_date["Subject"] == "A new date for Safeguarding Adults"
    assert f"https://training.example.org/sessions/{extra}" in (
        new_date.get_body(("plain",)).get_content()
    )
    warnings = inbox.to("trainer@example.org") + inbox.to("admin@example.org")
    assert {m["Subject"] for m in warnings} == {"Too few bookings: Safeguarding Adults"}
    assert "1 booking of the 3 it needs" in warnings[0].get_body(("plain",)).get_content()


async def test_password_reset_link_goes_to_its_recipient_and_is_withheld_from_admins(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await auth.request_reset(world.db, world.clock, settings, "lee@example.org")
    [row] = await notifications.list_outbox(world.db, world.admin)
    assert row.topic == "account.password_reset"

    shown = await notifications.show_message(world.db, world.clock, settings, world.admin, row.id)
    assert "/password/reset?token=" not in shown.text + shown.html
    assert "[link withheld" in shown.text

    await deliver(world.db, world.clock, settings, mailer)
    [msg] = inbox.to("lee@example.org")
    assert msg["Subject"] == "Choose a new password"
    text = msg.get_body(("plain",)).get_content()
    [link] = re.findall(r"https://training\.example\.org/password/reset\?token=\S+", text)
    assert f'href="{link}"' in msg.get_body(("html",)).get_content()
    assert calendar_part(msg) is None
