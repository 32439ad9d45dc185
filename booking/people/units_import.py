"""Importing organisation units from a CSV file, with a preview (see `csv_import`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import OrgUnit
from booking.people.csv_import import (
    Change,
    CsvRows,
    ImportOutcome,
    ImportPreview,
    PreviewRow,
    first_lines,
    import_when_clean,
    read_csv,
)
from booking.people.units import OrgUnitInput, _upsert_units

UNIT_COLUMNS = ("code", "name", "parent_code")
_ALIASES = {"unit_code": "code", "parent": "parent_code"}


@dataclass(frozen=True, slots=True)
class _Unit:
    name: str
    parent: str


async def preview_units_csv(db: Database, actor: Actor, text: str) -> ImportPreview:
    """What importing this file would do; nothing is written."""
    if not policy.can_manage_people(actor):
        raise ForbiddenError("Only administrators can change organisation units.")
    found = read_csv(text, UNIT_COLUMNS, ("code", "name"), _ALIASES)
    async with db.reading() as s:
        existing = await _existing(s)
    return _judge(found, existing)


async def import_units_csv(
    db: Database, clock: Clock, actor: Actor, text: str
) -> tuple[ImportPreview, ImportOutcome | None]:
    """Import the file in one transaction when no row is bad; otherwise write nothing and
    answer the preview (with no outcome)."""
    preview = await preview_units_csv(db, actor, text)
    return await import_when_clean(
        db,
        clock,
        actor,
        preview,
        action="org_units.imported",
        upsert=partial(_upsert_units, clock=clock, actor=actor, units=preview.inputs),
    )


async def _existing(s: AsyncSession) -> dict[str, _Unit]:
    rows = (
        await s.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id))
    ).all()
    codes = {r.id: r.code for r in rows}
    return {r.code: _Unit(r.name, codes.get(r.parent_id, "") if r.parent_id else "") for r in rows}


def _judge(found: CsvRows, existing: dict[str, _Unit]) -> ImportPreview:
    firsts = first_lines([(line, r.get("code", "")) for line, r in found.rows])
    final = {code: u.parent for code, u in existing.items()}
    merged_rows = []
    for line, cells in found.rows:
        was = existing.get(cells.get("code", ""))
        merged = {"parent_code": was.parent if was else "", **cells}
        merged_rows.append((line, merged))
        if firsts.get(merged.get("code", "")) == line:
            final[merged.get("code", "")] = merged["parent_code"]
    preview = ImportPreview("units", [])
    for line, cells in merged_rows:
        code = cells.get("code", "")
        reason = found.short.get(line) or _problem(cells, line, firsts, final)
        if reason:
            preview.rows.append(PreviewRow(line, code or "(no code)", "bad", reason=reason))
            continue
        unit = OrgUnitInput(code, cells["name"], cells["parent_code"] or None)
        preview.inputs.append(unit)
        preview.rows.append(_row(line, unit, existing.get(code)))
    return preview


def _problem(
    cells: dict[str, str], line: int, firsts: dict[str, int], final: dict[str, str]
) -> str | None:
    code, parent = cells.get("code", ""), cells["parent_code"]
    if not code:
        return "the code is empty."
    if len(code) > 64:
        return "the code is longer than 64 characters."
    if not cells.get("name", ""):
        return "the name is empty."
    if any(ord(c) < 32 or ord(c) == 127 for c in cells["name"]):
        return "the name contains a control character."
    if firsts[code] != line:
        return f"{code} is also on line {firsts[code]}."
    if parent == code:
        return "a unit cannot be its own parent."
    if parent and parent not in final:
        return f"the parent {parent} is neither in the file nor a unit here."
    seen: set[str] = set()
    node = final.get(parent) if parent else None
    while node and node not in seen:  # a loop above this unit is its own rows' problem
        if node == code:
            return f"{code} would be its own ancestor."
        seen.add(node)
        node = final.get(node)
    return None


def _row(line: int, unit: OrgUnitInput, was: _Unit | None) -> PreviewRow:
    if was is None:
        return PreviewRow(line, unit.code, "create", name=unit.name)
    changes = []
    if was.name != unit.name:
        changes.append(Change("Name", was.name, unit.name))
    if was.parent != (unit.parent_code or ""):
        changes.append(Change("Parent", was.parent, unit.parent_code or ""))
    status = "update" if changes else "unchanged"
    return PreviewRow(line, unit.code, status, unit.name, tuple(changes))
