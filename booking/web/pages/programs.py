"""Learning programs on the pages: a learner's programs and one program's page (with their
progress), and the administrators' list and form.

Plain forms that work without JavaScript. A refusal shows the form again as sent, each message
on its field, with nothing saved (422 for input the rules refuse, 409 for a code another program
has); success redirects (303) to the list with a flash message."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from booking import policy, records
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.records import ProgramView
from booking.web.pages import program_form as pf
from booking.web.pages.forms import form_fields
from booking.web.pages.render import flash, page


def only_administrators(actor: Actor) -> None:
    if not policy.can_manage_programs(actor):
        raise ForbiddenError("Only administrators can manage learning programs.")


@get("/me/programs", include_in_schema=False)
async def my_programs_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    record = await records.my_record(db, clock, actor)
    return page(
        request, "booking/my_programs.html", actor=actor, nav="record", programs=record.programs
    )


@get("/programs/{program_id:int}", include_in_schema=False)
async def program_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, program_id: int
) -> Response[Any]:
    """The program's sets; for someone in its audience, their progress through it."""
    program = await records.get_program(db, actor, program_id)
    if program.archived_at is not None and not policy.can_manage_programs(actor):
        raise NotFoundError(f"There is no program {program_id}.")
    mine = None
    if policy.is_person(actor):
        record = await records.my_record(db, clock, actor)
        mine = next((p for p in record.programs if p.id == program_id), None)
    return page(
        request,
        "booking/program.html",
        actor=actor,
        nav="record",
        program=program,
        progress=mine,
        rule_labels=dict(pf.RULE_CHOICES),
    )


@get("/admin/programs", include_in_schema=False)
async def programs_admin_page(
    request: Request[Any, Any, Any], db: Database, actor: Actor
) -> Response[Any]:
    only_administrators(actor)
    programs = await records.list_programs(db, actor)
    return page(
        request, "booking/admin_programs.html", actor=actor, nav="programs", programs=programs
    )


@get("/admin/programs/new", include_in_schema=False)
async def new_program_form(request: Request[Any, Any, Any], actor: Actor) -> Response[Any]:
    only_administrators(actor)
    return _form_page(request, actor, pf.ProgramForm())


@post("/admin/programs/new", include_in_schema=False, status_code=200)
async def create_program(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    only_administrators(actor)
    sent, adding = await _read(request)
    if adding:
        return _form_page(request, actor, sent, focus=f"set_title_{len(sent.sets) - 1}")
    data, errors = pf.program_input(sent)
    if data is None:
        return _form_page(request, actor, sent, errors=errors, status_code=422)
    try:
        made = await records.create_program(db, clock, actor, data)
    except InvalidError as exc:
        errors = pf.placed(exc.field, sent, exc.detail)
        return _form_page(request, actor, sent, errors=errors, status_code=422)
    except ConflictError as exc:
        return _form_page(request, actor, sent, errors={"code": exc.detail}, status_code=409)
    flash(request, f"Program added: {made.title}.")
    return Redirect(path="/admin/programs", status_code=303)


@get("/admin/programs/{program_id:int}/edit", include_in_schema=False)
async def edit_program_form(
    request: Request[Any, Any, Any], db: Database, actor: Actor, program_id: int
) -> Response[Any]:
    only_administrators(actor)
    program = await records.get_program(db, actor, program_id)
    return _form_page(request, actor, pf.form_of(program), program=program)


@post("/admin/programs/{program_id:int}/edit", include_in_schema=False, status_code=200)
async def update_program(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, program_id: int
) -> Response[Any]:
    only_administrators(actor)
    program = await records.get_program(db, actor, program_id)
    sent, adding = await _read(request)
    if adding:
        focus = f"set_title_{len(sent.sets) - 1}"
        return _form_page(request, actor, sent, program=program, focus=focus)
    data, errors = pf.program_input(sent)
    if data is None:
        return _form_page(request, actor, sent, program=program, errors=errors, status_code=422)
    try:
        saved = await records.update_program(db, clock, actor, program_id, data)
    except InvalidError as exc:
        errors = pf.placed(exc.field, sent, exc.detail)
        return _form_page(request, actor, sent, program=program, errors=errors, status_code=422)
    except ConflictError as exc:
        errors = {"code": exc.detail}
        return _form_page(request, actor, sent, program=program, errors=errors, status_code=409)
    flash(request, f"Saved the changes to {saved.title}.")
    return Redirect(path="/admin/programs", status_code=303)


async def _read(request: Request[Any, Any, Any]) -> tuple[pf.ProgramForm, bool]:
    posted = await request.form()
    staff = (
        [v for v in posted.getall("audience_staff") if isinstance(v, str)]
        if ("audience_staff" in posted)
        else []
    )
    return pf.read_form(await form_fields(request), staff)


def _form_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    form: pf.ProgramForm,
    *,
    program: ProgramView | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    focus: str | None = None,
) -> Response[Any]:
    return page(
        request,
        "booking/admin_program_form.html",
        actor=actor,
        nav="programs",
        status_code=status_code,
        program=program,
        form=form,
        errors=errors or {},
        rules=pf.RULE_CHOICES,
        staff_types=pf.STAFF_TYPES,
        focus=focus,
    )


HANDLERS = [
    my_programs_page,
    program_page,
    programs_admin_page,
    new_program_form,
    create_program,
    edit_program_form,
    update_program,
]
