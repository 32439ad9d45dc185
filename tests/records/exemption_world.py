"""The exemption tests' organisation: the usual world, plus Bo Boss above the manager (so the
manager's reports are Bo's indirect reports), Olive Owner who owns a mandatory course, and a
course whose owner is a team mailbox with no account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from litestar.testing import AsyncTestClient

from booking import catalogue, people, records
from booking.app import create_app
from booking.catalogue import CourseInput
from tests import support


@dataclass
class ExWorld:
    world: support.World
    url: str
    course_id: int  # SAFE-1, mandatory, owned by Olive
    team_course_id: int  # FIRE-1, mandatory, owned by a team mailbox
    ids: dict[str, int]


async def make_ex_world(world: support.World, url: str) -> ExWorld:
    db, clock, admin = world.db, world.clock, world.admin
    await people.upsert_people(
        db,
        clock,
        admin,
        [
            people.PersonInput("boss@example.org", "Bo Boss", "P010", None, "ORG", "Director"),
            people.PersonInput("owner@example.org", "Olive Owner", "P011", None, "ORG", "Lead"),
            people.PersonInput(
                "manager@example.org", "Mo Manager", "P001", "boss@example.org", "ADULT", "TM"
            ),
        ],
    )
    await catalogue.update_course(
        db,
        clock,
        admin,
        world.course_id,
        CourseInput(code="SAFE-1", title="Safeguarding Adults", owner_email="owner@example.org"),
    )
    fire = await catalogue.create_course(
        db,
        clock,
        admin,
        CourseInput(code="FIRE-1", title="Fire Safety", owner_email="fire.team@example.org"),
    )
    for course_id in (world.course_id, fire.id):
        await records.set_course_rules(
            db,
            clock,
            admin,
            course_id,
            completion_mode=None,
            criteria=[],
            mandatory=True,
            due_within_days=30,
        )
    ids = {p.email.split("@")[0]: p.id for p in await people.list_people(db)}
    return ExWorld(world, url, world.course_id, fire.id, ids)


def client_for(ex: ExWorld) -> AsyncTestClient[Any]:
    app = create_app(
        support.settings_for(ex.url, demo=True, base_url="https://training.example.org"),
        clock=ex.world.clock,
        run_worker=False,
    )
    return AsyncTestClient(app=app, base_url="https://training.example.org")


async def headers(ex: ExWorld, who: str) -> dict[str, str]:
    if who == "admin":
        return {"Authorization": f"Bearer {ex.world.admin_token}"}
    value = await people.create_token(ex.world.db, ex.world.clock, email=f"{who}@example.org")
    return {"Authorization": f"Bearer {value}"}


def body(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "learner_email": "lee@example.org",
        "course_code": "SAFE-1",
        "kind": "exemption",
        "reason": "Qualified social worker: covered by registration",
    }
    for key, value in kw.items():
        out[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return out
