"""Request dependencies: the database, the clock, and who is acting.

They form a chain — the clock takes the database, who is acting takes both — so Litestar
resolves them one after another: dependencies of one level are resolved concurrently in an
anyio task group, which costs ~60–100 µs a request for three providers that take microseconds
(litestar-org/litestar#4563; bench/README.md, "The lean booking path")."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException

from booking import people, policy, ratelimit
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor, UnreadToken, Vouch
from booking.people import auth

SESSION_PERSON_KEY = "person_id"
_VOUCH = "vouch"
_UNREAD = "unread_token"
_COUNTED = "booking_counted"


def provide_db(request: Request[Any, Any, Any]) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def provide_clock(request: Request[Any, Any, Any], db: Database) -> Clock:
    """The app's clock (after `db`: see the module's note on the chain)."""
    return request.app.state.clock  # type: ignore[no-any-return]


async def provide_api_actor(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Actor:
    """The bearer token's actor; 401 without a valid token. Remembered for booking
    (`provide_booking_actor`)."""
    return await api_actor(request, db, clock, remember=request.app.state.remembered_tokens)


async def provide_booking_actor(
    request: Request[Any, Any, Any], db: Database, clock: Clock
) -> Actor | None:
    """`provide_api_actor` for booking a place. With no idempotency key sent: the actor this
    process remembers for the token, with a `Vouch` for the booking to check the token in its
    own read (`vouch_of`); on PostgreSQL, for a token not read before, None and an
    `UnreadToken` (`unread_of`): a plain booking finds its learner by the token in its own
    first statement. Otherwise the token is read, and remembered."""
    memory: people.RememberedTokens = request.app.state.remembered_tokens
    if "idempotency-key" not in request.headers:
        token = _bearer_token(request)
        state = request.scope.setdefault("state", {})
        recalled = memory.recall(token)
        if recalled is not None:
            token_hash, actor = recalled
            state[_VOUCH] = Vouch(token_hash, partial(read_booking_actor, request, db, clock))
            return actor
        unread_hash = people.hash_of(token)
        if unread_hash is not None and db.engine.dialect.driver == "asyncpg":
            found = partial(_found, request, unread_hash)
            read = partial(_read_and_count, request, db, clock)
            state[_UNREAD] = UnreadToken(unread_hash, found, read)
            return None
    return await api_actor(request, db, clock, remember=memory)


async def booking_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """`provide_booking_actor` as booking a place's one injected dependency: the database and
    the clock taken from the app, not injected. Each dependency Litestar injects costs a
    signature check per request: ~20 µs of a booking's ~0.8 ms for these two (bench/README.md,
    "Fewer injected dependencies")."""
    return await provide_booking_actor(request, provide_db(request), request.app.state.clock)


def vouch_of(request: Request[Any, Any, Any]) -> Vouch | None:
    """The `Vouch` for the request's actor, when `provide_booking_actor` remembered it."""
    return request.scope.get("state", {}).get(_VOUCH)  # type: ignore[no-any-return]


def unread_of(request: Request[Any, Any, Any]) -> UnreadToken | None:
    """The `UnreadToken`, when `provide_booking_actor` left the token for the booking to read."""
    return request.scope.get("state", {}).get(_UNREAD)  # type: ignore[no-any-return]


async def read_booking_actor(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Actor:
    """The actor read afresh (a 401 for a token that does not stand), and remembered."""
    request.scope["state"].pop(_VOUCH, None)
    return await api_actor(request, db, clock, remember=request.app.state.remembered_tokens)


async def _read_and_count(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Actor:
    actor = await read_booking_actor(request, db, clock)
    await _count_once(request, actor)
    return actor


async def _found(request: Request[Any, Any, Any], token_hash: str, actor: Actor) -> None:
    """The booking found the token's person: remembered, and the attempt counted."""
    request.app.state.remembered_tokens.remember(token_hash, actor)
    await _count_once(request, actor)


async def _count_once(request: Request[Any, Any, Any], actor: Actor) -> None:
    """A plain booking's attempt, counted once however often its transaction is retried."""
    state = request.scope["state"]
    if not state.get(_COUNTED):
        state[_COUNTED] = True
        await limit_booking_rate(request, actor)


async def api_actor(
    connection: ASGIConnection[Any, Any, Any, Any],
    db: Database | None = None,
    clock: Clock | None = None,
    *,
    remember: people.RememberedTokens | None = None,
) -> Actor:
    """The bearer token's actor, looked up once per request (a guard may ask before the
    handler's dependency does); 401 without a valid token."""
    state = connection.scope.setdefault("state", {})
    if "api_actor" in state:
        return state["api_actor"]  # type: ignore[no-any-return]
    actor = await people.actor_for_token(
        db or connection.app.state.db,
        _bearer_token(connection),
        clock or connection.app.state.clock,
        remember=remember,
    )
    if actor is None:
        raise NotAuthorizedException(
            "This token is unknown or revoked.", headers={"WWW-Authenticate": "Bearer"}
        )
    state["api_actor"] = actor
    return actor


def _bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            "Send an API token as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def current_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """The signed-in person on HTML pages (server-side session named by the cookie), or None."""
    state = request.scope.setdefault("state", {})
    if "actor" in state:
        return state["actor"]  # type: ignore[no-any-return]
    settings = request.app.state.settings
    actor = await auth.actor_for_session(
        request.app.state.db,
        request.app.state.clock,
        request.cookies.get(auth.SESSION_COOKIE),
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )
    state["actor"] = actor
    return actor


async def provide_page_actor(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Actor:
    """Pages that need someone signed in send everyone else to the login page. (`db` and
    `clock` order the chain: see the module's note.)"""
    actor = await current_actor(request)
    if actor is None:
        raise NotAuthorizedException("Sign in to continue.")
    return actor


async def limit_booking_rate(
    request: Request[Any, Any, Any], actor: Actor, learner_email: str | None = None
) -> None:
    """Count a booking attempt against the learner it is for (`ratelimit.booking_counters`):
    a runaway script cannot hammer a rush for everyone, yet an administrator or an HR feed
    enrolling a cohort is held only to its own, much higher ceiling. All processes share the
    counts when Redis is configured."""
    counters = ratelimit.booking_counters(
        actor.email,
        learner_email,
        bulk=policy.can_book_in_bulk(actor),
        bulk_per_minute=request.app.state.settings.bulk_bookings_per_minute,
    )
    wait = await request.app.state.limiter.exceeded_any(counters)
    if wait:
        raise TooManyRequestsException(
            "Too many booking attempts; wait a moment and try again.",
            headers={"Retry-After": str(wait)},
        )
