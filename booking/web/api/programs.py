"""JSON API for learning programs: administrators create and replace them; anyone with a token
reads one (API.md "Mandatory learning")."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, post, put

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.domain.learning_vocabulary import ProgramSetRule
from booking.kernel.actors import Actor
from booking.models import Program, ProgramSet
from booking.web.api.schemas import AudienceIn, CourseCode, Int32, text
from booking.web.inputs import admins_only


class ProgramSetIn(msgspec.Struct):
    title: Annotated[str, text(ProgramSet.title)]
    rule: ProgramSetRule
    course_codes: Annotated[list[CourseCode], msgspec.Meta(max_length=500)] = []


class ProgramIn(msgspec.Struct):
    code: Annotated[str, text(Program.code)]
    title: Annotated[str, text(Program.title)]
    summary: Annotated[str, text(5000)] = ""
    audience: AudienceIn | None = None
    due_within_days: Int32 | None = None
    sets: Annotated[list[ProgramSetIn], msgspec.Meta(max_length=200)] = []
    archived: bool = False


def program_input(data: ProgramIn) -> records.ProgramInput:
    return records.ProgramInput(
        code=data.code,
        title=data.title,
        summary=data.summary,
        audience={k: v for k, v in msgspec.to_builtins(data.audience).items() if v}
        if data.audience
        else None,
        due_within_days=data.due_within_days,
        sets=[records.ProgramSetInput(x.title, x.rule, list(x.course_codes)) for x in data.sets],
        archived=data.archived,
    )


@post("/programs", summary="Create a learning program", guards=[admins_only])
async def create_program(
    db: Database, clock: Clock, actor: Actor, data: ProgramIn
) -> records.ProgramView:
    return await records.create_program(db, clock, actor, program_input(data))


@put(
    "/programs/{program_id:int}",
    summary="Replace a learning program",
    status_code=200,
    guards=[admins_only],
)
async def update_program(
    db: Database, clock: Clock, actor: Actor, program_id: int, data: ProgramIn
) -> records.ProgramView:
    return await records.update_program(db, clock, actor, program_id, program_input(data))


@get("/programs/{program_id:int}", summary="A learning program")
async def get_program(db: Database, actor: Actor, program_id: int) -> records.ProgramView:
    return await records.get_program(db, actor, program_id)


def programs_api_router() -> Router:
    """Mounted inside the `/api/v1` router (which provides `actor`)."""
    return Router(
        path="/",
        route_handlers=[create_program, update_program, get_program],
        tags=["programs"],
    )
