"""Importing people from a CSV file, with a preview (see `csv_import`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.models import OrgUnit, Person
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
from booking.people.people import PersonInput, clean_person, normalise_email, write_people

PEOPLE_COLUMNS = (
    "email",
    "name",
    "personnel_number",
    "unit_code",
    "manager_email",
    "job_role",
    "staff_type",
    "roles",
    "start_date",
)
_ALIASES = {"unit": "unit_code", "org_unit": "unit_code", "role": "roles"}
_LABELS = {
    "name": "Name",
    "personnel_number": "Personnel number",
    "unit_code": "Unit",
    "manager_email": "Manager",
    "job_role": "Job role",
    "staff_type": "Staff type",
    "roles": "Roles",
    "start_date": "Start date",
}


@dataclass(slots=True)
class _Facts:
    """What the database holds for the file's people: their values as a CSV would give them."""

    people: dict[str, dict[str, str]]
    ids: dict[str, int]
    units: set[str]
    numbers: dict[str, str]


async def preview_people_csv(db: Database, actor: Actor, text: str) -> ImportPreview:
    """What importing this file would do; nothing is written."""
    if not policy.can_manage_people(actor):
        raise ForbiddenError("Only administrators can import people.")
    found = read_csv(text, PEOPLE_COLUMNS, ("email", "name"), _ALIASES)
    async with db.reading() as s:
        facts = await _facts(s, found)
    return _judge(found, facts, actor)


async def import_people_csv(
    db: Database, clock: Clock, actor: Actor, text: str
) -> tuple[ImportPreview, ImportOutcome | None]:
    """Import the file in one transaction when no row is bad; otherwise write nothing and
    answer the preview (with no outcome)."""
    preview = await preview_people_csv(db, actor, text)
    return await import_when_clean(
        db,
        clock,
        actor,
        preview,
        action="people.imported",
        upsert=partial(write_people, clock=clock, actor=actor, cleaned=preview.inputs),
    )


def _email(value: str) -> str:
    return value.strip().lower()


async def _facts(s: AsyncSession, found: CsvRows) -> _Facts:
    emails = {_email(r.get("email", "")) for _, r in found.rows}
    emails |= {_email(r.get("manager_email", "")) for _, r in found.rows} - {""}
    rows = (await s.scalars(select(Person).where(Person.email.in_(emails)))).all()
    unit_codes = dict((await s.execute(select(OrgUnit.id, OrgUnit.code))).all())
    manager_ids = {p.manager_id for p in rows if p.manager_id}
    managers = dict(
        (await s.execute(select(Person.id, Person.email).where(Person.id.in_(manager_ids)))).all()
    )
    wanted = {r.get("personnel_number", "") for _, r in found.rows} - {""}
    held = await s.execute(
        select(Person.personnel_number, Person.email).where(Person.personnel_number.in_(wanted))
    )
    numbers = {number: email for number, email in held.all() if number}
    people = {p.email: _as_csv(p, unit_codes, managers) for p in rows}
    return _Facts(people, {p.email: p.id for p in rows}, set(unit_codes.values()), numbers)


def _as_csv(p: Person, units: dict[int, str], managers: dict[int, str]) -> dict[str, str]:
    return {
        "email": p.email,
        "name": p.name,
        "personnel_number": p.personnel_number or "",
        "unit_code": units.get(p.org_unit_id, "") if p.org_unit_id else "",
        "manager_email": managers.get(p.manager_id, "") if p.manager_id else "",
        "job_role": p.job_role or "",
        "staff_type": p.staff_type,
        "roles": p.roles,
        "start_date": p.start_date.isoformat() if p.start_date else "",
    }


