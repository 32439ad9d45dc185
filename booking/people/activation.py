"""Deactivating and reactivating a person. Nothing of theirs is deleted: their bookings, record
and audit trail stay. While deactivated they cannot sign in (`auth`, `actors` refuse an inactive
person, by browser session, token or single sign-on) and nobody can book them a place
(`bookings` refuses an inactive learner)."""

from __future__ import annotations

from functools import partial

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import Person, WebSession
from booking.people.roles import clean_reason


async def deactivate_person(
    db: Database, clock: Clock, actor: Actor, person_id: int, *, reason: str
) -> None:
    """Stop a person signing in or being booked, and sign them out everywhere now."""
    if not policy.can_change_active(actor):
        raise ForbiddenError("Only administrators can deactivate people.")
    if not policy.may_take_administration_from(actor, person_id):
        raise InvalidError("You cannot deactivate yourself: ask another administrator.", "reason")
    why = clean_reason(reason, "deactivating them")
    await tx.run(
        db,
        partial(
            _set_active, clock=clock, actor=actor, person_id=person_id, active=False, reason=why
        ),
    )


async def reactivate_person(
    db: Database, clock: Clock, actor: Actor, person_id: int, *, reason: str
) -> None:
    """Let a deactivated person sign in and be booked again."""
    if not policy.can_change_active(actor):
        raise ForbiddenError("Only administrators can reactivate people.")
    why = clean_reason(reason, "reactivating them")
    await tx.run(
        db,
        partial(
            _set_active, clock=clock, actor=actor, person_id=person_id, active=True, reason=why
        ),
    )


async def _set_active(
    s: AsyncSession, *, clock: Clock, actor: Actor, person_id: int, active: bool, reason: str
) -> None:
    person = await s.scalar(select(Person).where(Person.id == person_id).with_for_update())
    if person is None:
        raise NotFoundError(f"There is no person {person_id}.")
    if person.active == active:
        state = "active" if active else "deactivated"
        raise InvalidError(f"{person.name} is already {state}.", "reason")
    now = clock.now()
    person.active = active
    person.updated_at = now
    if not active:
        # The sign-in check would refuse their next request anyway; ending the sessions now
        # keeps no stale sign-in for a reactivation to bring back.
        await s.execute(delete(WebSession).where(WebSession.person_id == person_id))
    await audit.record(
        s,
        action="person.reactivated" if active else "person.deactivated",
        now=now,
        actor=actor,
        target=person.email,
        details={"reason": reason},
    )
