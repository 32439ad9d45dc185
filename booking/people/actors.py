"""Who a request acts as: the actor for a person, or for an API token."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from booking.db import Database
from booking.kernel.actors import Actor
from booking.models import ApiToken, Person
from booking.people.tokens import TOKEN_PREFIX, hash_token

# Every API request runs this: built once (building costs more than running it).
_TOKEN_LOOKUP = (
    select(ApiToken, Person)
    .outerjoin(Person, Person.id == ApiToken.person_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def actor_of(person: Person) -> Actor:
    """A person acting with their own roles."""
    return Actor(person.id, person.email, person.name, frozenset(person.roles.split()))


async def actor_for_token(db: Database, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None for an unknown or revoked token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    async with db.reading() as s:
        row = (await s.execute(_TOKEN_LOOKUP, {"token_hash": hash_token(token)})).first()
        if row is None:
            return None
        api_token, person = row
        if api_token.scope == "records":
            return Actor(
                None,
                f"service:{api_token.service_name}",
                api_token.service_name or "",
                frozenset(),
                "records",
            )
        if person is None or not person.active:
            return None
        return actor_of(person)


async def actor_for_person(db: Database, person_id: int) -> Actor | None:
    async with db.reading() as s:
        person = await s.get(Person, person_id)
        if person is None or not person.active:
            return None
        return actor_of(person)
