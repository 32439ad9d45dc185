"""The administrators' people pages: the people list, a person's page (roles with a reason,
deactivate and reactivate) and the organisation unit tree."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from booking import bookings, people
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import ROLES, Actor
from booking.kernel.errors import InvalidError
from booking.web.pages.forms import form_fields, search_query
from booking.web.pages.render import flash, page

ROLE_LABELS = {
    "learner": "Learner",
    "trainer": "Trainer",
    "budget_holder": "Budget holder",
    "admin": "Administrator",
}
STATUS_LABELS = {"active": "Active", "deactivated": "Deactivated", "all": "Everyone"}
# Ids in links are database keys: anything else (or out of range) means "not chosen".
_MAX_ID = 2**63 - 1


def _id(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 < number <= _MAX_ID else None


@get("/admin/people", include_in_schema=False)
async def people_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    q: str | None = None,
    unit: str | None = None,
    role: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
) -> Template:
    wanted = people.PeopleFilter(
        query=search_query(q),
        unit_id=_id(unit),
        role=role if role in ROLES else None,
        status=status if status in people.STATUSES else "active",
        cursor=_id(cursor),
    )
    found = await people.search_people(db, actor, wanted)
    chosen = {
        "q": wanted.query,
        "unit": wanted.unit_id or "",
        "role": wanted.role or "",
        "status": wanted.status,
    }
    more = urlencode({**chosen, "cursor": found.next_cursor}) if found.next_cursor else None
    return page(
        request,
        "booking/admin_people.html",
        actor=actor,
        nav="people",
        wanted=wanted,
        found=found,
        next_link=f"/admin/people?{more}" if more else None,
        first_page=f"/admin/people?{urlencode(chosen)}",
        role_labels=ROLE_LABELS,
        status_labels=STATUS_LABELS,
    )


@get("/admin/people/{person_id:int}", include_in_schema=False)
async def person_page(
    request: Request[Any, Any, Any], db: Database, actor: Actor, person_id: int
) -> Template:
    return await _person_page(request, db, actor, person_id)


async def _person_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    person_id: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    details = await people.person_details(db, actor, person_id)
    history = await bookings.person_bookings(db, actor, person_id)
    typed = typed or {}
    return page(
        request,
        "booking/admin_person.html",
        actor=actor,
        nav="people",
        d=details,
        p=details.person,
        history=history,
        role_labels=ROLE_LABELS,
        chosen_roles=typed.get("roles", details.person.roles),
        roles_reason=typed.get("roles_reason", ""),
        active_reason=typed.get("active_reason", ""),
        errors=errors or {},
        is_self=actor.person_id == person_id,
        status_code=status_code,
    )


@post("/admin/people/{person_id:int}/roles", include_in_schema=False, status_code=303)
async def change_roles(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, person_id: int
) -> Response[Any]:
    form = await request.form()
    roles = [r for r in form.getall("roles") if isinstance(r, str)] if "roles" in form else []
    reason = form.get("roles_reason") if isinstance(form.get("roles_reason"), str) else ""
    try:
        await people.change_roles(db, clock, actor, person_id, roles=roles, reason=reason or "")
    except InvalidError as exc:
        key = "roles_reason" if exc.field == "reason" else "roles"
        typed = {"roles": roles, "roles_reason": reason}
        return await _person_page(
            request, db, actor, person_id, errors={key: exc.detail}, typed=typed, status_code=422
        )
    flash(request, "Their roles are changed; the audit log keeps your reason.")
    return Redirect(path=f"/admin/people/{person_id}", status_code=303)


async def _set_active(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    person_id: int,
    *,
    active: bool,
) -> Response[Any]:
    reason = (await form_fields(request)).get("active_reason", "")
    change = people.reactivate_person if active else people.deactivate_person
    try:
        await change(db, clock, actor, person_id, reason=reason)
    except InvalidError as exc:
        return await _person_page(
            request,
            db,
            actor,
            person_id,
            errors={"active_reason": exc.detail},
            typed={"active_reason": reason},
            status_code=422,
        )
    flash(
        request,
        "They can sign in and be booked again."
        if active
        else "They are deactivated: they cannot sign in or be booked. Their history is kept.",
    )
    return Redirect(path=f"/admin/people/{person_id}", status_code=303)


@post("/admin/people/{person_id:int}/deactivate", include_in_schema=False, status_code=303)
async def deactivate(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, person_id: int
) -> Response[Any]:
    return await _set_active(request, db, clock, actor, person_id, active=False)


@post("/admin/people/{person_id:int}/reactivate", include_in_schema=False, status_code=303)
async def reactivate(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, person_id: int
) -> Response[Any]:
    return await _set_active(request, db, clock, actor, person_id, active=True)


@get("/admin/units", include_in_schema=False)
async def units_page(request: Request[Any, Any, Any], db: Database, actor: Actor) -> Template:
    tree = await people.unit_tree(db, actor)
    return page(request, "booking/admin_units.html", actor=actor, nav="units", tree=tree)


HANDLERS = [people_page, person_page, change_roles, deactivate, reactivate, units_page]
