"""API: scheduling, changing, copying and cancelling sessions."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, patch, post

from booking import catalogue, roster
from booking.catalogue import (
    UNSET,
    DateInput,
    RoomInput,
    SessionChanges,
    SessionInput,
)
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import SessionView
from booking.web.api import schemas
from booking.web.inputs import admins_only


def dates_in(items: list[schemas.DateIn]) -> list[DateInput]:
    return [DateInput(d.start, d.end, d.timezone, d.id) for d in items]


def room_in(room: schemas.RoomIn | None) -> RoomInput | None:
    return None if room is None else RoomInput(room.name, room.address, room.capacity, room.details)


@post("/courses/{course_id:int}/sessions", summary="Schedule a session", guards=[admins_only])
async def create_session(
    db: Database, clock: Clock, actor: Actor, course_id: int, data: schemas.SessionIn
) -> SessionView:
    return await catalogue.create_session(
        db,
        clock,
        actor,
        course_id,
        SessionInput(
            dates=dates_in(data.dates),
            capacity=data.capacity,
            room=room_in(data.room),
            virtual_link=data.virtual_link,
            facilitators=list(data.facilitators),
            waitlist_mode=data.waitlist_mode,
            offer_hours=data.offer_hours,
            signup_opens=data.signup_opens,
            signup_closes=data.signup_closes,
            min_bookings=data.min_bookings,
            status=data.status,
            auto_cancel_below_min=data.auto_cancel_below_min,
            override_reason=data.override_reason,
        ),
    )


@get("/sessions/{session_id:int}", summary="A session with its seat counts")
async def get_session(db: Database, clock: Clock, actor: Actor, session_id: int) -> SessionView:
    return await catalogue.get_session(db, clock, actor, session_id)


def _given(value: Any) -> Any:
    return UNSET if value is msgspec.UNSET else value


@patch("/sessions/{session_id:int}", summary="Change a session", guards=[admins_only])
async def patch_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, data: schemas.SessionPatch
) -> SessionView:
    return await catalogue.update_session(
        db,
        clock,
        actor,
        session_id,
        SessionChanges(
            dates=None if data.dates is None else dates_in(data.dates),
            capacity=data.capacity,
            room=UNSET if data.room is msgspec.UNSET else room_in(data.room),
            virtual_link=_given(data.virtual_link),
            facilitators=data.facilitators,
            waitlist_mode=data.waitlist_mode,
            offer_hours=data.offer_hours,
            signup_opens=_given(data.signup_opens),
            signup_closes=_given(data.signup_closes),
            min_bookings=data.min_bookings,
            status=data.status,
            auto_cancel_below_min=data.auto_cancel_below_min,
            override_reason=data.override_reason,
        ),
    )


@post(
    "/sessions/{session_id:int}/cancel",
    summary="Cancel a session",
    status_code=200,
    guards=[admins_only],
)
async def cancel_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, data: schemas.ReasonIn
) -> SessionView:
    return await catalogue.cancel_session(db, clock, actor, session_id, reason=data.reason)


@post(
    "/sessions/{session_id:int}/copy", summary="Copy a session to new dates", guards=[admins_only]
)
async def copy_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, data: schemas.CopyIn
) -> SessionView:
    return await roster.copy_session(
        db, clock, actor, session_id, dates_in(data.dates), override_reason=data.override_reason
    )
