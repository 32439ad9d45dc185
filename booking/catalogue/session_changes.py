"""Changing a session (administrators): dates, room, link, trainers, capacity and settings.
Attendees are told of a change to when or where; a raised capacity promotes from the waiting
list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.catalogue.clashes import refuse_clashes
from booking.catalogue.dates import replace_dates
from booking.catalogue.inputs import UNSET, SessionChanges
from booking.catalogue.rooms_and_trainers import room_id, set_trainers, trainer_ids
from booking.catalogue.validation import check_session_settings
from booking.clock import Clock
from booking.db import Database, announce
from booking.domain.schedule import signup_window
from booking.domain.states import HOLDS_SEAT
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, slots
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.kernel.history import facilitator_ids
from booking.kernel.locks import lock_session
from booking.kernel.outbox import queue_email, session_channel
from booking.kernel.views import SessionView
from booking.kernel.webhook_events import queue_event
from booking.models import Booking
from booking.models import Session as SessionRow
from booking.seats import promote_waiting
from booking.seats.counts import session_views

# Settings a change writes as given (checked before the transaction), telling no one.
_SETTINGS = ("waitlist_mode", "offer_hours", "min_bookings", "status", "auto_cancel_below_min")


async def update_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, changes: SessionChanges
) -> SessionView:
    """Change dates, room, capacity and the rest. Attendees are sent updated invitations; a raised
    capacity promotes from the waiting list; capacity below the seats held is refused."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change sessions.")
    check_session_settings(
        changes.capacity, changes.waitlist_mode, changes.offer_hours, changes.min_bookings
    )
    if changes.status is not None and changes.status not in ("open", "draft"):
        raise InvalidError(
            "status can be set to open or draft; cancel a session with its cancel action.",
            "status",
        )

    async def change(s: AsyncSession) -> SessionView:
        now = clock.now()
        session = await _session_to_change(s, session_id)
        material, removed_dates = await _apply(s, session, changes, now=now)
        session.updated_at = now
        await s.flush()
        await _refuse_new_clashes(s, session, changes)
        if material:
            session.sequence += 1
            await _tell_attendees(s, session, now=now, removed_dates=removed_dates)
        await promote_waiting(s, session, now=now)
        await audit.record(
            s,
            action="session.changed",
            now=now,
            actor=actor,
            target=f"session {session.id}",
            details={
                "changed": ", ".join(changes.given()),
                "attendees told": material,
                "override": changes.override_reason,
            },
        )
        await queue_event(
            s,
            "session.changed",
            {
                "session_id": session.id,
                "course_id": session.course_id,
                "changed": sorted(changes.given()),
                "attendees_told": material,
                "status": session.status,
                "capacity": session.capacity,
            },
            now=now,
            session_id=session.id,
        )
        announce(s, session_channel(session.id))
        return (await session_views(s, [session], now=now, reveal_links=True))[0]

    return await tx.run(db, change)


async def _session_to_change(s: AsyncSession, session_id: int) -> SessionRow:
    session = await lock_session(s, session_id)
    if session is None:
        raise NotFoundError(f"There is no session {session_id}.")
    if session.status == "cancelled":
        raise ConflictError("This session has been cancelled and can no longer change.")
    return session


async def _apply(
    s: AsyncSession, session: SessionRow, changes: SessionChanges, *, now: datetime
) -> tuple[bool, list[int]]:
    """Write the change onto the session. Returns whether attendees must be told (a date, the
    room or the link changed) and the ids of the dates removed."""
    material = False
    removed_dates: list[int] = []
    if changes.dates is not None:
        material, removed_dates = await replace_dates(s, session, changes.dates, now=now)
    if changes.capacity is not None and changes.capacity != session.capacity:
        if changes.capacity < session.seats_held:
            raise ConflictError(
                f"Capacity cannot go below the {session.seats_held} places already "
                "held; cancel or move bookings first."
            )
        session.capacity = changes.capacity
    if changes.room is not UNSET:
        new_room = await room_id(s, changes.room)
        material |= new_room != session.room_id
        session.room_id = new_room
    if changes.virtual_link is not UNSET:
        material |= (changes.virtual_link or None) != session.virtual_link
        session.virtual_link = changes.virtual_link or None
    if changes.facilitators is not None:
        trainers = await trainer_ids(s, changes.facilitators)
        await set_trainers(s, session.id, trainers, replace=True)
    for attr in _SETTINGS:
        value = getattr(changes, attr)
        if value is not None:
            setattr(session, attr, value)
    _change_signup_window(session, changes)
    return material, removed_dates


def _change_signup_window(session: SessionRow, changes: SessionChanges) -> None:
    """Write the window given, then check it against the (maybe new) first date. New dates
    without a new closing time close sign-up at the default time before the first date."""
    if changes.signup_opens is not UNSET:
        session.signup_opens = changes.signup_opens
    if changes.signup_closes is not UNSET:
        session.signup_closes = changes.signup_closes
    if changes.signup_opens is UNSET and changes.signup_closes is UNSET and changes.dates is None:
        return
    closes = (
        None
        if changes.dates is not None and changes.signup_closes is UNSET
        else session.signup_closes
    )
    try:
        session.signup_opens, session.signup_closes = signup_window(
            session.starts_at, session.signup_opens, closes
        )
    except Exception as exc:
        message = getattr(exc, "message", str(exc))
        raise InvalidError(message, getattr(exc, "field", None)) from exc


async def _refuse_new_clashes(
    s: AsyncSession, session: SessionRow, changes: SessionChanges
) -> None:
    """A change of when, where or who is checked for clashes as the session now stands."""
    if changes.dates is None and changes.room is UNSET and changes.facilitators is None:
        return
    current = slots((await active_dates(s, [session.id]))[session.id])
    await refuse_clashes(
        s,
        session.id,
        current,
        session.room_id,
        list(await facilitator_ids(s, session.id)),
        override=changes.override_reason,
    )


async def _tell_attendees(
    s: AsyncSession, session: SessionRow, *, now: datetime, removed_dates: list[int]
) -> None:
    """Everyone holding a place gets the updated invitation (SEQUENCE raised); a removed date
    of a multi-date session is cancelled on its own (METHOD:CANCEL for that date only)."""
    holders = (
        await s.scalars(
            select(Booking).where(Booking.session_id == session.id, Booking.state.in_(HOLDS_SEAT))
        )
    ).all()
    for booking in holders:
        booking.sequence += 1
        if removed_dates:
            await _queue_change(
                s, "session.date_removed", booking, session, now=now, date_ids=removed_dates
            )
        await _queue_change(s, "session.changed", booking, session, now=now)


async def _queue_change(
    s: AsyncSession,
    topic: str,
    booking: Booking,
    session: SessionRow,
    *,
    now: datetime,
    date_ids: list[int] | None = None,
) -> None:
    payload: dict[str, object] = {
        "booking_id": booking.id,
        "session_id": session.id,
        "sequence": booking.sequence,
    }
    if date_ids is not None:
        payload["date_ids"] = date_ids
    await queue_email(
        s,
        topic=topic,
        recipient_id=booking.learner_id,
        booking_id=booking.id,
        session_id=session.id,
        now=now,
        dedupe_key=f"{topic}:{booking.id}:{booking.sequence}",
        payload=payload,
    )
