"""Running a session: attendance, moves, messages, exports, clashes, minimums and demand."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from booking import bookings, catalogue, people, roster
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, DateInput, RoomInput, SessionInput
from booking.kernel.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    RefusedError,
)
from booking.models import Completion, Outbox
from tests import support


async def booked(world: support.World, session_id: int, *emails: str) -> list[int]:
    ids = []
    for email in emails:
        who = await support.actor(world.db, email)
        outcome = await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
        ids.append(outcome.booking.id)
    return ids


async def test_trainers_run_only_their_own_sessions(world: support.World) -> None:
    mine = await support.make_session(world, facilitators=["trainer@example.org"])
    other = await support.make_session(world, start=world.clock.now() + timedelta(days=20))
    trainer = await support.actor(world.db, "trainer@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    assert (await roster.read_roster(world.db, world.clock, trainer, mine)).session.id == mine
    with pytest.raises(ForbiddenError):
        await roster.read_roster(world.db, world.clock, trainer, other)
    with pytest.raises(ForbiddenError):
        await roster.read_roster(world.db, world.clock, lee, mine)
    with pytest.raises(ForbiddenError):
        await roster.roster_csv(world.db, world.clock, lee, mine)
    with pytest.raises(ForbiddenError):
        await roster.message_attendees(
            world.db, world.clock, trainer, other, subject="Hi", body="Hello"
        )
    with pytest.raises(NotFoundError):
        await roster.roster_csv(world.db, world.clock, trainer, 999_999)


async def test_attendance_window_bulk_history_and_completion(world: support.World) -> None:
    session_id = await support.make_session(world, capacity=5, facilitators=["trainer@example.org"])
    lee_id, kim_id = await booked(world, session_id, "lee@example.org", "kim@example.org")
    trainer = await support.actor(world.db, "trainer@example.org")
    with pytest.raises(ConflictError, match="from the start"):
        await roster.mark_all_attended(world.db, world.clock, trainer, session_id)

    world.clock.advance(timedelta(days=14, minutes=30))  # the session has started
    outcome = await roster.mark_all_attended(world.db, world.clock, trainer, session_id)
    assert sorted(r.booking_id for r in outcome.roster.attended) == [lee_id, kim_id]
    assert outcome.changed == {"attended": 2}
    view = await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(kim_id, "no_show")]
    )
    assert {r.booking_id: r.state for r in view.attended} == {lee_id: "attended", kim_id: "no_show"}
    async with world.db.reading() as s:
        completions = (await s.scalars(select(Completion.booking_id))).all()
    assert completions == [lee_id]
    kim = await bookings.get_booking(world.db, world.clock, world.admin, kim_id)
    assert [h.to_state for h in kim.history] == ["booked", "attended", "no_show"]
    assert kim.history[-1].actor == "trainer@example.org"

    with pytest.raises(InvalidError):
        await roster.mark_attendance(
            world.db, world.clock, trainer, session_id, [roster.Mark(lee_id, "present")]
        )
    # A week after the end, trainers are locked out; administrators are not.
    world.clock.advance(timedelta(days=8))
    with pytest.raises(ConflictError, match="locked"):
        await roster.mark_attendance(
            world.db, world.clock, trainer, session_id, [roster.Mark(kim_id, "attended")]
        )
    view = await roster.mark_attendance(
        world.db, world.clock, world.admin, session_id, [roster.Mark(kim_id, "attended")]
    )
    assert {r.state for r in view.attended} == {"attended"}


async def test_move_to_another_date(world: support.World) -> None:
    first = await support.make_session(world, capacity=1, facilitators=["trainer@example.org"])
    later = await support.make_session(
        world, capacity=1, start=world.clock.now() + timedelta(days=21)
    )
    (lee_id,) = await booked(world, first, "lee@example.org")
    (kim_wait,) = await booked(world, first, "kim@example.org")
    trainer = await support.actor(world.db, "trainer@example.org")
    moved = await roster.move_booking(
        world.db, world.clock, trainer, lee_id, later, reason="Clash with a court date"
    )
    assert (moved.session_id, moved.state) == (later, "booked")
    # The seat left behind went to the waiting list.
    assert (await bookings.get_booking(world.db, world.clock, world.admin, kim_wait)).state == (
        "booked"
    )
    async with world.db.reading() as s:
        topics = (
            await s.scalars(
                select(Outbox.topic).where(Outbox.booking_id == lee_id).order_by(Outbox.id)
            )
        ).all()
    assert topics[-2:] == ["booking.moved", "session.date_removed"]
    # The target is now full: another move there is refused.
    with pytest.raises(ConflictError, match="full"):
        await roster.move_booking(world.db, world.clock, world.admin, kim_wait, later, reason="x")
    other_course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="FIRE", title="Fire")
    )
    elsewhere = await support.make_session(
        world, course_id=other_course.id, start=world.clock.now() + timedelta(days=30)
    )
    with pytest.raises(InvalidError):
        await roster.move_booking(
            world.db, world.clock, world.admin, kim_wait, elsewhere, reason="x"
        )


async def test_csv_is_formula_safe_and_pdf_lists_learners(world: support.World) -> None:
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                "evil@example.org", '=HYPERLINK("http://x")', None, None, "ADULT", "+Officer"
            )
        ],
    )
    session_id = await support.make_session(world, capacity=5, facilitators=["trainer@example.org"])
    await booked(world, session_id, "lee@example.org", "evil@example.org")
    trainer = await support.actor(world.db, "trainer@example.org")
    text = await roster.roster_csv(world.db, world.clock, trainer, session_id)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Booking", "State", "Waitlist position", "Name"]
    names = {r[3] for r in rows[1:]}
    assert names == {"Lee Learner", '\'=HYPERLINK("http://x")'}
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)

    pdf = await roster.sign_in_sheet(world.db, world.clock, trainer, session_id)
    assert pdf.startswith(b"%PDF")
    content = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Sign-in sheet: Safeguarding Adults" in content
    assert "Lee Learner" in content and "Signature" in content


async def test_room_and_trainer_clashes_are_refused_with_the_session_named(
    world: support.World,
) -> None:
    start = world.clock.now() + timedelta(days=10)
    first = await catalogue.create_session(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        SessionInput(
            dates=[DateInput(start, start + timedelta(hours=3), support.LONDON)],
            capacity=5,
            room=RoomInput("Room 1"),
            facilitators=["trainer@example.org"],
        ),
    )
    overlapping = [
        DateInput(start + timedelta(hours=1), start + timedelta(hours=4), support.LONDON)
    ]
    with pytest.raises(ConflictError) as room:
        await catalogue.create_session(
            world.db,
            world.clock,
            world.admin,
            world.course_id,
            SessionInput(dates=overlapping, capacity=5, room=RoomInput("Room 1")),
        )
    assert f"Room 1 is already booked for Safeguarding Adults (session {first.id})" in (
        room.value.detail
    )
    with pytest.raises(ConflictError, match="Tia Trainer is already running"):
        await catalogue.create_session(
            world.db,
            world.clock,
            world.admin,
            world.course_id,
            SessionInput(dates=overlapping, capacity=5, facilitators=["trainer@example.org"]),
        )
    forced = await catalogue.create_session(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        SessionInput(
            dates=overlapping,
            capacity=5,
            room=RoomInput("Room 1"),
            override_reason="Room divides in two",
        ),
    )
    assert forced.room is not None
    # Touching sessions do not clash.
    await catalogue.create_session(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        SessionInput(
            dates=[
                DateInput(start + timedelta(hours=3), start + timedelta(hours=5), support.LONDON)
            ],
            capacity=5,
            facilitators=["trainer@example.org"],
        ),
    )


async def test_minimum_bookings_warn_or_cancel(world: support.World) -> None:
    warn = await support.make_session(
        world, capacity=5, min_bookings=3, facilitators=["trainer@example.org"]
    )
    cancel = await support.make_session(
        world,
        capacity=5,
        min_bookings=3,
        auto_cancel_below_min=True,
        start=world.clock.now() + timedelta(days=15),
    )
    await booked(world, cancel, "lee@example.org")
    assert await roster.check_minimum_bookings(world.db, world.clock, days_before=7) == 0
    world.clock.advance(timedelta(days=9))
    assert await roster.check_minimum_bookings(world.db, world.clock, days_before=7) == 2
    assert await roster.check_minimum_bookings(world.db, world.clock, days_before=7) == 0
    cancelled = await catalogue.get_session(world.db, world.clock, world.admin, cancel)
    assert cancelled.status == "cancelled"
    assert "Not enough bookings (1 of the 3 needed)" in (cancelled.cancel_reason or "")
    async with world.db.reading() as s:
        warned = (
            await s.scalars(
                select(Outbox.recipient_id).where(
                    Outbox.topic == "session.under_minimum", Outbox.session_id == warn
                )
            )
        ).all()
        told = (await s.scalars(select(Outbox.topic).where(Outbox.session_id == cancel))).all()
    trainer = await support.actor(world.db, "trainer@example.org")
    assert set(warned) == {world.admin.person_id, trainer.person_id}
    assert "session.cancelled" in told


async def test_copy_demand_and_invite(world: support.World) -> None:
    full = await support.make_session(world, capacity=1, facilitators=["trainer@example.org"])
    await booked(world, full, "lee@example.org", "kim@example.org", "manager@example.org")
    demand = await roster.course_demand(world.db, world.clock, world.admin, world.course_id)
    assert demand.waiting_learners == 2
    assert demand.sessions[0]["waitlisted"] == 2
    start = world.clock.now() + timedelta(days=40)
    copy = await roster.copy_session(
        world.db,
        world.clock,
        world.admin,
        full,
        [DateInput(start, start + timedelta(hours=3), support.LONDON)],
    )
    assert (copy.capacity, copy.facilitators) == (1, ["trainer@example.org"])
    assert await roster.invite_waitlisted(world.db, world.clock, world.admin, copy.id) == 2
    # Asking again tells nobody twice (it used to break on the outbox's unique key: a 500).
    assert await roster.invite_waitlisted(world.db, world.clock, world.admin, copy.id) == 0
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(ForbiddenError):
        await roster.course_demand(world.db, world.clock, lee, world.course_id)
    with pytest.raises(RefusedError):  # still on the waiting list for the course
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(copy.id))
