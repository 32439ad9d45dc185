"""The administrators' people directory: everyone, searched and filtered a page at a time, and
one person's details. A fixed number of queries whatever the number of people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking import policy
from booking.db import Database
from booking.kernel.actors import ROLES, Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.models import OrgUnit, Person

PEOPLE_PAGE = 50
# The active filter's choices: the list shows active people unless asked otherwise.
STATUSES = ("active", "deactivated", "all")

_Manager = aliased(Person, name="manager")
_After = aliased(Person, name="after")


@dataclass(frozen=True, slots=True)
class PeopleFilter:
    """What the people list is asked for; `unit_id` includes that unit's sub-units."""

    query: str = ""
    unit_id: int | None = None
    role: str | None = None
    status: str = "active"
    cursor: int | None = None
    limit: int = PEOPLE_PAGE


@dataclass(frozen=True, slots=True)
class UnitOption:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str
    email: str
    personnel_number: str | None
    unit_name: str | None
    job_role: str | None
    staff_type: str
    manager_id: int | None
    manager_name: str | None
    roles: tuple[str, ...]
    active: bool


@dataclass(slots=True)
class PeoplePage:
    items: list[PersonRow]
    # The id of the last person shown when there are more (the next page starts after them).
    next_cursor: str | None
    units: list[UnitOption] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PersonDetails:
    person: PersonRow
    unit_code: str | None
    manager_email: str | None
    direct_reports: int
    created_at: datetime
    updated_at: datetime
    # Mandatory learning is due from it; None: the day they were created.
    start_date: date | None = None


def _require(actor: Actor) -> None:
    if not policy.can_look_up_people(actor):
        raise ForbiddenError("Only administrators can look people up.")


async def search_people(db: Database, actor: Actor, wanted: PeopleFilter) -> PeoplePage:
    """People by name (then id, so pages are stable), matching every word of the query in the
    name, email or personnel number, in the unit or its sub-units, holding the role."""
    _require(actor)
    async with db.reading() as s:
        units = (
            await s.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id))
        ).all()
        stmt = _matching(_people_rows(), wanted, _with_sub_units(units, wanted.unit_id))
        rows = (await s.execute(stmt.limit(wanted.limit + 1))).all()
    more = len(rows) > wanted.limit
    items = [_row(p, unit, manager) for p, unit, manager in rows[: wanted.limit]]
    options = sorted((UnitOption(u.id, u.code, u.name) for u in units), key=lambda u: u.name)
    return PeoplePage(items, str(items[-1].id) if more and items else None, options)


def _people_rows() -> Select[Person, str, str]:
    return (
        select(Person, OrgUnit.name, _Manager.name)
        .outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .outerjoin(_Manager, _Manager.id == Person.manager_id)
        .order_by(Person.name, Person.id)
    )


def _with_sub_units(units: Sequence[Any], unit_id: int | None) -> set[int] | None:
    """The unit and everything below it, or None for no unit filter."""
    if unit_id is None:
        return None
    children: dict[int | None, list[int]] = {}
    for u in units:
        children.setdefault(u[3], []).append(u[0])
    found: set[int] = set()
    todo = [unit_id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo.extend(children.get(node, []))
    return found


def _matching(
    stmt: Select[Person, str, str],
    wanted: PeopleFilter,
    unit_ids: set[int] | None,
) -> Select[Person, str, str]:
    for word in wanted.query.lower().split()[:8]:
        stmt = stmt.where(
            or_(
                func.lower(Person.name).contains(word, autoescape=True),
                Person.email.contains(word, autoescape=True),
                func.lower(Person.personnel_number).contains(word, autoescape=True),
            )
        )
    if unit_ids is not None:
        stmt = stmt.where(Person.org_unit_id.in_(sorted(unit_ids)))
    if wanted.role in ROLES:
        # Roles are one space-separated text: pad it so " admin " matches a whole role only.
        padded = literal(" ") + Person.roles + literal(" ")
        stmt = stmt.where(padded.contains(f" {wanted.role} ", autoescape=True))
    if wanted.status != "all":
        stmt = stmt.where(Person.active.is_(wanted.status == "active"))
    if wanted.cursor is not None:
        # Keyset: after the last person shown, in (name, id) order.
        last_name = select(_After.name).where(_After.id == wanted.cursor).scalar_subquery()
        stmt = stmt.where(
            or_(
                Person.name > last_name,
                and_(Person.name == last_name, Person.id > wanted.cursor),
            )
        )
    return stmt


def _row(p: Person, unit_name: str | None, manager_name: str | None) -> PersonRow:
    return PersonRow(
        id=p.id,
        name=p.name,
        email=p.email,
        personnel_number=p.personnel_number,
        unit_name=unit_name,
        job_role=p.job_role,
        staff_type=p.staff_type,
        manager_id=p.manager_id,
        manager_name=manager_name,
        roles=tuple(p.roles.split()),
        active=p.active,
    )


async def person_details(db: Database, actor: Actor, person_id: int) -> PersonDetails:
    """One person as the administrators' person page shows them."""
    _require(actor)
    async with db.reading() as s:
        return await _details(s, person_id)


async def _details(s: AsyncSession, person_id: int) -> PersonDetails:
    found = (
        await s.execute(
            select(Person, OrgUnit.name, _Manager.name, OrgUnit.code, _Manager.email)
            .outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
            .outerjoin(_Manager, _Manager.id == Person.manager_id)
            .where(Person.id == person_id)
        )
    ).first()
    if found is None:
        raise NotFoundError(f"There is no person {person_id}.")
    person, unit_name, manager_name, unit_code, manager_email = found
    reports = await s.scalar(
        select(func.count()).select_from(Person).where(Person.manager_id == person_id)
    )
    return PersonDetails(
        person=_row(person, unit_name, manager_name),
        unit_code=unit_code,
        manager_email=manager_email,
        direct_reports=reports or 0,
        created_at=person.created_at,
        updated_at=person.updated_at,
        start_date=person.start_date,
    )
