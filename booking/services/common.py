"""Helpers the use cases share: transitions with history and outbox, session views, retries."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import MAX_ATTEMPTS, announce, is_retryable
from booking.domain.schedule import DateSlot, SeatCounts, session_status
from booking.models import (
    Booking,
    BookingHistory,
    Course,
    Outbox,
    Person,
    Room,
    SessionDate,
    SessionFacilitator,
)
from booking.models import Session as SessionRow
from booking.services.actors import Actor
from booking.services.views import MoneyView, RoomView, SessionDateView, SessionView

# Statements on the booking path, built once: building a statement costs more CPU than
# running it (SQLAlchemy's coercions and cache keys), and these run on every booking. Core
# inserts on the tables, so the rows go in as given, without the ORM's bulk machinery.
_HISTORY = cast(Table, BookingHistory.__table__)
_INSERT_HISTORY = insert(_HISTORY).returning(_HISTORY.c.id)
_INSERT_OUTBOX = insert(cast(Table, Outbox.__table__))
_ACTIVE_DATES = (
    select(SessionDate)
    .where(
        SessionDate.session_id.in_(bindparam("session_ids", expanding=True)),
        SessionDate.removed_at.is_(None),
    )
    .order_by(SessionDate.start_at)
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def session_channel(session_id: int) -> str:
    """The live-update channel of one session: its row, its roster."""
    return f"session-{session_id}"


async def with_retry(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a whole transaction again when PostgreSQL aborted it for a deadlock or serialization."""
    for n in range(1, MAX_ATTEMPTS + 1):
        try:
            return await attempt()
        except Exception as exc:
            if n == MAX_ATTEMPTS or not is_retryable(exc):
                raise
            log.info("transaction retried after %s (attempt %d)", type(exc).__name__, n)
            await asyncio.sleep(0.01 * n)
    raise AssertionError("unreachable")


