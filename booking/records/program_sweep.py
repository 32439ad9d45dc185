"""Who each learning program applies to, kept by a worker sweep (`booking.jobs.tick`).

Set-based: the programs, the active people, their units and the assignments are read in a fixed
number of statements; the new assignments are one insert and the changed ones one update per
500, whatever the number of people. A person newly in a program's audience gets an assignment
(`applied_at`: now, the day it applied to them, from which the due date runs); one who left it
has theirs closed, and reopened (keeping `applied_at`) if they come back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.models import OrgUnit, Person, Program, ProgramAssignment
from booking.records.facts import Learner, _unit_path, chunks
from booking.records.program_progress import in_audience


async def sync_program_assignments(db: Database, clock: Clock) -> int:
    """Bring the assignments in line with the programs' audiences; how many rows changed."""

    async def work(s: AsyncSession) -> int:
        return await _sync(s, clock.now())

    return await tx.run(db, work)


async def _sync(s: AsyncSession, now: datetime) -> int:
    # Locked: a second worker's sweep waits here, then reads the first one's assignments
    # (committed by then) and finds nothing to add (the unique index would refuse a double).
    programs = list(
        await s.scalars(
            select(Program)
            .where(Program.archived_at.is_(None))
            .order_by(Program.id)
            .with_for_update()
        )
    )
    if not programs:
        return 0
    people = list(await s.scalars(select(Person).where(Person.active.is_(True))))
    units = {u.id: u for u in await s.scalars(select(OrgUnit))}
    existing = {
        (a.program_id, a.person_id): (a.id, a.closed_at)
        for a in await s.scalars(
            select(ProgramAssignment).where(
                ProgramAssignment.program_id.in_([p.id for p in programs])
            )
        )
    }
    wanted: set[tuple[int, int]] = set()
    for person in people:
        learner = Learner(person, _unit_path(person.org_unit_id, units), None, None)
        wanted.update((p.id, person.id) for p in programs if in_audience(p.audience, learner))
    new = [
        {"program_id": pid, "person_id": uid, "applied_at": now, "closed_at": None}
        for pid, uid in sorted(wanted - set(existing))
    ]
    reopen = sorted(existing[k][0] for k in wanted & set(existing) if existing[k][1] is not None)
    close = sorted(i for k, (i, closed) in existing.items() if k not in wanted and closed is None)
    if new:
        await s.execute(insert(ProgramAssignment), new)
    for chunk in chunks(reopen, 500):
        await s.execute(
            update(ProgramAssignment).where(ProgramAssignment.id.in_(chunk)).values(closed_at=None)
        )
    for chunk in chunks(close, 500):
        await s.execute(
            update(ProgramAssignment).where(ProgramAssignment.id.in_(chunk)).values(closed_at=now)
        )
    changed = len(new) + len(reopen) + len(close)
    if changed:
        await audit.record(
            s,
            action="program.assignments_synced",
            now=now,
            actor=Actor.system(),
            target="programs",
            details={"assigned": len(new), "reopened": len(reopen), "closed": len(close)},
        )
    return changed
