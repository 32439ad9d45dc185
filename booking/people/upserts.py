"""What an import of people or organisation units answers, and its audit row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain.vocabulary import UpsertStatus
from booking.kernel import audit
from booking.kernel.actors import Actor


@dataclass(slots=True)
class UpsertResult:
    id: int
    status: UpsertStatus
    email: str | None = None
    code: str | None = None


async def record_upsert(
    s: AsyncSession, action: str, actor: Actor, results: Sequence[UpsertResult], *, now: datetime
) -> None:
    """One audit row per upsert that changed something, with what it changed."""
    created = [r.email or r.code for r in results if r.status == "created"]
    updated = [r.email or r.code for r in results if r.status == "updated"]
    if created or updated:
        await audit.record(
            s,
            action=action,
            now=now,
            actor=actor,
            target=", ".join(str(x) for x in [*created, *updated])[:200],
            details={"created": len(created), "updated": len(updated)},
        )
