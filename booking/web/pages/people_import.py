"""The administrators' CSV imports of people and of organisation units: upload a file, read the
preview (rows to create, to update and how, unchanged, and each bad row with its line and
reason), then import it all in one transaction.

The confirmation carries the uploaded text in a signed form field (for this administrator and
this kind of import, valid for an hour): nothing the browser sends back is trusted, and the
file is read and checked again against the database before anything is written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from booking import people, policy, signing
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.web.pages.forms import csv_upload_text, form_fields
from booking.web.pages.render import flash, page

_KINDS: dict[str, dict[str, Any]] = {
    "people": {
        "title": "Import people",
        "back": "/admin/people",
        "back_label": "People",
        "columns": people.PEOPLE_COLUMNS,
        "key": "Email",
        "preview": people.preview_people_csv,
        "import": people.import_people_csv,
    },
    "units": {
        "title": "Import organisation units",
        "back": "/admin/units",
        "back_label": "Organisation units",
        "columns": people.UNIT_COLUMNS,
        "key": "Code",
        "preview": people.preview_units_csv,
        "import": people.import_units_csv,
    },
}
_LIFETIME = timedelta(hours=1)


def _secret(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.secret_key)


def _allowed(actor: Actor) -> None:
    if not policy.can_manage_people(actor):
        raise ForbiddenError("Only administrators can import people and units.")


def _page(
    request: Request[Any, Any, Any],
    actor: Actor,
    kind: str,
    *,
    preview: people.ImportPreview | None = None,
    upload: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "booking/people_import.html",
        actor=actor,
        nav="units" if kind == "units" else "people",
        kind=kind,
        k=_KINDS[kind],
        preview=preview,
        upload=upload,
        error=error,
        max_rows=people.MAX_IMPORT_ROWS,
        status_code=status_code,
    )


async def _form(request: Request[Any, Any, Any], actor: Actor, kind: str) -> Template:
    _allowed(actor)
    return _page(request, actor, kind)


async def _preview(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, kind: str
) -> Template:
    _allowed(actor)
    try:
        text = await csv_upload_text(request, people.MAX_IMPORT_BYTES)
        preview = await _KINDS[kind]["preview"](db, actor, text)
    except InvalidError as exc:
        return _page(request, actor, kind, error=exc.detail, status_code=422)
    upload = ""
    if not preview.bad and preview.changes_anything:
        data = {"kind": kind, "by": actor.person_id, "text": text}
        upload = signing.sign(_secret(request), "csv-import", data, clock.now() + _LIFETIME)
    return _page(request, actor, kind, preview=preview, upload=upload)


async def _confirm(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, kind: str
) -> Response[Any]:
    _allowed(actor)
    token = (await form_fields(request)).get("upload", "")
    try:
        data = signing.verify(_secret(request), "csv-import", token, clock.now())
        if data.get("kind") != kind or data.get("by") != actor.person_id:
            raise signing.BadSignature("not this import")
        preview, outcome = await _KINDS[kind]["import"](db, clock, actor, str(data["text"]))
    except signing.BadSignature:
        error = "This preview has expired or is not valid: upload the file again."
        return _page(request, actor, kind, error=error, status_code=422)
    except InvalidError as exc:
        return _page(request, actor, kind, error=exc.detail, status_code=422)
    if outcome is None:
        error = "The file now has rows that cannot be imported: nothing was imported."
        return _page(request, actor, kind, preview=preview, error=error, status_code=422)
    flash(
        request,
        f"Imported: {outcome.created} created, {outcome.updated} updated, "
        f"{outcome.unchanged} unchanged.",
    )
    return Redirect(path=_KINDS[kind]["back"], status_code=303)


@get("/admin/people/import", include_in_schema=False)
async def people_import_form(request: Request[Any, Any, Any], actor: Actor) -> Template:
    return await _form(request, actor, "people")


@post("/admin/people/import", include_in_schema=False, status_code=200)
async def people_import_preview(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    return await _preview(request, db, clock, actor, "people")


@post("/admin/people/import/confirm", include_in_schema=False, status_code=303)
async def people_import_confirm(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    return await _confirm(request, db, clock, actor, "people")


@get("/admin/units/import", include_in_schema=False)
async def units_import_form(request: Request[Any, Any, Any], actor: Actor) -> Template:
    return await _form(request, actor, "units")


@post("/admin/units/import", include_in_schema=False, status_code=200)
async def units_import_preview(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    return await _preview(request, db, clock, actor, "units")


@post("/admin/units/import/confirm", include_in_schema=False, status_code=303)
async def units_import_confirm(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    return await _confirm(request, db, clock, actor, "units")


HANDLERS = [
    people_import_form,
    people_import_preview,
    people_import_confirm,
    units_import_form,
    units_import_preview,
    units_import_confirm,
]
