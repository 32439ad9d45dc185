"""Request dependencies: the database, the clock, and who is acting."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException

from booking.clock import Clock
from booking.db import Database
from booking.services import people
from booking.services.actors import Actor

SESSION_PERSON_KEY = "person_id"


def provide_db(request: Request[Any, Any, Any]) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def provide_clock(request: Request[Any, Any, Any]) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


async def provide_api_actor(request: Request[Any, Any, Any]) -> Actor:
    """The bearer token's actor; 401 without a valid token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            "Send an API token as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    actor = await people.actor_for_token(request.app.state.db, token.strip())
    if actor is None:
        raise NotAuthorizedException(
            "This token is unknown or revoked.", headers={"WWW-Authenticate": "Bearer"}
        )
    return actor


async def current_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """The signed-in person on HTML pages, or None."""
    session = request.scope.get("session")
    person_id = session.get(SESSION_PERSON_KEY) if isinstance(session, dict) else None
    if not isinstance(person_id, int):
        return None
    cached = request.scope.get("state", {}).get("actor")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    actor = await people.actor_for_person(request.app.state.db, person_id)
    request.scope.setdefault("state", {})["actor"] = actor
    return actor


async def provide_page_actor(request: Request[Any, Any, Any]) -> Actor:
    """Pages that need someone signed in send everyone else to the login page."""
    actor = await current_actor(request)
    if actor is None:
        raise NotAuthorizedException("Sign in to continue.")
    return actor
