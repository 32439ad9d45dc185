"""Every email arrives with the Subject it was written with, however long and whatever its
script (RFC 2047: a space between two non-ASCII words must travel inside an encoded word), and
the text body keeps its lines apart (the room's address, then its details)."""

from __future__ import annotations

import email
import email.policy
import re

from sqlalchemy import insert, select

from booking import PROJECT_ROOT, bookings, catalogue, notifications
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, RoomInput
from booking.config import Settings
from booking.mailer import SmtpMailer
from booking.models import Outbox, Person
from tests import support
from tests.notifications.conftest import Inbox
from tests.notifications.mail import deliver

TITLE = (
    'back\\slash é 日本語 — Très "quoted" <angle> ; long long long long long long long long long '
    "long long long title"
)


def test_the_title_is_long_enough_to_be_folded() -> None:
    assert len(TITLE) > 78 and not TITLE.isascii()


def test_encoded_subjects_round_trip_and_stay_within_78_octets() -> None:
    settings = support.settings_for(
        "sqlite://", mail_from="training@example.org", base_url="https://training.example.org"
    )
    for subject in (
        f"You're booked: {TITLE}",
        "Choose a new password",
        "plain ascii " * 20,
        "é" * 300,
        "A =?utf-8?q?look-alike?= encoded word",
        "x" * 120 + " é " + "y" * 120,
    ):
        rendered = notifications.Rendered(
            outbox_id=1,
            topic="booking.booked",
            to_email="lee@example.org",
            to_name="Lee Learner",
            subject=subject,
            text="Hello\n",
            html="<p>Hello</p>",
            message_id="<outbox-1.20270301090000@example.org>",
        )
        raw = notifications.to_email(rendered, settings, support.T0).as_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert str(parsed["Subject"]) == notifications.one_line(subject)
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert max(len(line) for line in head.split(b"\r\n")) <= 78


async def test_every_template_subject_arrives_as_written_over_smtp(
    world: support.World, settings: Settings, mailer: SmtpMailer, inbox: Inbox
) -> None:
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="UNI-1", title=TITLE)
    )
    session_id = await support.make_session(
        world,
        course_id=course.id,
        facilitators=["trainer@example.org"],
        room=RoomInput("Room 4", address="1 High Street, NB1 1AA", details="Second floor"),
    )
    lee = await support.actor(world.db, "lee@example.org")
    booked = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    await deliver(world.db, world.clock, settings, mailer)
    inbox.clear()

    ids = {}
    async with world.db.transaction() as s:
        for who in ("lee", "trainer", "manager"):
            ids[who] = await s.scalar(select(Person.id).where(Person.email == f"{who}@example.org"))
        for n, topic in enumerate(sorted(notifications.TOPICS)):
            who = (
                "trainer"
                if topic.startswith("trainer.") or topic == "session.under_minimum"
                else "manager"
                if topic.startswith("approval.")
                else "lee"
            )
            payload = {
                "from_state": "booked",
                "course_id": course.id,
                "subject": "Bring é 日本語 boots",
                "body": "See you there.",
                "link": "https://training.example.org/reset/x",
                "expires_minutes": 30,
                "booked": 1,
                "minimum": 5,
            }
            await s.execute(
                insert(Outbox).values(
                    channel="email",
                    topic=topic,
                    recipient_id=ids[who],
                    booking_id=booked.booking.id,
                    session_id=session_id,
                    payload=payload,
                    dedupe_key=f"subject-test-{n}",
                    created_at=world.clock.now(),
                    available_at=world.clock.now(),
                )
            )
    report = await deliver(world.db, world.clock, settings, mailer)
    assert report.sent == len(notifications.TOPICS)

    # The bytes as they went over SMTP, parsed as a mail client would.
    received = [email.message_from_bytes(r.raw, policy=email.policy.default) for r in inbox.all()]
    assert len(received) == len(notifications.TOPICS)
    subjects = sorted(str(m["Subject"]) for m in received)
    # Account messages are about the account, not a course.
    about_accounts = {
        "Choose a new password",
        "Confirm your email address for your account request",
        "You already have a training account",
        "Your training account is ready",
        "Your account request was not approved",
    }
    # A line manager's monthly summary is about their team, not a course.
    about_accounts.add(f"Your team's required learning: {world.clock.now():%B %Y}")
    assert [s for s in subjects if s not in about_accounts and TITLE not in s] == []
    assert f"You're booked: {TITLE}" in subjects
    assert f"Bring é 日本語 boots — {TITLE}" in subjects
    assert f"Approval needed: Lee Learner, {TITLE}" in subjects
    for msg in received:
        body = msg.get_body(("plain",))
        assert body is not None
        text = body.get_content().replace("\r\n", "\n")
        if "Where:" in text:
            # The address and the room's details are on lines of their own.
            assert "Where: Room 4, 1 High Street, NB1 1AA\nSecond floor\n" in text, text


# A block tag that ends a line of text: trim_blocks removes the newline after it, and the
# next line is glued on ("…NB1 1AASecond floor").
GLUED = re.compile(r"\S.*\{%-?\s*(?:endif|endfor|else|elif\b[^%]*)\s*-?%\}$")


def test_no_email_template_line_ends_in_a_tag_after_text() -> None:
    offenders = [
        f"{path.name}:{n}"
        for path in sorted((PROJECT_ROOT / "templates" / "email").glob("*.txt"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if GLUED.search(line)
    ]
    assert offenders == []


def test_cancellation_fee_sentence_is_its_own_paragraph() -> None:
    template = notifications.email_templates().get_template("cancelled.txt")
    context = {
        "recipient": {"name": "Lee"},
        "course": {"title": "Fire"},
        "dates": [],
        "room": None,
        "virtual_link": None,
        "location": None,
        "reason": None,
        "booking": {"state": "cancelled"},
        "fee": None,
        "links": {"catalogue": "https://x/courses"},
    }
    body = "".join(template.blocks["body"](template.new_context(context)))
    assert "There is no charge for this cancellation.\n\nIf you still need" in body
    declined = notifications.email_templates().get_template("declined.txt")
    body = "".join(declined.blocks["body"](declined.new_context(context)))
    assert "was declined.\n\nFire\n" in body
