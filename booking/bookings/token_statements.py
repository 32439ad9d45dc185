"""A booking's bearer token in the booking's own first statement (`bookings.vouch`): whether a
remembered token still stands, and the person a token never read before stands for."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, exists, literal_column, select

from booking.models import ApiToken, Person

_TOKENS = cast(Table, ApiToken.__table__)
_PEOPLE = cast(Table, Person.__table__)

# The bearer token named (`token_hash`, NULL for none) is this person's and not revoked.
TOKEN_STANDS = (
    exists()
    .where(
        _TOKENS.c.token_hash == bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        _TOKENS.c.person_id == _PEOPLE.c.id,
    )
    .label("token_stands")
)
# The person a token acting as them stands for (not revoked; not a service's): NULL otherwise.
TOKEN_PERSON = (
    select(_TOKENS.c.person_id)
    .where(
        _TOKENS.c.token_hash == bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        _TOKENS.c.scope == literal_column("'person'"),
        _TOKENS.c.service_name.is_(None),
    )
    .scalar_subquery()
)
