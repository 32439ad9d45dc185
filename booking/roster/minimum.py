"""The minimum-bookings check, a sweep of the worker: a few days before it starts, a session
under its minimum warns its trainers and the administrators once, or cancels itself with notice
if it is set to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import catalogue, people
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import REGISTERED
from booking.kernel import tx
from booking.kernel.actors import Actor
from booking.kernel.history import facilitator_ids
from booking.kernel.outbox import queue_email
from booking.models import Booking, Outbox
from booking.models import Session as SessionRow


@dataclass(frozen=True, slots=True)
class UnderMinimum:
    session_id: int
    auto_cancel: bool
    booked: int
    minimum: int


async def check_minimum_bookings(db: Database, clock: Clock, *, days_before: int) -> int:
    """`days_before` the start, a session under its minimum warns its trainers and the
    administrators once, or is cancelled with notice if it is set to cancel itself. How many
    sessions were cancelled or newly warned."""
    handled = 0
    for under in await _under_minimum(db, now=clock.now(), days_before=days_before):
        if under.auto_cancel:
            await catalogue.cancel_session(
                db,
                clock,
                Actor.system(),
                under.session_id,
                reason=f"Not enough bookings ({under.booked} of the {under.minimum} needed)",
            )
            handled += 1
        else:
            handled += await tx.run(db, partial(_warn, clock=clock, under=under))
    return handled


async def _under_minimum(db: Database, *, now: datetime, days_before: int) -> list[UnderMinimum]:
    """Open sessions starting within `days_before` with fewer registered learners than their
    minimum."""
    async with db.reading() as s:
        due = (
            await s.scalars(
                select(SessionRow).where(
                    SessionRow.status == "open",
                    SessionRow.min_bookings > 0,
                    SessionRow.starts_at > now,
                    SessionRow.starts_at <= now + timedelta(days=days_before),
                )
            )
        ).all()
        under = []
        for session in due:
            booked = len(
                (
                    await s.scalars(
                        select(Booking.id).where(
                            Booking.session_id == session.id, Booking.state.in_(REGISTERED)
                        )
                    )
                ).all()
            )
            if booked < session.min_bookings:
                under.append(
                    UnderMinimum(
                        session.id, session.auto_cancel_below_min, booked, session.min_bookings
                    )
                )
        return under


async def _warn(s: AsyncSession, *, clock: Clock, under: UnderMinimum) -> int:
    """Each trainer and administrator not yet warned about this session is warned; 1 if anyone
    was."""
    now = clock.now()
    recipients = set(await facilitator_ids(s, under.session_id)) | set(
        await people.active_admin_ids(s)
    )
    queued = 0
    for person_id in sorted(recipients):
        key = f"session.under_minimum:{under.session_id}:{person_id}"
        if await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)):
            continue
        await queue_email(
            s,
            topic="session.under_minimum",
            recipient_id=person_id,
            booking_id=None,
            session_id=under.session_id,
            now=now,
            dedupe_key=key,
            payload={
                "session_id": under.session_id,
                "booked": under.booked,
                "minimum": under.minimum,
            },
        )
        queued += 1
    return 1 if queued else 0
