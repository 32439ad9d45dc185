"""Rooms (administrators): adding and changing them, the list without the rooms no longer in
use, a room's calendar, and a session's room picked from those on file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking import catalogue
from booking.catalogue import RoomDetails, RoomInput, SessionChanges
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.models import AuditEvent, Room
from tests import support

CIVIC = RoomDetails(
    name="  Civic Centre, Room 2 ",
    address="1 High Street",
    capacity=20,
    details="Sign in at reception.",
    accessibility="Step-free from the car park; hearing loop.",
)


async def _audit(world: support.World) -> list[tuple[str, str | None, dict[str, object] | None]]:
    async with world.db.reading() as s:
        rows = await s.execute(
            select(AuditEvent.action, AuditEvent.target, AuditEvent.details)
            .where(AuditEvent.action.like("room.%"))
            .order_by(AuditEvent.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_an_administrator_adds_a_room_and_it_is_audited(world: support.World) -> None:
    room = await catalogue.create_room(world.db, world.clock, world.admin, CIVIC)
    assert (room.name, room.capacity, room.active) == ("Civic Centre, Room 2", 20, True)
    assert room.accessibility == "Step-free from the car park; hearing loop."
    assert await catalogue.get_room(world.db, world.admin, room.id) == room
    assert await _audit(world) == [
        ("room.created", f"room {room.id}", {"name": "Civic Centre, Room 2", "active": True})
    ]


async def test_changing_a_room_records_what_changed(world: support.World) -> None:
    room = await catalogue.create_room(world.db, world.clock, world.admin, CIVIC)
    changed = await catalogue.update_room(
        world.db,
        world.clock,
        world.admin,
        room.id,
        RoomDetails(name=room.name, address="2 High Street", capacity=20, active=False),
    )
    assert (changed.address, changed.details, changed.active) == ("2 High Street", None, False)
    action, target, details = (await _audit(world))[-1]
    assert (action, target) == ("room.changed", f"room {room.id}")
    assert details == {
        "name": "Civic Centre, Room 2",
        "active": False,
        "changed": ["address", "details", "accessibility", "active"],
    }


async def test_rooms_no_longer_in_use_are_listed_only_when_asked_for(
    world: support.World,
) -> None:
    kept = await catalogue.create_room(world.db, world.clock, world.admin, CIVIC)
    old = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Annexe", active=False)
    )
    assert [r.id for r in await catalogue.list_rooms(world.db, world.admin)] == [kept.id]
    everything = await catalogue.list_rooms(world.db, world.admin, with_inactive=True)
    assert [r.name for r in everything] == ["Annexe", "Civic Centre, Room 2"]
    choices = await catalogue.room_choices(world.db, world.admin)
    assert [c.id for c in choices] == [kept.id]
    # A session's own room stays on its form's picker.
    choices = await catalogue.room_choices(world.db, world.admin, keep="Annexe")
    assert [(c.id, c.active) for c in choices] == [(old.id, False), (kept.id, True)]


async def test_a_taken_name_or_bad_details_are_refused_and_nothing_is_written(
    world: support.World,
) -> None:
    room = await catalogue.create_room(world.db, world.clock, world.admin, CIVIC)
    other = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Annexe")
    )
    with pytest.raises(ConflictError, match="already a room called Civic Centre, Room 2"):
        await catalogue.create_room(world.db, world.clock, world.admin, CIVIC)
    with pytest.raises(ConflictError):
        await catalogue.update_room(
            world.db, world.clock, world.admin, other.id, RoomDetails(name=room.name)
        )
    for bad, field in (
        (RoomDetails(name="  "), "name"),
        (RoomDetails(name="x" * 201), "name"),
        (RoomDetails(name="Hall", capacity=-1), "capacity"),
        (RoomDetails(name="Hall", accessibility="x" * 5001), "accessibility"),
    ):
        with pytest.raises(InvalidError) as refused:
            await catalogue.create_room(world.db, world.clock, world.admin, bad)
        assert refused.value.field == field
    with pytest.raises(NotFoundError):
        await catalogue.update_room(world.db, world.clock, world.admin, 999_999, CIVIC)
    names = [r.name for r in await catalogue.list_rooms(world.db, world.admin)]
    assert names == ["Annexe", "Civic Centre, Room 2"]
    assert [a for a, _, _ in await _audit(world)] == ["room.created", "room.created"]


async def test_only_administrators_manage_rooms(world: support.World) -> None:
    lee = await support.actor(world.db, "lee@example.org")
    trainer = await support.actor(world.db, "trainer@example.org")
    for who in (lee, trainer):
        with pytest.raises(ForbiddenError):
            await catalogue.create_room(world.db, world.clock, who, CIVIC)
        with pytest.raises(ForbiddenError):
            await catalogue.list_rooms(world.db, who)
        with pytest.raises(ForbiddenError):
            await catalogue.room_calendar(world.db, world.clock, who, 1)
    assert await catalogue.list_rooms(world.db, world.admin) == []


async def test_a_room_made_by_name_on_a_session_is_in_use_with_no_accessibility_details(
    world: support.World,
) -> None:
    await support.make_session(world, room=RoomInput("Room 1", capacity=12))
    [room] = await catalogue.list_rooms(world.db, world.admin)
    assert (room.name, room.capacity, room.active, room.accessibility) == (
        "Room 1",
        12,
        True,
        None,
    )


async def test_a_session_takes_a_picked_room_and_clashes_name_the_other_session(
    world: support.World,
) -> None:
    room = await catalogue.create_room(world.db, world.clock, world.admin, CIVIC)
    first = await support.make_session(world, room=RoomInput("", id=room.id))
    view = await catalogue.get_session(world.db, world.clock, world.admin, first)
    assert view.room is not None and view.room.name == "Civic Centre, Room 2"
    with pytest.raises(ConflictError) as clash:
        await support.make_session(world, room=RoomInput("", id=room.id))
    assert f"Civic Centre, Room 2 is already booked for Safeguarding Adults (session {first})" in (
        clash.value.detail
    )


async def test_a_room_no_longer_in_use_or_not_on_file_cannot_be_picked(
    world: support.World,
) -> None:
    old = await catalogue.create_room(
        world.db, world.clock, world.admin, RoomDetails(name="Annexe", active=False)
    )
    with pytest.raises(InvalidError, match="Annexe is no longer in use") as refused:
        await support.make_session(world, room=RoomInput("", id=old.id))
    assert refused.value.field == "room_id"
    with pytest.raises(InvalidError, match="not on file"):
        await support.make_session(world, room=RoomInput("", id=999_999))
    session_id = await support.make_session(world)
    with pytest.raises(InvalidError):
        await catalogue.update_session(
            world.db,
            world.clock,
            world.admin,
            session_id,
            SessionChanges(room=RoomInput("", id=old.id)),
        )
    async with world.db.reading() as s:
        assert await s.scalar(select(Room.id).where(Room.name == "")) is None


async def test_a_rooms_calendar_shows_sessions_to_come_and_the_recent_ones(
    world: support.World,
) -> None:
    room = await catalogue.create_room(world.db, world.clock, world.admin, CIVIC)
    here = RoomInput("", id=room.id)
    now = world.clock.now()
    long_ago = await support.make_session(world, start=now + timedelta(days=1), room=here)
    lately = await support.make_session(world, start=now + timedelta(days=100), room=here)
    soon = await support.make_session(world, start=now + timedelta(days=130), room=here)
    later = await support.make_session(world, start=now + timedelta(days=160), room=here)
    await support.make_session(world, start=now + timedelta(days=131))  # elsewhere
    await catalogue.cancel_session(world.db, world.clock, world.admin, later, reason="Ill")
    world.clock.advance(timedelta(days=120))

    calendar = await catalogue.room_calendar(world.db, world.clock, world.admin, room.id)
    assert calendar.room.name == "Civic Centre, Room 2"
    assert [(x.id, x.status) for x in calendar.upcoming] == [
        (soon, "open"),
        (later, "cancelled"),
    ]
    assert [x.id for x in calendar.recent] == [lately]  # over 90 days ago: left out
    assert long_ago not in [x.id for x in calendar.upcoming + calendar.recent]
    [date] = calendar.upcoming[0].dates
    assert date.timezone == "Europe/London" and date.start.utcoffset() == timedelta(hours=1)
    assert calendar.upcoming[0].course_title == "Safeguarding Adults"
