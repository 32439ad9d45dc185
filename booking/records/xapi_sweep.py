"""The xAPI sweep (a worker step): new record changes and booking history become statements in
the outbox, each source read from where the sweep's mark left it."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.domain.states import FINAL, REGISTERED
from booking.kernel import tx
from booking.models import BookingHistory, RecordChange, RecordSweepMark
from booking.records.xapi_statements import statements_for_change, statements_for_history

MARK_CHANGES = "xapi.record_changes"
MARK_HISTORY = "xapi.booking_history"
# Booking history ids come from a sequence, and PostgreSQL may commit them out of order; a row
# is only taken as settled (and passed by the sweep's mark) once it is this old. Transactions
# are far shorter (the statement timeout is 15 s).
HISTORY_SETTLE = timedelta(minutes=5)
SWEEP_BATCH = 500


async def queue_xapi_statements(db: Database, clock: Clock, settings: Settings) -> int:
    """Turn new record changes and booking history into xAPI outbox rows (idempotent: each
    statement's id is its dedupe key). Runs only when an LRS is configured."""
    from_changes = await tx.run(db, partial(_from_changes, clock=clock, settings=settings))
    return from_changes + await tx.run(db, partial(_from_history, clock=clock, settings=settings))


async def _from_changes(s: AsyncSession, *, clock: Clock, settings: Settings) -> int:
    now = clock.now()
    mark = await _mark(s, MARK_CHANGES)
    changes = (
        await s.scalars(
            select(RecordChange)
            .where(RecordChange.seq > mark)
            .order_by(RecordChange.seq)
            .limit(SWEEP_BATCH)
        )
    ).all()
    queued = 0
    for change in changes:
        queued += await statements_for_change(s, settings, change, now)
    if changes:
        # The feed is gap-free, so everything up to the last change seen is done.
        await _set_mark(s, MARK_CHANGES, changes[-1].seq)
    return queued


async def _from_history(s: AsyncSession, *, clock: Clock, settings: Settings) -> int:
    now = clock.now()
    mark = await _mark(s, MARK_HISTORY)
    rows = (
        await s.scalars(
            select(BookingHistory)
            .where(
                BookingHistory.id > mark,
                or_(
                    BookingHistory.to_state.in_(sorted(REGISTERED)),
                    BookingHistory.to_state.in_(sorted(FINAL)),
                ),
            )
            .order_by(BookingHistory.id)
            .limit(SWEEP_BATCH)
        )
    ).all()
    queued = 0
    for row in rows:
        queued += await statements_for_history(s, settings, row, now)
    settled = [r.id for r in rows if r.at <= now - HISTORY_SETTLE]
    # Rows after the first unsettled one are seen again next time (deduplicated).
    first_unsettled = next((r.id for r in rows if r.at > now - HISTORY_SETTLE), None)
    if first_unsettled is not None:
        settled = [i for i in settled if i < first_unsettled]
    if settled:
        await _set_mark(s, MARK_HISTORY, max(settled))
    elif first_unsettled is None and rows:
        await _set_mark(s, MARK_HISTORY, rows[-1].id)
    return queued


async def _mark(s: AsyncSession, name: str) -> int:
    row = await s.get(RecordSweepMark, name, with_for_update=True)
    if row is None:
        s.add(RecordSweepMark(name=name, position=0))
        await s.flush()
        return 0
    return int(row.position)


async def _set_mark(s: AsyncSession, name: str, position: int) -> None:
    await s.execute(
        update(RecordSweepMark).where(RecordSweepMark.name == name).values(position=position)
    )
