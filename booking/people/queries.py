"""Reads about people: a person's profile, everyone, and the administrators other capabilities
ask for."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import Database
from booking.domain.vocabulary import Role, StaffType, TokenScope
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.kernel.views import MeView, PersonView, TokenView
from booking.models import ApiToken, OrgUnit, Person
from booking.people.tokens import hash_token

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
        roles=cast(list[Role], person.roles.split()),
        personnel_number=person.personnel_number,
        job_role=person.job_role,
        staff_type=cast(StaffType, person.staff_type),
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


async def who_am_i(db: Database, actor: Actor, token: str) -> MeView:
    """The person the token acts as (or the service it was made for), with the token's name,
    scope and last use."""
    async with db.reading() as s:
        row = await s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
        token_view = (
            TokenView(
                row.service_name, cast(TokenScope, row.scope), row.created_at, row.last_used_at
            )
            if row is not None
            else None
        )
        if actor.person_id is None:
            return MeView(
                None, actor.email, actor.name, [], None, None, None, None, None, token_view
            )
        person = await s.get(Person, actor.person_id)
        if person is None:
            raise NotFoundError("This person no longer exists.")
        p = await person_view(s, person)
    return MeView(
        p.id,
        p.email,
        p.name,
        p.roles,
        p.personnel_number,
        p.job_role,
        p.staff_type,
        p.org_unit,
        p.manager_email,
        token_view,
    )


async def list_people(db: Database, *, active_only: bool = False) -> list[PersonView]:
    """Everyone, by name (only those who may sign in, with `active_only`: the demo's
    pick-a-person login)."""
    async with db.reading() as s:
        stmt = select(Person).order_by(Person.name)
        if active_only:
            stmt = stmt.where(Person.active.is_(True))
        people = (await s.scalars(stmt)).all()
        return [await person_view(s, p) for p in people]
