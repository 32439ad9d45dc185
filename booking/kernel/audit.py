"""The audit log: security-relevant events and every administrative change (by an
administrator, trainer, manager or budget holder), written by the service in the transaction of
what they record (or on their own, for sign-in attempts that change nothing else). Actions are
dotted names (`session.changed`, `attendance.marked`); tests/web/test_audit_trail.py drives
each changing route and wants its row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import AuditEvent


async def record(
    s: AsyncSession,
    *,
    action: str,
    now: datetime,
    actor: Actor | None = None,
    actor_label: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    await s.execute(
        insert(AuditEvent).values(
            at=now,
            actor_id=actor.person_id if actor else None,
            actor=(actor_label or (actor.label if actor else "anonymous"))[:320],
            action=action,
            target=target,
            details=details,
            ip=ip,
        )
    )


async def record_now(db: Database, clock: Clock, **kwargs: Any) -> None:
    async with db.transaction() as s:
        await record(s, now=clock.now(), **kwargs)


@dataclass(slots=True)
class AuditItem:
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None
    ip: str | None

    @property
    def summary(self) -> str:
        return describe_details(self.details)


def describe_details(details: dict[str, Any] | None) -> str:
    """An event's details for people: "from: —; overbook: no", never Python's None or False.
    The one place audit details become text."""
    if not details:
        return "—"
    return "; ".join(f"{key.replace('_', ' ')}: {_for_people(v)}" for key, v in details.items())


def _for_people(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list | tuple):
        return ", ".join(_for_people(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_for_people(v)}" for k, v in value.items())
    return str(value)


async def recent(
    db: Database, actor: Actor, *, action: str | None = None, limit: int = 200
) -> list[AuditItem]:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can read the audit log.")
    async with db.reading() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if action:
            stmt = stmt.where(AuditEvent.action.like(f"{action}%"))
        return [
            AuditItem(e.id, e.at, e.actor, e.action, e.target, e.details, e.ip)
            for e in await s.scalars(stmt)
        ]
