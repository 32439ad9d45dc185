"""API: who the token acts as, and the HR feed of people and organisation units."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, put

from booking import people
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import PersonView
from booking.web.api import schemas
from booking.web.inputs import admins_only


@get("/me", summary="The person the token acts as")
async def me(db: Database, actor: Actor) -> PersonView:
    return await people.get_me(db, actor)


@put(
    "/org-units",
    summary="Upsert organisation units (a tree)",
    status_code=200,
    guards=[admins_only],
)
async def put_org_units(
    db: Database, clock: Clock, actor: Actor, data: list[schemas.OrgUnitIn]
) -> dict[str, Any]:
    results = await people.upsert_org_units(
        db, clock, actor, [people.OrgUnitInput(u.code, u.name, u.parent_code) for u in data]
    )
    return {"items": [{"id": r.id, "code": r.code, "status": r.status} for r in results]}


@put("/people", summary="Upsert people", status_code=200, guards=[admins_only])
async def put_people(
    db: Database, clock: Clock, actor: Actor, data: list[schemas.PersonIn]
) -> dict[str, Any]:
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
                roles=p.roles or ["learner"],
                start_date=_start_date(p.start_date),
            )
            for p in data
        ],
    )
    return {"items": [{"id": r.id, "email": r.email, "status": r.status} for r in results]}


def _start_date(value: str | None | msgspec.UnsetType) -> str | None:
    """Omitted: None (left as it is); null: "" (cleared); else the text, checked by the service."""
    if isinstance(value, msgspec.UnsetType):
        return None
    return value if value is not None else ""
