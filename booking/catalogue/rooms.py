"""Rooms (administrators): the list, one room's details, creating and changing one, its
calendar of sessions, and the rooms a session form offers.

A room is never deleted: its past sessions name it. One no longer used is made inactive, which
hides it from the list (unless asked for) and from the session form's picker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.catalogue.inputs import RoomDetails
from booking.clock import Clock
from booking.db import Database
from booking.db_values import max_length_of
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.dates import local
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.kernel.views import SessionDateView
from booking.models import Course, Room, SessionDate
from booking.models import Session as SessionRow

# How far back a room's calendar shows sessions that are over.
RECENT = timedelta(days=90)
MAX_NAME = 200
MAX_ADDRESS = max_length_of(Room.__table__.c.address.type) or 1000
MAX_DETAILS = max_length_of(Room.__table__.c.details.type) or 5000
MAX_ACCESSIBILITY = max_length_of(Room.__table__.c.accessibility.type) or 5000
MAX_CAPACITY = 100_000


@dataclass(slots=True)
class RoomSummary:
    id: int
    name: str
    address: str | None
    capacity: int | None
    details: str | None
    accessibility: str | None
    active: bool


@dataclass(slots=True)
class RoomChoice:
    """A room as the session form's picker offers it."""

    id: int
    name: str
    capacity: int | None
    active: bool


@dataclass(slots=True)
class RoomSession:
    """A session held in the room, with its dates in their own time zones."""

    id: int
    course_id: int
    course_code: str
    course_title: str
    status: str
    dates: list[SessionDateView] = field(default_factory=list)


@dataclass(slots=True)
class RoomCalendar:
    room: RoomSummary
    upcoming: list[RoomSession]  # running or still to come, soonest first
    recent: list[RoomSession]  # over in the last `RECENT`, latest first


def _refuse_unless_allowed(actor: Actor) -> None:
    if not policy.can_manage_rooms(actor):
        raise ForbiddenError("Only administrators can manage rooms.")


def _summary(room: Room) -> RoomSummary:
    return RoomSummary(
        room.id,
        room.name,
        room.address,
        room.capacity,
        room.details,
        room.accessibility,
        room.active,
    )


async def list_rooms(
    db: Database, actor: Actor, *, with_inactive: bool = False
) -> list[RoomSummary]:
    """The rooms by name; those no longer in use only when asked for."""
    _refuse_unless_allowed(actor)
    stmt = select(Room).order_by(Room.name, Room.id)
    if not with_inactive:
        stmt = stmt.where(Room.active.is_(True))
    async with db.reading() as s:
        return [_summary(r) for r in await s.scalars(stmt)]


async def get_room(db: Database, actor: Actor, room_id: int) -> RoomSummary:
    _refuse_unless_allowed(actor)
    async with db.reading() as s:
        return _summary(await _room(s, room_id))


async def room_choices(db: Database, actor: Actor, *, keep: str | None = None) -> list[RoomChoice]:
    """The rooms a session form offers: those in use, and the room named `keep` (a session's
    own room) even when it is no longer in use."""
    _refuse_unless_allowed(actor)
    wanted = (
        Room.active.is_(True) if keep is None else or_(Room.active.is_(True), Room.name == keep)
    )
    stmt = select(Room.id, Room.name, Room.capacity, Room.active).where(wanted).order_by(Room.name)
    async with db.reading() as s:
        return [RoomChoice(*row) for row in (await s.execute(stmt)).all()]


async def create_room(db: Database, clock: Clock, actor: Actor, data: RoomDetails) -> RoomSummary:
    """A new room; its name must be free."""
    _refuse_unless_allowed(actor)
    clean = validate_room(data)

    async def create(s: AsyncSession) -> RoomSummary:
        now = clock.now()
        await _refuse_taken_name(s, clean.name, None)
        room = Room()
        _apply(room, clean)
        await _flush_unless_taken(s, room, clean.name)
        await _audit(s, room, action="room.created", actor=actor, now=now)
        return _summary(room)

    return await tx.run(db, create)


async def update_room(
    db: Database, clock: Clock, actor: Actor, room_id: int, data: RoomDetails
) -> RoomSummary:
    """Replace a room's details. Sessions in it keep it: made inactive, it is only left out of
    the picker for new choices."""
    _refuse_unless_allowed(actor)
    clean = validate_room(data)

    async def update(s: AsyncSession) -> RoomSummary:
        now = clock.now()
        room = await _room(s, room_id, for_update=True)
        await _refuse_taken_name(s, clean.name, room.id)
        before = _summary(room)
        _apply(room, clean)
        await _flush_unless_taken(s, room, clean.name)
        changed = [
            name for name in before.__slots__ if getattr(before, name) != getattr(room, name)
        ]
        await _audit(s, room, action="room.changed", actor=actor, now=now, changed=changed)
        return _summary(room)

    return await tx.run(db, update)


