"""Names, titles and free text never inject a header into the email or a property into the
invitation: CR/LF are neutralised in headers, and iCalendar text is escaped (RFC 5545/6868)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from booking import bookings, catalogue, notifications, people
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.config import Settings
from booking.kernel.errors import InvalidError
from booking.mailer import SmtpMailer
from tests import support
from tests.notifications.conftest import Inbox
from tests.notifications.mail import deliver, invite_of, vevent_property_names

EVIL_NAME = "Eve Learner\r\nBcc: evil@example.org"
INJECTED_LINE = "\nATTENDEE:mailto:x@y"
# What every VEVENT of an invitation has, once each except none repeated.
EVENT_PROPERTIES = [
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "DTSTAMP",
    "UID",
    "SEQUENCE",
    "ATTENDEE",
    "DESCRIPTION",
    "ORGANIZER",
    "STATUS",
    "TRANSP",
    "URL",
]


def test_one_line_removes_cr_and_lf() -> None:
    assert notifications.one_line("Hello\r\nBcc: evil@example.org") == (
        "Hello Bcc: evil@example.org"
    )
    assert notifications.one_line("a\rb\nc\r\n\r\nd") == "a b c d"


def test_to_email_neutralises_cr_lf_in_display_name_and_subject() -> None:
    settings = support.settings_for(
        "sqlite://", mail_from="training@example.org", base_url="https://training.example.org"
    )
    rendered = notifications.Rendered(
        outbox_id=1,
        topic="booking.booked",
        to_email="eve@example.org",
        to_name=EVIL_NAME,
        subject="Booked\r\nBcc: evil@example.org\r\nX-Evil: 1",
        text="Hello\n",
        html="<p>Hello</p>",
        message_id="<outbox-1.20270301090000@example.org>",
    )
    msg = notifications.to_email(rendered, settings, datetime(2027, 3, 1, 9, tzinfo=UTC))
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert "\r" not in str(parsed["Subject"]) and "\n" not in str(parsed["Subject"])
    assert str(parsed["Subject"]) == "Booked Bcc: evil@example.org X-Evil: 1"
    [to] = parsed["To"].addresses
    assert to.addr_spec == "eve@example.org"
    assert "\r" not in to.display_name and "\n" not in to.display_name
    assert [k.lower() for k in parsed].count("to") == 1


async def _evil_learner(world: support.World) -> str | None:
    """Create a learner whose name carries CR/LF; None if the import refuses such names."""
    try:
        await people.upsert_people(
            world.db,
            world.clock,
            world.admin,
            [people.PersonInput("eve@example.org", EVIL_NAME, None, None, "ADULT", "Officer")],
        )
    except InvalidError:
        return None
    return "eve@example.org"


async def test_learner_name_with_cr_lf_is_refused_at_the_door(world: support.World) -> None:
    """Names reach email headers and invitation parameters: a line break in one is refused
    when people are imported (422, nothing changed); `to_email` neutralises it anyway (above)."""
    with pytest.raises(InvalidError) as refused:
        await people.upsert_people(
            world.db,
            world.clock,
            world.admin,
            [people.PersonInput("eve@example.org", EVIL_NAME, None, None, "ADULT", "Officer")],
        )
    assert refused.value.field == "name"
    assert await _evil_learner(world) is None


async def test_free_text_never_injects_a_property_into_the_invitation(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(
            code="FIRE-1",
            title="Fire Safety; Level 1, Part A",
            summary="Bring boots." + INJECTED_LINE + "\r\nEND:VEVENT",
        ),
    )
    session_id = await support.make_session(world, course_id=course.id)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(
        world.db,
        world.clock,
        lee,
        BookingRequest(session_id, special_requirements="Step-free access" + INJECTED_LINE),
    )
    await deliver(world.db, world.clock, settings, mailer)

    [msg] = inbox.to("lee@example.org")
    invite = invite_of(msg)
    assert vevent_property_names(invite.raw) == [EVENT_PROPERTIES]
    [event] = invite.events
    assert [str(a) for a in event.attendees] == ["mailto:lee@example.org"]
    # The text survives, escaped, and reads back as it was written.
    assert str(event["SUMMARY"]) == "Fire Safety; Level 1, Part A"
    assert "Bring boots.\nATTENDEE:mailto:x@y" in str(event["DESCRIPTION"])
    assert invite.vobj.vevent.summary.value == "Fire Safety; Level 1, Part A"
    assert len(invite.vobj.vevent.contents["attendee"]) == 1
    # Special requirements are for trainers only: not in the learner's invitation at all.
    assert b"Step-free" not in invite.raw
    # Lines are folded at 75 octets.
    assert all(len(line) <= 75 for line in invite.raw.split(b"\r\n"))
