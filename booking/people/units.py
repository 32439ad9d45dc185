"""Organisation units: importing the tree (create or update by code, parents by code)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel import tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.models import OrgUnit
from booking.people.upserts import UpsertResult, record_upsert


@dataclass(frozen=True, slots=True)
class OrgUnitInput:
    code: str
    name: str
    parent_code: str | None = None


async def upsert_org_units(
    db: Database, clock: Clock, actor: Actor, units: list[OrgUnitInput]
) -> list[UpsertResult]:
    """Create or update a tree of units. Parents may come later in the list than children."""
    if not policy.can_manage_people(actor):
        raise ForbiddenError("Only administrators can change organisation units.")
    _check_units(units)
    return await tx.run(db, partial(_upsert_units, clock=clock, actor=actor, units=units))


def _check_units(units: list[OrgUnitInput]) -> None:
    codes = [u.code.strip() for u in units]
    for i, unit in enumerate(units):
        if not unit.code.strip() or len(unit.code) > 64:
            raise InvalidError(f"Unit {i + 1} needs a code of at most 64 characters.", "code")
        if not unit.name.strip():
            raise InvalidError(f"Unit {unit.code} needs a name.", "name")
        if unit.parent_code == unit.code:
            raise InvalidError(f"Unit {unit.code} cannot be its own parent.", "parent_code")
    if len(set(codes)) != len(codes):
        raise InvalidError("A unit code appears twice in the list.", "code")


async def _upsert_units(
    s: AsyncSession, *, clock: Clock, actor: Actor, units: list[OrgUnitInput]
) -> list[UpsertResult]:
    codes = [u.code.strip() for u in units]
    existing = {u.code: u for u in await s.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))}
    results = _write_units(s, units, existing)
    await s.flush()
    await _link_parents(s, units, existing, results)
    await s.flush()
    await _refuse_cycles(s)
    ordered = [results[u.code] for u in units]
    await record_upsert(s, "org_units.upserted", actor, ordered, now=clock.now())
    return ordered


def _write_units(
    s: AsyncSession, units: list[OrgUnitInput], existing: dict[str, OrgUnit]
) -> dict[str, UpsertResult]:
    """Add the new units and rename the known ones; `existing` learns the new rows."""
    results: dict[str, UpsertResult] = {}
    for unit in units:
        row = existing.get(unit.code)
        if row is None:
            row = OrgUnit(code=unit.code.strip(), name=unit.name.strip())
            s.add(row)
            existing[unit.code] = row
            results[unit.code] = UpsertResult(0, "created", code=unit.code)
        else:
            changed = row.name != unit.name.strip()
            row.name = unit.name.strip()
            results[unit.code] = UpsertResult(
                0, "updated" if changed else "unchanged", code=unit.code
            )
    return results


async def _link_parents(
    s: AsyncSession,
    units: list[OrgUnitInput],
    existing: dict[str, OrgUnit],
    results: dict[str, UpsertResult],
) -> None:
    """Point each unit at its parent (listed, or already in the database)."""
    parents_wanted = {u.parent_code for u in units if u.parent_code} - set(existing)
    if parents_wanted:
        for parent in await s.scalars(select(OrgUnit).where(OrgUnit.code.in_(parents_wanted))):
            existing[parent.code] = parent
    for unit in units:
        row = existing[unit.code]
        parent_id = None
        if unit.parent_code:
            found = existing.get(unit.parent_code)
            if found is None:
                raise InvalidError(
                    f"Unit {unit.code} names an unknown parent {unit.parent_code}.",
                    "parent_code",
                )
            parent_id = found.id
        if row.parent_id != parent_id:
            row.parent_id = parent_id
            if results[unit.code].status == "unchanged":
                results[unit.code].status = "updated"
        results[unit.code].id = row.id


async def _refuse_cycles(s: AsyncSession) -> None:
    """No unit may be its own ancestor (checked over the whole tree, after the change)."""
    parents = dict((await s.execute(select(OrgUnit.id, OrgUnit.parent_id))).all())
    codes = dict((await s.execute(select(OrgUnit.id, OrgUnit.code))).all())
    for start in parents:
        seen: set[int] = set()
        node: int | None = start
        while node is not None:
            if node in seen:
                raise InvalidError(f"Unit {codes[start]} would be its own ancestor.", "parent_code")
            seen.add(node)
            node = parents.get(node)