async def room_calendar(db: Database, clock: Clock, actor: Actor, room_id: int) -> RoomCalendar:
    """The room and its sessions: those running or to come, and those over in the last
    `RECENT`. Two statements, however many sessions the room has."""
    _refuse_unless_allowed(actor)
    now = clock.now()
    async with db.reading() as s:
        room = await _room(s, room_id)
        rows = (
            await s.execute(
                select(SessionDate, SessionRow.status, Course.id, Course.code, Course.title)
                .join(SessionRow, SessionRow.id == SessionDate.session_id)
                .join(Course, Course.id == SessionRow.course_id)
                .where(
                    SessionRow.room_id == room_id,
                    SessionDate.removed_at.is_(None),
                    SessionDate.session_id.in_(
                        select(SessionDate.session_id).where(
                            SessionDate.end_at >= now - RECENT, SessionDate.removed_at.is_(None)
                        )
                    ),
                )
                .order_by(SessionDate.start_at, SessionDate.id)
            )
        ).all()
    sessions: dict[int, RoomSession] = {}
    ends: dict[int, datetime] = {}
    for d, status, course_id, code, title in rows:
        item = sessions.setdefault(
            d.session_id, RoomSession(d.session_id, course_id, code, title, status)
        )
        item.dates.append(
            SessionDateView(
                d.id, local(d.start_at, d.timezone), local(d.end_at, d.timezone), d.timezone
            )
        )
        ends[d.session_id] = max(ends.get(d.session_id, d.end_at), d.end_at)
    upcoming = [x for x in sessions.values() if ends[x.id] >= now]
    recent = [x for x in sessions.values() if ends[x.id] < now]
    recent.sort(key=lambda x: ends[x.id], reverse=True)
    return RoomCalendar(_summary(room), upcoming, recent)


def validate_room(data: RoomDetails) -> RoomDetails:
    """The details trimmed, or every reason they cannot be kept (the first field at fault
    named)."""
    name = data.name.strip()
    problems: list[tuple[str, str]] = []
    if not name:
        problems.append(("name", "Give the room a name."))
    elif len(name) > MAX_NAME:
        problems.append(("name", f"A room's name is limited to {MAX_NAME} characters."))
    if data.capacity is not None and not 0 <= data.capacity <= MAX_CAPACITY:
        problems.append(("capacity", f"A room's capacity is from 0 to {MAX_CAPACITY:,}."))
    for key, value, limit in (
        ("address", data.address, MAX_ADDRESS),
        ("details", data.details, MAX_DETAILS),
        ("accessibility", data.accessibility, MAX_ACCESSIBILITY),
    ):
        if value and len(value.strip()) > limit:
            problems.append((key, f"This is limited to {limit:,} characters."))
    if problems:
        key, message = problems[0]
        raise InvalidError(message, key)
    return RoomDetails(
        name=name,
        address=_text(data.address),
        capacity=data.capacity,
        details=_text(data.details),
        accessibility=_text(data.accessibility),
        active=data.active,
    )


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _apply(room: Room, data: RoomDetails) -> None:
    room.name = data.name
    room.address = data.address
    room.capacity = data.capacity
    room.details = data.details
    room.accessibility = data.accessibility
    room.active = data.active


async def _room(s: AsyncSession, room_id: int, *, for_update: bool = False) -> Room:
    stmt = select(Room).where(Room.id == room_id)
    room = await s.scalar(stmt.with_for_update() if for_update else stmt)
    if room is None:
        raise NotFoundError(f"There is no room {room_id}.")
    return room


async def _refuse_taken_name(s: AsyncSession, name: str, room_id: int | None) -> None:
    clash = select(Room.id).where(Room.name == name)
    if room_id is not None:
        clash = clash.where(Room.id != room_id)
    if await s.scalar(clash) is not None:
        raise ConflictError(f"There is already a room called {name}.")


async def _flush_unless_taken(s: AsyncSession, room: Room, name: str) -> None:
    # Another transaction may take the name between the check and the write.
    try:
        async with s.begin_nested():
            s.add(room)
            await s.flush()
    except IntegrityError as exc:
        raise ConflictError(f"There is already a room called {name}.") from exc


async def _audit(
    s: AsyncSession,
    room: Room,
    *,
    action: str,
    actor: Actor,
    now: datetime,
    changed: list[str] | None = None,
) -> None:
    details: dict[str, object] = {"name": room.name, "active": room.active}
    if changed is not None:
        details["changed"] = changed
    await audit.record(
        s, action=action, now=now, actor=actor, target=f"room {room.id}", details=details
    )
