"""API: who the token acts as, and the HR feed of people and organisation units."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, put

from booking import people
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import MeView
from booking.web.api import schemas
from booking.web.api.answers_core import (
    OrgUnitUpserted,
    OrgUnitUpserts,
    PersonUpserted,
    PersonUpserts,
)
from booking.web.inputs import admins_only


@get(
    "/me",
    summary="The person the token acts as, and the token",
    description="A service token (records scope) acts as no person: `id` is null and `token` "
    "names the service. `token.last_used_at` is noted for service tokens only.",
)
async def me(request: Request[Any, Any, Any], db: Database, actor: Actor) -> MeView:
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    return await people.who_am_i(db, actor, token)


@put(
    "/org-units",
    summary="Upsert organisation units (a tree)",
    status_code=200,
    guards=[admins_only],
)
async def put_org_units(
    db: Database, clock: Clock, actor: Actor, data: list[schemas.OrgUnitIn]
) -> OrgUnitUpserts:
    results = await people.upsert_org_units(
        db, clock, actor, [people.OrgUnitInput(u.code, u.name, u.parent_code) for u in data]
    )
    return OrgUnitUpserts([OrgUnitUpserted(r.id, r.code or "", r.status) for r in results])


@put("/people", summary="Upsert people", status_code=200, guards=[admins_only])
async def put_people(
    db: Database, clock: Clock, actor: Actor, data: list[schemas.PersonIn]
) -> PersonUpserts:
    results = await people.upsert_people(
        db,
        clock,
        actor,
        [
            people.PersonInput(
                email=p.email,
                name=p.name,
                personnel_number=p.personnel_number,
                manager_email=p.manager_email,
                org_unit=p.org_unit,
                job_role=p.job_role,
                staff_type=p.staff_type,
                roles=list[str](p.roles or ["learner"]),
                start_date=_start_date(p.start_date),
            )
            for p in data
        ],
    )
    return PersonUpserts([PersonUpserted(r.id, r.email or "", r.status) for r in results])


def _start_date(value: str | None | msgspec.UnsetType) -> str | None:
    """Omitted: None (left as it is); null: "" (cleared); else the text, checked by the service."""
    if isinstance(value, msgspec.UnsetType):
        return None
    return value if value is not None else ""
