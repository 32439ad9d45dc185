"""Where and by whom a session runs: rooms found or created by name, trainers by email."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.catalogue.inputs import RoomInput
from booking.kernel.errors import InvalidError
from booking.kernel.history import forget_facilitators
from booking.models import Person, Room, SessionFacilitator


async def room_id(s: AsyncSession, room: RoomInput | None) -> int | None:
    """The room picked (by id: it must be in use), or the room of this name (details given
    update it), created if new; None for no room."""
    if room is None:
        return None
    if room.id is not None:
        return await _picked_room(s, room.id)
    name = room.name.strip()
    if not name:
        raise InvalidError("A room needs a name.", "room")
    if room.capacity is not None and room.capacity < 0:
        raise InvalidError("A room's capacity cannot be negative.", "room")
    existing = await s.scalar(select(Room).where(Room.name == name))
    if existing is not None:
        # Details given with a known room update it.
        for attr in ("address", "capacity", "details"):
            value = getattr(room, attr)
            if value is not None:
                setattr(existing, attr, value)
        return existing.id
    try:
        async with s.begin_nested():
            new = Room(
                name=name, address=room.address, capacity=room.capacity, details=room.details
            )
            s.add(new)
            await s.flush()
            return new.id
    except IntegrityError:
        # Another transaction created the room first: use theirs.
        return await s.scalar(select(Room.id).where(Room.name == name))


async def _picked_room(s: AsyncSession, picked: int) -> int:
    found = (await s.execute(select(Room.name, Room.active).where(Room.id == picked))).first()
    if found is None:
        raise InvalidError("That room is not on file: choose a room from the list.", "room_id")
    if not found.active:
        raise InvalidError(f"{found.name} is no longer in use: choose another room.", "room_id")
    return picked


async def trainer_ids(s: AsyncSession, emails: list[str]) -> list[int]:
    """The people with these emails, in email order; every email must be someone's."""
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    if not wanted:
        return []
    found = dict(
        (await s.execute(select(Person.email, Person.id).where(Person.email.in_(wanted)))).all()
    )
    missing = [e for e in wanted if e not in found]
    if missing:
        raise InvalidError(
            "No person with these facilitator emails: " + ", ".join(missing), "facilitators"
        )
    return [found[e] for e in wanted]


async def set_trainers(
    s: AsyncSession, session_id: int, person_ids: list[int], *, replace: bool
) -> None:
    """Make these people the session's trainers (after removing the ones it had, when
    `replace`)."""
    if replace:
        await s.execute(
            delete(SessionFacilitator).where(SessionFacilitator.session_id == session_id)
        )
    for person_id in person_ids:
        s.add(SessionFacilitator(session_id=session_id, person_id=person_id))
    forget_facilitators(s)
