"""Importing people: create or update by email, with their unit, manager and roles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.vocabulary import UpsertStatus
from booking.kernel import audit, tx
from booking.kernel.actors import ROLES, Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.models import OrgUnit, Person
from booking.people.upserts import UpsertResult, record_upsert

STAFF_TYPES = ("payroll", "casual", "associate", "external")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")


def normalise_email(email: str, field_name: str = "email") -> str:
    value = (email or "").strip().lower()
    if not EMAIL.match(value) or len(value) > 320:
        raise InvalidError(f"“{email}” is not an email address.", field_name)
    return value


@dataclass(frozen=True, slots=True)
class PersonInput:
    email: str
    name: str
    personnel_number: str | None = None
    manager_email: str | None = None
    org_unit: str | None = None
    job_role: str | None = None
    staff_type: str = "payroll"
    roles: list[str] = field(default_factory=lambda: ["learner"])
    # YYYY-MM-DD; "" clears it; None leaves it as it is.
    start_date: str | None = None


async def upsert_people(
    db: Database, clock: Clock, actor: Actor, people: list[PersonInput]
) -> list[UpsertResult]:
    """Create or update people by email (personnel number kept unique). Managers may be listed
    after their reports."""
    if not policy.can_manage_people(actor):
        raise ForbiddenError("Only administrators can import people.")
    cleaned = [clean_person(i, p) for i, p in enumerate(people)]
    emails = [p.email for p in cleaned]
    if len(set(emails)) != len(emails):
        raise InvalidError("An email address appears twice in the list.", "email")
    return await tx.run(db, partial(write_people, clock=clock, actor=actor, cleaned=cleaned))


async def write_people(
    s: AsyncSession, *, clock: Clock, actor: Actor, cleaned: list[PersonInput]
) -> list[UpsertResult]:
    """The upsert inside the caller's transaction, for people already `clean_person`ed (an
    approved account request creates its person this way, in the approval's transaction)."""
    now = clock.now()
    units = dict((await s.execute(select(OrgUnit.code, OrgUnit.id))).all())
    emails = [p.email for p in cleaned]
    by_email = {p.email: p for p in await s.scalars(select(Person).where(Person.email.in_(emails)))}
    results: list[UpsertResult] = []
    for p in cleaned:
        if p.org_unit and p.org_unit not in units:
            raise InvalidError(f"{p.email}: unknown organisation unit {p.org_unit}.", "org_unit")
        values = _person_values(p, units)
        row = by_email.get(p.email)
        if row is None:
            row = await _add_person(s, actor, p.email, values, now)
            by_email[p.email] = row
            results.append(UpsertResult(0, "created", email=p.email))
        else:
            changed = await _update_person(s, actor, row, values, now)
            status: UpsertStatus = "updated" if changed else "unchanged"
            results.append(UpsertResult(row.id, status, email=p.email))
    await s.flush()
    await _link_managers(s, cleaned, by_email, results)
    await _check_personnel_numbers(s)
    await record_upsert(s, "people.upserted", actor, results, now=now)
    return results


def _person_values(p: PersonInput, units: dict[str, int]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": p.name,
        "personnel_number": p.personnel_number,
        "org_unit_id": units.get(p.org_unit) if p.org_unit else None,
        "job_role": p.job_role,
        "staff_type": p.staff_type,
        "roles": " ".join(sorted(set(p.roles))),
    }
    if p.start_date is not None:
        values["start_date"] = date.fromisoformat(p.start_date) if p.start_date else None
    return values


async def _add_person(
    s: AsyncSession, actor: Actor, email: str, values: dict[str, Any], now: datetime
) -> Person:
    if values["roles"] != "learner":
        await _record_roles(s, actor, email, None, values["roles"], now)
    row = Person(email=email, created_at=now, updated_at=now, **values)
    s.add(row)
    return row