async def record_transition(
    s: AsyncSession,
    *,
    booking: Booking,
    to_state: str,
    actor: Actor,
    now: datetime,
    reason: str | None,
    notify: str | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Move a booking, write its history row and queue the learner's notification, together."""
    from_state = booking.state
    booking.state = to_state
    booking.updated_at = now
    await write_history(
        s,
        booking=booking,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        now=now,
        reason=reason,
        notify=notify,
        extra=extra,
    )


async def write_history(
    s: AsyncSession,
    *,
    booking: Booking,
    from_state: str | None,
    to_state: str,
    actor: Actor,
    now: datetime,
    reason: str | None,
    notify: str | None,
    extra: dict[str, Any] | None = None,
    facilitators: Collection[int] | None = None,
) -> None:
    """Append the transition to the booking's history and queue its emails (to the learner, and
    to the session's trainers — `facilitators`, when the caller has already read them)."""
    await s.flush()
    history_id = (
        await s.execute(
            _INSERT_HISTORY,
            {
                "booking_id": booking.id,
                "at": now,
                "actor_id": actor.person_id,
                "actor": actor.label,
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
            },
        )
    ).scalar_one()
    announce(s, session_channel(booking.session_id))
    payload = {
        "booking_id": booking.id,
        "session_id": booking.session_id,
        "from_state": from_state,
        "state": to_state,
        "sequence": booking.sequence,
        "reason": reason,
        **(extra or {}),
    }
    emails = []
    if notify:
        emails.append(
            _outbox_row(
                topic=notify,
                recipient_id=booking.learner_id,
                booking_id=booking.id,
                session_id=booking.session_id,
                now=now,
                dedupe_key=f"{notify}:{booking.id}:{history_id}",
                payload=payload,
            )
        )
    trainer_topic = None
    if to_state == "booked" and from_state != "booked":
        trainer_topic = "trainer.booked"
    elif to_state == "cancelled" and from_state == "booked" and notify != "session.cancelled":
        trainer_topic = "trainer.cancelled"
    if trainer_topic:
        if facilitators is None:
            facilitators = await facilitator_ids(s, booking.session_id)
        emails.extend(
            _outbox_row(
                topic=trainer_topic,
                recipient_id=person_id,
                booking_id=booking.id,
                session_id=booking.session_id,
                now=now,
                dedupe_key=f"{trainer_topic}:{history_id}:{person_id}",
                payload=payload,
            )
            for person_id in sorted(facilitators)
        )
    if emails:
        # The learner's and the trainers' emails in one statement.
        await s.execute(_INSERT_OUTBOX, emails)


_FACILITATORS = "facilitator_ids"
_FACILITATOR_IDS = select(SessionFacilitator.person_id).where(
    SessionFacilitator.session_id == bindparam("session_id")
)


async def facilitator_ids(s: AsyncSession, session_id: int) -> frozenset[int]:
    """The session's trainers, read once per transaction (a cancellation with a promotion asks
    for them three times). `forget_facilitators` after changing them."""
    known: dict[int, frozenset[int]] = s.info.setdefault(_FACILITATORS, {})
    if session_id not in known:
        known[session_id] = frozenset(
            (await s.scalars(_FACILITATOR_IDS, {"session_id": session_id})).all()
        )
    return known[session_id]


def forget_facilitators(s: AsyncSession) -> None:
    s.info.pop(_FACILITATORS, None)


async def queue_email(
    s: AsyncSession,
    *,
    topic: str,
    recipient_id: int | None,
    booking_id: int | None,
    session_id: int | None,
    now: datetime,
    dedupe_key: str,
    payload: dict[str, Any],
) -> None:
    await s.execute(
        _INSERT_OUTBOX,
        _outbox_row(
            topic=topic,
            recipient_id=recipient_id,
            booking_id=booking_id,
            session_id=session_id,
            now=now,
            dedupe_key=dedupe_key,
            payload=payload,
        ),
    )


def _outbox_row(
    *,
    topic: str,
    recipient_id: int | None,
    booking_id: int | None,
    session_id: int | None,
    now: datetime,
    dedupe_key: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {
        "channel": "email",
        "topic": topic,
        "recipient_id": recipient_id,
        "booking_id": booking_id,
        "session_id": session_id,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "available_at": now,
    }


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def date_views(dates: Iterable[SessionDate]) -> list[SessionDateView]:
    return [
        SessionDateView(
            d.id, local(d.start_at, d.timezone), local(d.end_at, d.timezone), d.timezone
        )
        for d in sorted(dates, key=lambda d: d.start_at)
        if d.removed_at is None
    ]


def slots(dates: Iterable[SessionDate]) -> list[DateSlot]:
    return [DateSlot(d.start_at, d.end_at, d.timezone) for d in dates if d.removed_at is None]


async def active_dates(s: AsyncSession, session_ids: Sequence[int]) -> dict[int, list[SessionDate]]:
    by_session: dict[int, list[SessionDate]] = defaultdict(list)
    if not session_ids:
        return by_session
    for d in await s.scalars(_ACTIVE_DATES, {"session_ids": list(session_ids)}):
        by_session[d.session_id].append(d)
    return by_session


def money(amount: int | None, currency: str) -> MoneyView | None:
    return None if amount is None else MoneyView(amount, currency)


async def session_views(
    s: AsyncSession,
    rows: Sequence[SessionRow],
    *,
    now: datetime,
    courses: dict[int, Course] | None = None,
    reveal_links: bool = False,
) -> list[SessionView]:
    """Views for many sessions in a fixed number of queries, whatever their number."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    dates = await active_dates(s, ids)
    if courses is None:
        course_ids = {r.course_id for r in rows}
        courses = {
            c.id: c for c in await s.scalars(select(Course).where(Course.id.in_(course_ids)))
        }
    room_ids = {r.room_id for r in rows if r.room_id is not None}
    rooms = (
        {r.id: r for r in await s.scalars(select(Room).where(Room.id.in_(room_ids)))}
        if room_ids
        else {}
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for session_id, state, n in await s.execute(
        select(Booking.session_id, Booking.state, func.count())
        .where(
            Booking.session_id.in_(ids),
            Booking.state.in_(
                ("booked", "offered", "pending_payment", "pending_approval", "waitlisted")
            ),
        )
        .group_by(Booking.session_id, Booking.state)
    ):
        counts[session_id][state] = n
    facilitators: dict[int, list[str]] = defaultdict(list)
    facilitator_names: dict[int, list[str]] = defaultdict(list)
    for session_id, email, name in await s.execute(
        select(SessionFacilitator.session_id, Person.email, Person.name)
        .join(Person, Person.id == SessionFacilitator.person_id)
        .where(SessionFacilitator.session_id.in_(ids))
        .order_by(Person.email)
    ):
        facilitators[session_id].append(email)
        facilitator_names[session_id].append(name or email)

    views = []
    for r in rows:
        c = counts[r.id]
        course = courses[r.course_id]
        room = rooms.get(r.room_id) if r.room_id is not None else None
        views.append(
            SessionView(
                id=r.id,
                course_id=r.course_id,
                course_code=course.code,
                course_title=course.title,
                dates=date_views(dates[r.id]),
                capacity=r.capacity,
                booked=c.get("booked", 0),
                offered=c.get("offered", 0),
                pending=c.get("pending_approval", 0) + c.get("pending_payment", 0),
                waitlisted=c.get("waitlisted", 0),
                seats_held=r.seats_held,
                status=session_status(
                    stored=r.status,
                    starts_at=r.starts_at,
                    ends_at=r.ends_at,
                    signup_opens=r.signup_opens,
                    signup_closes=r.signup_closes,
                    seats=SeatCounts(r.capacity, r.seats_held),
                    now=now,
                ),
                waitlist_mode=r.waitlist_mode,
                offer_hours=r.offer_hours,
                signup_opens=r.signup_opens,
                signup_closes=r.signup_closes,
                min_bookings=r.min_bookings,
                room=RoomView(room.name, room.address, room.capacity, room.details)
                if room
                else None,
                virtual=bool(r.virtual_link),
                facilitators=facilitators[r.id],
                facilitator_names=facilitator_names[r.id],
                cancel_reason=r.cancel_reason,
                virtual_link=r.virtual_link if reveal_links else None,
            )
        )
    return views
