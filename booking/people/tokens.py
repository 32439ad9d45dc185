"""API tokens: made for a person (acting with their roles) or for a machine client; only
their hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.kernel.errors import InvalidError, NotFoundError
from booking.models import ApiToken, Person
from booking.people.people import normalise_email

TOKEN_PREFIX = "bk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_admin(db: Database, clock: Clock, *, email: str, name: str) -> str:
    """Create (or promote) an administrator and return a new token for them."""
    email = normalise_email(email)
    if not name.strip():
        raise InvalidError("An administrator needs a name.", "name")
    async with db.transaction() as s:
        now = clock.now()
        person = await s.scalar(select(Person).where(Person.email == email))
        if person is None:
            person = Person(
                email=email,
                name=name.strip(),
                roles="admin learner",
                staff_type="payroll",
                created_at=now,
                updated_at=now,
            )
            s.add(person)
            await s.flush()
        else:
            roles = set(person.roles.split()) | {"admin", "learner"}
            person.roles = " ".join(sorted(roles))
            person.updated_at = now
        return await _new_token(s, now=now, person_id=person.id, scope="person")


async def create_token(
    db: Database,
    clock: Clock,
    *,
    email: str | None = None,
    service: str | None = None,
    scope: str = "person",
) -> str:
    """A token acting as a person (with their roles), or a machine client's records token."""
    async with db.transaction() as s:
        now = clock.now()
        if email is not None:
            person = await s.scalar(select(Person).where(Person.email == normalise_email(email)))
            if person is None:
                raise NotFoundError(f"There is nobody with the email address {email}.")
            return await _new_token(s, now=now, person_id=person.id, scope="person")
        if not service or not service.strip():
            raise InvalidError("Name the service the token is for.", "service")
        if scope != "records":
            raise InvalidError("Service tokens have the records scope.", "scope")
        return await _new_token(s, now=now, service_name=service.strip(), scope="records")


async def _new_token(
    s: AsyncSession,
    *,
    now: datetime,
    person_id: int | None = None,
    service_name: str | None = None,
    scope: str,
) -> str:
    _, secret = await new_token(
        s, now=now, person_id=person_id, service_name=service_name, scope=scope
    )
    return secret


async def new_token(
    s: AsyncSession,
    *,
    now: datetime,
    person_id: int | None = None,
    service_name: str | None = None,
    scope: str,
    created_by_id: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token row (flushed, so it has its id) and its secret, which only the caller sees."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(secret),
        person_id=person_id,
        service_name=service_name,
        scope=scope,
        created_at=now,
        created_by_id=created_by_id,
    )
    s.add(token)
    await s.flush()
    return token, secret
