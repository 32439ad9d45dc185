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

from sqlalchemy import Table

from booking.bookings import group_statements, lean_statements
from booking.bookings.token_statements import TOKEN_PERSON
from booking.kernel.actors import Actor
from booking.models import Person

_PEOPLE = cast(Table, Person.__table__)

# A token never read before (PostgreSQL, `kernel.actors.UnreadToken`): the learner it stands
# for, locked, with everything `READ_ALL` reads — no row for a token that stands for nobody.
READ_BY_TOKEN = (
    lean_statements.LEARNERS_WITH_SESSION.add_columns(group_statements.DATES_AND_BOOKINGS_OF_ROW)
    .where(_PEOPLE.c.id == TOKEN_PERSON)
    .with_for_update(of=_PEOPLE)
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


def actor_read(found: Any) -> Actor:
    """The actor of the learner `READ_BY_TOKEN` found (as `people.actor_for_token` makes it);
    `Unvouched` for none, or one no longer active."""
    if found is None or not found["active"]:
        raise Unvouched
    return Actor(found["id"], found["email"], found["name"], frozenset(found["roles"].split()))
