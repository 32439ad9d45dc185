"""Administrators' room pages: the list (rooms no longer in use hidden unless asked for), a
form to add or change a room, and a room's calendar of sessions.

Plain forms that work without JavaScript. A refusal shows the form again as it was sent, each
message on its field, with nothing saved (422 for input the rules refuse, 409 for a name another
room has); success redirects (303) to the room's page with a flash message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect

from booking import catalogue, policy
from booking.catalogue import RoomDetails, RoomSummary
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError
from booking.web.pages.forms import form_fields
from booking.web.pages.render import flash, page

FIELDS = ("name", "address", "capacity", "details", "accessibility")
MAX_TYPED = 10_000  # past any column's limit: the service names the limit


@dataclass(slots=True)
class RoomForm:
    """The room form as typed (strings), so a refused one comes back exactly as sent."""

    name: str = ""
    address: str = ""
    capacity: str = ""
    details: str = ""
    accessibility: str = ""
    active: bool = True


def only_administrators(actor: Actor) -> None:
    # The services refuse everyone else too; asking first keeps the forms to administrators.
    if not policy.can_manage_rooms(actor):
        raise ForbiddenError("Only administrators can manage rooms.")


def form_of(room: RoomSummary) -> RoomForm:
    return RoomForm(
        name=room.name,
        address=room.address or "",
        capacity="" if room.capacity is None else str(room.capacity),
        details=room.details or "",
        accessibility=room.accessibility or "",
        active=room.active,
    )


def read_form(raw: dict[str, str]) -> RoomForm:
    typed = {name: raw.get(name, "").strip()[:MAX_TYPED] for name in FIELDS}
    return RoomForm(**typed, active=raw.get("active") == "yes")


def room_details(form: RoomForm) -> tuple[RoomDetails | None, dict[str, str]]:
    """What the catalogue takes, or the messages for what cannot be read."""
    capacity: int | None = None
    if form.capacity:
        try:
            capacity = int(form.capacity)
        except ValueError:
            return None, {"capacity": "Enter the capacity as a whole number, such as 20."}
    return (
        RoomDetails(
            name=form.name,
            address=form.address,
            capacity=capacity,
            details=form.details,
            accessibility=form.accessibility,
            active=form.active,
        ),
        {},
    )


@get("/admin/rooms", include_in_schema=False)
async def rooms_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    show: str | None = Parameter(query="show", required=False),
) -> Response[Any]:
    only_administrators(actor)
    with_inactive = show == "all"
    rooms = await catalogue.list_rooms(db, actor, with_inactive=with_inactive)
    return page(
        request,
        "booking/admin_rooms.html",
        actor=actor,
        nav="rooms",
        rooms=rooms,
        with_inactive=with_inactive,
    )


@get("/admin/rooms/new", include_in_schema=False)
async def new_room_form(request: Request[Any, Any, Any], actor: Actor) -> Response[Any]:
    only_administrators(actor)
    return _form_page(request, actor, RoomForm())


@post("/admin/rooms/new", include_in_schema=False, status_code=200)
async def create_room(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    only_administrators(actor)
    sent = read_form(await form_fields(request))
    details, errors = room_details(sent)
    if details is None:
        return _form_page(request, actor, sent, errors=errors, status_code=422)
    try:
        room = await catalogue.create_room(db, clock, actor, details)
    except InvalidError as exc:
        return _form_page(request, actor, sent, errors=_placed(exc), status_code=422)
    except ConflictError as exc:
        return _form_page(request, actor, sent, errors={"name": exc.detail}, status_code=409)
    flash(request, f"Room added: {room.name}.")
    return Redirect(path=f"/admin/rooms/{room.id}", status_code=303)


@get("/admin/rooms/{room_id:int}/edit", include_in_schema=False)
async def edit_room_form(
    request: Request[Any, Any, Any], db: Database, actor: Actor, room_id: int
) -> Response[Any]:
    only_administrators(actor)
    room = await catalogue.get_room(db, actor, room_id)
    return _form_page(request, actor, form_of(room), room=room)


@post("/admin/rooms/{room_id:int}/edit", include_in_schema=False, status_code=200)
async def update_room(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, room_id: int
) -> Response[Any]:
    only_administrators(actor)
    room = await catalogue.get_room(db, actor, room_id)
    sent = read_form(await form_fields(request))
    details, errors = room_details(sent)
    if details is None:
        return _form_page(request, actor, sent, room=room, errors=errors, status_code=422)
    if sent == form_of(room):
        flash(request, f"Nothing was changed on {room.name}.")
        return Redirect(path=f"/admin/rooms/{room_id}", status_code=303)
    try:
        saved = await catalogue.update_room(db, clock, actor, room_id, details)
    except InvalidError as exc:
        return _form_page(request, actor, sent, room=room, errors=_placed(exc), status_code=422)
    except ConflictError as exc:
        errors = {"name": exc.detail}
        return _form_page(request, actor, sent, room=room, errors=errors, status_code=409)
    message = f"Saved the changes to {saved.name}."
    if room.active and not saved.active:
        message += " It is no longer offered on the session form."
    flash(request, message)
    return Redirect(path=f"/admin/rooms/{room_id}", status_code=303)


@get("/admin/rooms/{room_id:int}", include_in_schema=False)
async def room_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, room_id: int
) -> Response[Any]:
    only_administrators(actor)
    calendar = await catalogue.room_calendar(db, clock, actor, room_id)
    return page(
        request,
        "booking/admin_room.html",
        actor=actor,
        nav="rooms",
        room=calendar.room,
        upcoming=calendar.upcoming,
        recent=calendar.recent,
    )


def _placed(exc: InvalidError) -> dict[str, str]:
    return {exc.field if exc.field in FIELDS else "form": exc.detail}


def _form_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    form: RoomForm,
    *,
    room: RoomSummary | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response[Any]:
    return page(
        request,
        "booking/admin_room_form.html",
        actor=actor,
        nav="rooms",
        status_code=status_code,
        room=room,
        form=form,
        errors=errors or {},
    )


HANDLERS = [rooms_page, new_room_form, create_room, room_page, edit_room_form, update_room]