def _judge(found: CsvRows, facts: _Facts, actor: Actor) -> ImportPreview:
    firsts = first_lines([(line, _email(r.get("email", ""))) for line, r in found.rows])
    in_file = set(firsts)
    numbers = dict(facts.numbers)
    for _, r in found.rows:
        if r.get("personnel_number"):
            numbers.setdefault(r["personnel_number"], _email(r.get("email", "")))
    preview = ImportPreview("people", [])
    for line, cells in found.rows:
        email = _email(cells.get("email", ""))
        was = facts.people.get(email)
        merged = {**(was or {}), **cells, "email": email}
        reason = found.short.get(line) or _problem(merged, line, firsts, in_file, facts, numbers)
        if reason is None and facts.ids.get(email) == actor.person_id:
            reason = _own_admin(merged, was)
        person = None if reason else _person(merged, line)
        if isinstance(person, str):
            reason, person = person, None
        if reason or person is None:
            preview.rows.append(PreviewRow(line, email or "(no email)", "bad", reason=reason or ""))
            continue
        preview.inputs.append(person)
        preview.rows.append(_row(line, person, was))
    return preview


def _problem(
    cells: dict[str, str],
    line: int,
    firsts: dict[str, int],
    in_file: set[str],
    facts: _Facts,
    numbers: dict[str, str],
) -> str | None:
    email = cells["email"]
    if not cells.get("name", "").strip():
        return "the name is empty."
    if email and firsts.get(email) != line:
        return f"{email} is also on line {firsts[email]}."
    unit = cells.get("unit_code", "")
    if unit and unit not in facts.units:
        return f"there is no organisation unit with the code {unit}."
    manager = _email(cells.get("manager_email", ""))
    if manager and manager == email:
        return "a person cannot be their own manager."
    if manager and manager not in in_file and manager not in facts.people:
        return f"the manager {manager} is neither in the file nor a person here."
    number = cells.get("personnel_number", "")
    holder = numbers.get(number)
    if number and holder and holder != email:
        return f"personnel number {number} belongs to {holder}."
    return None


def _roles(cells: dict[str, str]) -> list[str]:
    return [r for r in re.split(r"[\s,;]+", cells.get("roles", "").lower()) if r]


def _own_admin(cells: dict[str, str], was: dict[str, str] | None) -> str | None:
    kept = "admin" in _roles(cells) or "admin" not in (was or {}).get("roles", "")
    return None if kept else "you cannot take away your own administrator role here."


def _person(cells: dict[str, str], line: int) -> PersonInput | str:
    """The row as the upsert takes it, or why it cannot be."""
    roles = _roles(cells)
    try:
        if cells.get("manager_email"):
            normalise_email(cells["manager_email"], "manager_email")
        return clean_person(
            line,
            PersonInput(
                email=cells["email"],
                name=cells.get("name", ""),
                personnel_number=cells.get("personnel_number") or None,
                manager_email=cells.get("manager_email") or None,
                org_unit=cells.get("unit_code") or None,
                job_role=cells.get("job_role") or None,
                staff_type=cells.get("staff_type") or "payroll",
                roles=roles or ["learner"],
                start_date=cells.get("start_date", "").strip(),
            ),
        )
    except InvalidError as exc:
        return _sentence(exc.detail)


def _sentence(detail: str) -> str:
    """A service message as the reason on a row (the row already names the person)."""
    return detail[0].lower() + detail[1:] if detail else detail


def _row(line: int, p: PersonInput, was: dict[str, str] | None) -> PreviewRow:
    now = {
        "name": p.name,
        "personnel_number": p.personnel_number or "",
        "unit_code": p.org_unit or "",
        "manager_email": p.manager_email or "",
        "job_role": p.job_role or "",
        "staff_type": p.staff_type,
        "roles": " ".join(sorted(set(p.roles))),
        "start_date": p.start_date or "",
    }
    if was is None:
        return PreviewRow(line, p.email, "create", name=p.name)
    changes = tuple(
        Change(_LABELS[k], was.get(k, ""), v) for k, v in now.items() if was.get(k, "") != v
    )
    return PreviewRow(line, p.email, "update" if changes else "unchanged", p.name, changes)
