"""A booking on a remembered token (`kernel.actors.Vouch`): the token is checked in the booking's
own first statement instead of a read of its own before it.

The web layer remembers, per process, the actor each person's bearer token stood for when last
read (`people.RememberedTokens`), and for a plain booking hands that actor over with a `Vouch`
rather than read the token again. The lean path's read of the learner — the row it locks, so
read under the same lock a role change or a deactivation takes — carries one more column,
`TOKEN_STANDS`, and `still_stands` compares the person's row with the actor remembered: a
revoked token, a deactivated person, or a changed name, address or set of roles makes the
booking `Unvouched` before anything is written, and the caller reads the actor afresh (a 401
for a token gone) and books again. So a remembered token is never trusted further than the
statement that reads the learner, in whichever process revoked it.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, exists

from booking.kernel.actors import Actor
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


class Unvouched(Exception):
    """The remembered actor cannot be taken as read here: read it afresh, then book (nothing
    has been written)."""


def check(actor: Actor, found: Any, token_hash: str | None) -> None:
    """`Unvouched` unless no token is to be checked, or the learner's row (read with
    `TOKEN_STANDS`) still stands for the actor remembered."""
    if token_hash is not None and not still_stands(actor, found):
        raise Unvouched


def still_stands(actor: Actor, found: Any) -> bool:
    """The token stands and the person is as the actor was made from them (`actor_of`)."""
    return (
        found is not None
        and bool(found["token_stands"])
        and bool(found["active"])
        and found["email"] == actor.email
        and found["name"] == actor.name
        and frozenset(found["roles"].split()) == actor.roles
    )
