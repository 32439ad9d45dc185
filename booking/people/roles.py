"""Changing a person's roles from their page: with a reason, which the audit row keeps."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import ROLES, Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import Person

MAX_REASON = 500


def clean_reason(reason: str, what: str) -> str:
    """A reason for the audit log: required, one paragraph of at most MAX_REASON characters."""
    cleaned = " ".join((reason or "").split())
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise InvalidError("The reason contains a control character.", "reason")
    if not cleaned:
        raise InvalidError(f"Give a reason for {what}: the audit log keeps it.", "reason")
    if len(cleaned) > MAX_REASON:
        raise InvalidError(f"Keep the reason to {MAX_REASON} characters or fewer.", "reason")
    return cleaned


def _clean_roles(roles: Collection[str]) -> str:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidError(f"“{unknown[0]}” is not a role.", "roles")
    # Everyone may book for themselves: the learner role is never taken away.
    return " ".join(sorted({*roles, "learner"}))


async def change_roles(
    db: Database,
    clock: Clock,
    actor: Actor,
    person_id: int,
    *,
    roles: Collection[str],
    reason: str,
) -> list[str]:
    """Give a person exactly these roles (learner always among them); their roles after."""
    if not policy.can_change_roles(actor):
        raise ForbiddenError("Only administrators can change roles.")
    wanted = _clean_roles(roles)
    why = clean_reason(reason, "changing their roles")
    work = partial(_change_roles, clock=clock, actor=actor, person_id=person_id)
    return await tx.run(db, partial(work, wanted=wanted, reason=why))


async def _change_roles(
    s: AsyncSession, *, clock: Clock, actor: Actor, person_id: int, wanted: str, reason: str
) -> list[str]:
    person = await s.scalar(select(Person).where(Person.id == person_id).with_for_update())
    if person is None:
        raise NotFoundError(f"There is no person {person_id}.")
    was = person.roles
    if was.split() == wanted.split():
        raise InvalidError("Those are already their roles: nothing to change.", "roles")
    if (
        "admin" in was.split()
        and "admin" not in wanted.split()
        and not policy.may_take_administration_from(actor, person_id)
    ):
        raise InvalidError(
            "You cannot remove your own administrator role: ask another administrator.", "roles"
        )
    now = clock.now()
    person.roles = wanted
    person.updated_at = now
    await audit.record(
        s,
        action="person.roles_changed",
        now=now,
        actor=actor,
        target=person.email,
        details={"from": was, "to": wanted, "reason": reason},
    )
    return wanted.split()
