"""Sweeps that queue reminders: before a session, before a held place expires, and the
trainers' roster summary. Each message is deduplicated by its key, so ticks may repeat freely."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Row, String, cast, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel import tx
from booking.kernel.outbox import queue_email
from booking.models import Booking, Outbox, SessionFacilitator
from booking.models import Session as SessionRow

OFFER_EXPIRING_NOTICE = timedelta(hours=2)
ROSTER_SUMMARY_AHEAD = timedelta(hours=24)


async def queue_reminders(db: Database, clock: Clock, offsets: Sequence[timedelta]) -> int:
    """'Your session is in 7 days / tomorrow' to learners booked before that point.

    A booking made after a reminder's point gets no such reminder (it was just told). When a
    worker was down across several points, only the nearest reminder goes, not all of them.
    """
    ordered = sorted({o for o in offsets if o > timedelta(0)})
    if not ordered:
        return 0
    return await tx.run(db, partial(_queue_reminders, clock=clock, ordered=ordered))


async def _queue_reminders(s: AsyncSession, *, clock: Clock, ordered: list[timedelta]) -> int:
    now = clock.now()
    wanted = _reminders_due(await _upcoming_bookings(s, now, ordered[-1]), ordered, now)
    if not wanted:
        return 0
    done = set(await s.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(wanted))))
    queued = 0
    for key, (r, label) in wanted.items():
        if key in done:
            continue
        await queue_email(
            s,
            topic="booking.reminder",
            recipient_id=r.learner_id,
            booking_id=r.id,
            session_id=r.session_id,
            now=now,
            dedupe_key=key,
            payload={"booking_id": r.id, "session_id": r.session_id, "offset": label},
        )
        queued += 1
    return queued


async def _upcoming_bookings(s: AsyncSession, now: datetime, widest: timedelta) -> Sequence[Row]:
    """Booked places in open sessions that start within the widest reminder offset."""
    rows = await s.execute(
        select(
            Booking.id,
            Booking.learner_id,
            Booking.session_id,
            Booking.created_at,
            SessionRow.starts_at,
        )
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .where(
            Booking.state == BookingState.BOOKED.value,
            SessionRow.status == "open",
            SessionRow.starts_at > now,
            SessionRow.starts_at <= now + widest,
        )
        .order_by(Booking.id)
    )
    return rows.all()


def _reminders_due(
    candidates: Sequence[Row], ordered: list[timedelta], now: datetime
) -> dict[str, tuple[Any, str]]:
    """Dedupe key → (booking, offset label) for the one reminder each booking is due."""
    wanted: dict[str, tuple[Any, str]] = {}
    for r in candidates:
        # The nearest point already passed that the booking was made before.
        due = next(
            (o for o in ordered if r.starts_at <= now + o and r.created_at <= r.starts_at - o),
            None,
        )
        if due is not None:
            label = _hours_label(due)
            wanted[f"booking.reminder:{r.id}:{label}"] = (r, label)
    return wanted


def _hours_label(offset: timedelta) -> str:
    return f"{int(offset.total_seconds() // 3600)}h"


async def queue_offer_expiring(db: Database, clock: Clock) -> int:
    """'Your held place expires soon', once per offer. An offer made with less time than the
    notice left (its own message gives the deadline) gets no second message straight after."""
    return await tx.run(db, partial(_queue_offer_expiring, clock=clock))


async def _queue_offer_expiring(s: AsyncSession, *, clock: Clock) -> int:
    now = clock.now()
    key = _key("booking.offer_expiring:", Booking.id, ":", Booking.sequence)
    rows = (
        await s.execute(
            select(
                Booking.id,
                Booking.learner_id,
                Booking.session_id,
                Booking.sequence,
                Booking.updated_at,
                Booking.offer_expires_at,
            ).where(
                Booking.state == BookingState.OFFERED.value,
                Booking.offer_expires_at > now,
                Booking.offer_expires_at <= now + OFFER_EXPIRING_NOTICE,
                ~exists().where(Outbox.dedupe_key == key),
            )
        )
    ).all()
    queued = 0
    for r in rows:
        if r.offer_expires_at - r.updated_at <= OFFER_EXPIRING_NOTICE:
            continue  # offered inside the notice window: just told
        await queue_email(
            s,
            topic="booking.offer_expiring",
            recipient_id=r.learner_id,
            booking_id=r.id,
            session_id=r.session_id,
            now=now,
            dedupe_key=f"booking.offer_expiring:{r.id}:{r.sequence}",
            payload={"booking_id": r.id, "session_id": r.session_id},
        )
        queued += 1
    return queued


async def queue_roster_summaries(db: Database, clock: Clock) -> int:
    """The day before a session, each trainer gets a summary of its roster."""
    return await tx.run(db, partial(_queue_roster_summaries, clock=clock))


async def _queue_roster_summaries(s: AsyncSession, *, clock: Clock) -> int:
    now = clock.now()
    key = _key("trainer.roster:", SessionRow.id, ":", SessionFacilitator.person_id)
    rows = (
        await s.execute(
            select(SessionRow.id, SessionFacilitator.person_id)
            .join(SessionFacilitator, SessionFacilitator.session_id == SessionRow.id)
            .where(
                SessionRow.status == "open",
                SessionRow.starts_at > now,
                SessionRow.starts_at <= now + ROSTER_SUMMARY_AHEAD,
                ~exists().where(Outbox.dedupe_key == key),
            )
        )
    ).all()
    for session_id, person_id in rows:
        await queue_email(
            s,
            topic="trainer.roster",
            recipient_id=person_id,
            booking_id=None,
            session_id=session_id,
            now=now,
            dedupe_key=f"trainer.roster:{session_id}:{person_id}",
            payload={"session_id": session_id},
        )
    return len(rows)


def _key(*parts: Any) -> ColumnElement[str]:
    """A dedupe key built in SQL with `||` (SQLite before 3.44 has no concat())."""
    expr: ColumnElement[str] = literal("")
    for part in parts:
        expr = expr + (literal(part) if isinstance(part, str) else cast(part, String))
    return expr