async def _update_person(
    s: AsyncSession, actor: Actor, row: Person, values: dict[str, Any], now: datetime
) -> bool:
    """Write the imported values; whether anything changed."""
    changed = any(getattr(row, k) != v for k, v in values.items())
    if row.roles != values["roles"]:
        await _record_roles(s, actor, row.email, row.roles, values["roles"], now)
    for k, v in values.items():
        setattr(row, k, v)
    if changed:
        row.updated_at = now
    return changed


async def _record_roles(
    s: AsyncSession, actor: Actor, email: str, was: str | None, now_roles: str, now: datetime
) -> None:
    await audit.record(
        s,
        action="person.roles_changed",
        now=now,
        actor=actor,
        target=email,
        details={"from": was, "to": now_roles},
    )


async def _link_managers(
    s: AsyncSession,
    cleaned: list[PersonInput],
    by_email: dict[str, Person],
    results: list[UpsertResult],
) -> None:
    """Point each person at their manager (listed, or already in the database)."""
    manager_emails = {p.manager_email for p in cleaned if p.manager_email} - set(by_email)
    if manager_emails:
        for m in await s.scalars(select(Person).where(Person.email.in_(manager_emails))):
            by_email[m.email] = m
    for p, result in zip(cleaned, results, strict=True):
        row = by_email[p.email]
        manager_id = None
        if p.manager_email:
            manager = by_email.get(p.manager_email)
            if manager is None:
                raise InvalidError(
                    f"{p.email}: unknown manager {p.manager_email}.", "manager_email"
                )
            if manager.id == row.id:
                raise InvalidError(f"{p.email} cannot manage themselves.", "manager_email")
            manager_id = manager.id
        if row.manager_id != manager_id:
            row.manager_id = manager_id
            if result.status == "unchanged":
                result.status = "updated"
        result.id = row.id


def clean_person(index: int, p: PersonInput) -> PersonInput:
    email = normalise_email(p.email, "email")
    if not p.name.strip():
        raise InvalidError(f"Person {index + 1} ({email}) needs a name.", "name")
    for label, value in (("name", p.name), ("job_role", p.job_role or "")):
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise InvalidError(
                f"{email}: the {label.replace('_', ' ')} contains a line break or control "
                "character.",
                label,
            )
    if p.staff_type not in STAFF_TYPES:
        raise InvalidError(
            f"{email}: staff_type must be payroll, casual, associate or external.", "staff_type"
        )
    roles = _clean_roles(email, p.roles)
    start = p.start_date.strip() if p.start_date is not None else None
    if start and (not DATE.match(start) or _date(start) is None):
        raise InvalidError(
            f"{email}: the start date must be a date written YYYY-MM-DD.", "start_date"
        )
    return PersonInput(
        email=email,
        name=p.name.strip(),
        personnel_number=(p.personnel_number or "").strip() or None,
        manager_email=normalise_email(p.manager_email, "manager_email")
        if p.manager_email
        else None,
        org_unit=(p.org_unit or "").strip() or None,
        job_role=(p.job_role or "").strip() or None,
        staff_type=p.staff_type,
        roles=roles,
        start_date=start,
    )


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _clean_roles(email: str, roles: list[str]) -> list[str]:
    cleaned = list(roles or ["learner"])
    for role in cleaned:
        if role not in ROLES:
            raise InvalidError(
                f"{email}: “{role}” is not a role; use learner, trainer, budget_holder or admin.",
                "roles",
            )
    if "learner" not in cleaned:
        cleaned.append("learner")
    return cleaned


async def _check_personnel_numbers(s: AsyncSession) -> None:
    # The unique constraint would catch it at commit; a sentence is kinder than an IntegrityError.
    dupes = (
        (
            await s.execute(
                select(Person.personnel_number)
                .where(Person.personnel_number.is_not(None))
                .group_by(Person.personnel_number)
                .having(func.count() > 1)
            )
        )
        .scalars()
        .all()
    )
    if dupes:
        raise InvalidError(
            "Personnel numbers must be unique: " + ", ".join(sorted(d for d in dupes if d)),
            "personnel_number",
        )
