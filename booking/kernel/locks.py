"""Row locks, the one place they are written.

Concurrency: every use case that changes seats locks the session row first (`SELECT … FOR UPDATE`
on PostgreSQL; SQLite writers are serialised by `BEGIN IMMEDIATE`), then the bookings it changes,
then counts and decides. Several sessions are locked in ascending id order, so two transactions
never wait for each other in a circle. A lock outside a transaction would be released at once,
so each function refuses to run outside one (as pretix's `lock_objects` does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.kernel.history import FACILITATORS_COLUMN, note_facilitators
from booking.kernel.webhook_events import ANY_LISTENING, note_listening
from booking.models import Booking
from booking.models import Session as SessionRow


def _in_transaction(s: AsyncSession) -> None:
    if not s.in_transaction():
        raise RuntimeError("a row lock outside a transaction would be released at once")


# The session's trainers and whether any webhook endpoint listens come with the locked row: a
# use case that locks a session (a cancellation, a promotion) then writes history, whose emails
# name the trainers and whose webhook fan-out is skipped when nobody listens — two statements
# fewer (three with a promotion), as on the booking path (bookings/facts.py).
_LOCK_SESSION = (
    select(SessionRow, ANY_LISTENING, FACILITATORS_COLUMN)
    .where(SessionRow.id == bindparam("session_id"))
    .execution_options(populate_existing=True)
    .with_for_update(of=SessionRow)
)


async def lock_session(s: AsyncSession, session_id: int) -> SessionRow | None:
    """The session row, locked for the rest of the transaction (SQLite: already exclusive)."""
    _in_transaction(s)
    found = (await s.execute(_LOCK_SESSION, {"session_id": session_id})).first()
    if found is None:
        return None
    note_listening(s, found[1])
    note_facilitators(s, session_id, found[2])
    return found[0]


async def lock_sessions(s: AsyncSession, session_ids: Iterable[int]) -> dict[int, SessionRow]:
    """Several session rows, locked in ascending id order; the ones that exist, by id."""
    _in_transaction(s)
    ids = sorted(set(session_ids))
    rows = await s.scalars(
        select(SessionRow)
        .where(SessionRow.id.in_(ids))
        .order_by(SessionRow.id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
    return {row.id: row for row in rows}


async def lock_booking(s: AsyncSession, booking_id: int) -> Booking | None:
    """The booking row, locked, read afresh. Lock its session first when seats may change."""
    _in_transaction(s)
    return await s.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def lock_bookings(s: AsyncSession, *where: ColumnElement[Any]) -> list[Booking]:
    """The bookings that match, locked and read afresh, in id order (the order every use case
    takes them in)."""
    _in_transaction(s)
    return list(
        (
            await s.scalars(
                select(Booking)
                .where(*where)
                .order_by(Booking.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    )


# Sweeps that insert rows several workers could both see missing take one of these first, so
# the second worker waits and then finds nothing left to add (PostgreSQL: a transaction-scoped
# advisory lock; SQLite writers are serialised already).
SWEEP_LOCKS = {"requirements": 0x5E_01}


async def lock_sweep(s: AsyncSession, name: str) -> None:
    """Hold the named sweep's lock until the transaction ends."""
    _in_transaction(s)
    if s.get_bind().dialect.name == "postgresql":
        await s.execute(select(func.pg_advisory_xact_lock(SWEEP_LOCKS[name])))
