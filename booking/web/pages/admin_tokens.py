"""Administrators' service tokens page: the list (never a secret), the form to make one, and
revoking one after a confirmation.

The page that answers a creation is the only one that shows the new token's secret: it is not
stored in clear, nor kept in the session for a redirect, so the answer is the page itself (pages
are never cached). A refused form comes back as typed (422) with nothing made."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from booking import people
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError
from booking.web.pages.forms import form_fields
from booking.web.pages.render import flash, page

MAX_TYPED = 1_000  # past the column's limit: the service names the limit


async def _tokens_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    *,
    created: people.NewServiceToken | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    tokens = await people.list_service_tokens(db, actor)
    return page(
        request,
        "booking/admin_tokens.html",
        actor=actor,
        nav="tokens",
        tokens=tokens,
        scopes=people.SERVICE_SCOPES,
        created=created,
        errors=errors or {},
        typed=typed or {"name": "", "scope": next(iter(people.SERVICE_SCOPES))},
        status_code=status_code,
    )


@get("/admin/tokens", include_in_schema=False)
async def tokens_page(request: Request[Any, Any, Any], db: Database, actor: Actor) -> Template:
    return await _tokens_page(request, db, actor)


@post("/admin/tokens", include_in_schema=False, status_code=200)
async def create_token(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    form = await form_fields(request)
    typed = {"name": form.get("name", "")[:MAX_TYPED], "scope": form.get("scope", "")}
    try:
        created = await people.create_service_token(
            db, clock, actor, name=typed["name"], scope=typed["scope"]
        )
    except InvalidError as exc:
        errors = {exc.field or "name": exc.detail}
        return await _tokens_page(request, db, actor, errors=errors, typed=typed, status_code=422)
    return await _tokens_page(request, db, actor, created=created)


async def _revoke_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    token_id: int,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    token = await people.service_token(db, actor, token_id)
    return page(
        request,
        "booking/admin_token_revoke.html",
        actor=actor,
        nav="tokens",
        t=token,
        scopes=people.SERVICE_SCOPES,
        errors=errors or {},
        status_code=status_code,
    )


@get("/admin/tokens/{token_id:int}/revoke", include_in_schema=False)
async def revoke_page(
    request: Request[Any, Any, Any], db: Database, actor: Actor, token_id: int
) -> Template:
    return await _revoke_page(request, db, actor, token_id)


@post("/admin/tokens/{token_id:int}/revoke", include_in_schema=False, status_code=303)
async def revoke(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, token_id: int
) -> Response[Any]:
    try:
        await people.revoke_service_token(db, clock, actor, token_id)
    except InvalidError as exc:
        errors = {"form": exc.detail}
        return await _revoke_page(request, db, actor, token_id, errors=errors, status_code=409)
    flash(request, "The token is revoked: the API refuses it from now on.")
    return Redirect(path="/admin/tokens", status_code=303)


HANDLERS = [tokens_page, create_token, revoke_page, revoke]
