"""Who a request acts as: the actor for a person, or for an API token."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Label, Table, bindparam, exists, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, aliased

from booking.clock import Clock
from booking.db import Database
from booking.kernel import driver
from booking.kernel.actors import Actor
from booking.models import ApiToken, ApprovalRequest, Person, SessionFacilitator
from booking.people.remembered import RememberedTokens
from booking.people.tokens import TOKEN_PREFIX, hash_token

_TOKENS = cast(Table, ApiToken.__table__)
_PEOPLE = cast(Table, Person.__table__)
# Every API request runs this: built once (building costs more than running it), and only the
# columns an actor is made of (`_actor_of_token`): no entities to build.
_TOKEN_ROW = (
    select(
        *[_TOKENS.c[k].label(f"t_{k}") for k in ("id", "scope", "service_name", "last_used_at")],
        *[_PEOPLE.c[k].label(f"p_{k}") for k in ("id", "email", "name", "roles", "active")],
    )
    .outerjoin(_PEOPLE, _PEOPLE.c.id == _TOKENS.c.person_id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))
)

_Report = aliased(Person)
LAST_USE_EVERY = timedelta(minutes=1)


def duties_of(
    person_id: InstrumentedAttribute[int],
) -> tuple[Label[bool], Label[bool], Label[bool]]:
    """What a person is to others, as three columns to add to the query that loads them (no
    statement of its own; each an indexed `EXISTS`): has active direct reports, runs (or ran)
    a session, has an approval request waiting for them by name. In `actor_of`'s order."""
    return (
        exists()
        .where(_Report.manager_id == person_id, _Report.active.is_(True))
        .label("has_reports"),
        exists().where(SessionFacilitator.person_id == person_id).label("runs_sessions"),
        exists()
        .where(ApprovalRequest.approver_id == person_id, ApprovalRequest.status == "waiting")
        .label("has_approvals_waiting"),
    )


def actor_of(
    person: Person,
    *,
    has_reports: bool = False,
    runs_sessions: bool = False,
    has_approvals_waiting: bool = False,
    owns_courses: bool = False,
) -> Actor:
    """A person acting with their own roles (and, when the caller read them, what they are to
    others: see `auth.actor_for_session`)."""
    return Actor(
        person.id,
        person.email,
        person.name,
        frozenset(person.roles.split()),
        has_reports=has_reports,
        runs_sessions=runs_sessions,
        has_approvals_waiting=has_approvals_waiting,
        owns_courses=owns_courses,
    )


async def actor_for_token(
    db: Database,
    token: str,
    clock: Clock | None = None,
    *,
    remember: RememberedTokens | None = None,
) -> Actor | None:
    """The actor a bearer token stands for, or None for an unknown or revoked token. Given the
    clock, a service token's last use is noted (`note_service_token_use`); given `remember`, a
    person's token is remembered with its actor, or forgotten when it no longer stands."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    token_hash = hash_token(token)
    if remember is not None:
        remember.forget(token_hash)
    if driver.speaks(db):
        # Every API request asks: one statement on the driver, no transaction around it.
        found: Mapping[Any, Any] | None = await driver.read_row(
            db, _TOKEN_ROW, token_hash=token_hash
        )
    else:
        async with db.reading() as s:
            found = (await s.execute(_TOKEN_ROW, {"token_hash": token_hash})).mappings().first()
    if found is None:
        return None
    if found["t_service_name"] is not None and clock is not None:
        last_used = driver.read_time(found["t_last_used_at"])
        await note_service_token_use(db, found["t_id"], last_used, clock.now())
    actor = _actor_of_token(found)
    if remember is not None and actor is not None and _rememberable(found):
        remember.remember(token_hash, actor)
    return actor


def _rememberable(found: Mapping[Any, Any]) -> bool:
    """A person's own token (a service token notes its last use when read)."""
    return found["t_service_name"] is None and found["t_scope"] == "person"


def _actor_of_token(found: Mapping[Any, Any]) -> Actor | None:
    """`actor_of` the token's person, or a records token's service actor."""
    if found["t_scope"] == "records":
        name = found["t_service_name"]
        return Actor(None, f"service:{name}", name or "", frozenset(), "records")
    if found["p_id"] is None or not found["p_active"]:
        return None
    return Actor(
        found["p_id"], found["p_email"], found["p_name"], frozenset(found["p_roles"].split())
    )


async def note_service_token_use(
    db: Database, token_id: int, last: datetime | None, now: datetime
) -> None:
    """Note when a service token was last used, for the tokens page: at most once a minute per
    token (a busy integration does not write on every request), and only service tokens, so a
    person's requests (booking among them) cost no statement more. The `WHERE` keeps two
    concurrent requests from both writing."""
    if last is not None and now - last < LAST_USE_EVERY:
        return
    cutoff = now - LAST_USE_EVERY
    async with db.transaction() as s:
        await s.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= cutoff),
            )
            .values(last_used_at=now)
        )


async def actor_for_person(db: Database, person_id: int) -> Actor | None:
    async with db.reading() as s:
        person = await s.get(Person, person_id)
        if person is None or not person.active:
            return None
        return actor_of(person)
