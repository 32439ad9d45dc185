"""Reads about people: a person's profile, everyone, and the administrators other capabilities
ask for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.kernel.views import PersonView
from booking.models import OrgUnit, Person

# Roles are stored as one comma-separated text; no other role's name contains "admin".
_ACTIVE_ADMINS = (
    select(Person.id)
    .where(Person.roles.like("%admin%"), Person.active.is_(True))
    .order_by(Person.id)
)


async def active_admin_ids(s: AsyncSession) -> list[int]:
    """Everyone who may act for the training team now: the active administrators."""
    return list((await s.scalars(_ACTIVE_ADMINS)).all())


async def person_view(s: AsyncSession, person: Person) -> PersonView:
    unit = await s.get(OrgUnit, person.org_unit_id) if person.org_unit_id else None
    manager = await s.get(Person, person.manager_id) if person.manager_id else None
    return PersonView(
        id=person.id,
        email=person.email,
        name=person.name,
        roles=person.roles.split(),
        personnel_number=person.personnel_number,
        job_role=person.job_role,
        staff_type=person.staff_type,
        org_unit=unit.code if unit else None,
        manager_email=manager.email if manager else None,
    )


async def get_me(db: Database, actor: Actor) -> PersonView:
    if actor.person_id is None:
        raise NotFoundError("This token does not act as a person.")
    async with db.reading() as s:
        person = await s.get(Person, actor.person_id)
        if person is None:
            raise NotFoundError("This person no longer exists.")
        return await person_view(s, person)


async def list_people(db: Database, *, active_only: bool = False) -> list[PersonView]:
    """Everyone, by name (only those who may sign in, with `active_only`: the demo's
    pick-a-person login)."""
    async with db.reading() as s:
        stmt = select(Person).order_by(Person.name)
        if active_only:
            stmt = stmt.where(Person.active.is_(True))
        people = (await s.scalars(stmt)).all()
        return [await person_view(s, p) for p in people]
