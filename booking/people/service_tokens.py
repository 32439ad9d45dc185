"""Service tokens for integrations, managed by administrators on a page: list them (never their
secret), make one with a name and a scope (its secret is answered once and only its hash is
kept), revoke one (the API refuses it from the next request). Tokens acting as a person are made
on the command line and are not listed here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.db_values import max_length_of
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import ApiToken, Person
from booking.people.tokens import new_token

# The scopes a service token can have, with what each lets it do. `actor_for_token` gives a
# "records" token the records endpoints only; a "person" token needs a person to act as, so it
# is no service token.
SERVICE_SCOPES = {"records": "Records: send completions and read the records feed"}
MAX_NAME = max_length_of(ApiToken.__table__.c.service_name.type) or 100


@dataclass(frozen=True, slots=True)
class ServiceTokenRow:
    id: int
    name: str
    scope: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class NewServiceToken:
    """A token just made: `secret` is shown once and is kept nowhere."""

    id: int
    name: str
    scope: str
    secret: str


_Creator = aliased(Person)
_ROWS = (
    select(ApiToken, _Creator.name)
    .outerjoin(_Creator, _Creator.id == ApiToken.created_by_id)
    .where(ApiToken.service_name.is_not(None))
)


def _row(token: ApiToken, creator: str | None) -> ServiceTokenRow:
    return ServiceTokenRow(
        token.id,
        token.service_name or "",
        token.scope,
        token.created_at,
        creator,
        token.last_used_at,
        token.revoked_at,
    )


def _check(actor: Actor) -> None:
    if not policy.can_manage_service_tokens(actor):
        raise ForbiddenError("Only administrators can manage service tokens.")


async def list_service_tokens(db: Database, actor: Actor) -> list[ServiceTokenRow]:
    """Every service token, active ones first, newest first (one statement)."""
    _check(actor)
    query = _ROWS.order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    async with db.reading() as s:
        return [_row(token, creator) for token, creator in (await s.execute(query)).all()]


async def service_token(db: Database, actor: Actor, token_id: int) -> ServiceTokenRow:
    _check(actor)
    async with db.reading() as s:
        found = (await s.execute(_ROWS.where(ApiToken.id == token_id))).first()
    if found is None:
        raise NotFoundError(f"There is no service token {token_id}.")
    return _row(*found)


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidError("Name the service the token is for.", "name")
    if len(cleaned) > MAX_NAME:
        raise InvalidError(f"Keep the name to {MAX_NAME} characters.", "name")
    return cleaned


async def create_service_token(
    db: Database, clock: Clock, actor: Actor, *, name: str, scope: str
) -> NewServiceToken:
    """Make a service token; the answer carries its secret, which nothing shows again."""
    _check(actor)
    cleaned = clean_name(name)
    if scope not in SERVICE_SCOPES:
        raise InvalidError("Choose what the token may do.", "scope")
    return await tx.run(db, partial(_create, clock=clock, actor=actor, name=cleaned, scope=scope))


async def _create(
    s: AsyncSession, *, clock: Clock, actor: Actor, name: str, scope: str
) -> NewServiceToken:
    taken = await s.scalar(
        select(ApiToken.id).where(ApiToken.service_name == name, ApiToken.revoked_at.is_(None))
    )
    if taken is not None:
        raise InvalidError(
            f"An active token is already named “{name}”: choose another name.", "name"
        )
    now = clock.now()
    token, secret = await new_token(
        s, now=now, service_name=name, scope=scope, created_by_id=actor.person_id
    )
    # Never the secret (nor its hash) in the audit log.
    await audit.record(
        s,
        action="token.created",
        now=now,
        actor=actor,
        target=name,
        details={"token_id": token.id, "scope": scope},
    )
    return NewServiceToken(token.id, name, scope, secret)


async def revoke_service_token(db: Database, clock: Clock, actor: Actor, token_id: int) -> None:
    """Revoke a service token: the API refuses it from the next request."""
    _check(actor)
    await tx.run(db, partial(_revoke, clock=clock, actor=actor, token_id=token_id))


async def _revoke(s: AsyncSession, *, clock: Clock, actor: Actor, token_id: int) -> None:
    token = await s.scalar(
        select(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.service_name.is_not(None))
        .with_for_update()
    )
    if token is None:
        raise NotFoundError(f"There is no service token {token_id}.")
    if token.revoked_at is not None:
        raise InvalidError(f"“{token.service_name}” is already revoked.", "form")
    now = clock.now()
    token.revoked_at = now
    await audit.record(
        s,
        action="token.revoked",
        now=now,
        actor=actor,
        target=token.service_name,
        details={"token_id": token.id, "scope": token.scope},
    )
