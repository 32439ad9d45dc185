"""Line management as a chain: everyone above a person (their line manager, that manager's
manager, …) and everyone below a manager (direct and indirect reports). One recursive query
each, bounded in depth so that a loop in bad data ends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Person

# Deeper than any organisation chart; a loop (A manages B manages A) stops here.
MAX_DEPTH = 30


async def managers_above(s: AsyncSession, person_id: int) -> list[int]:
    """The person's line managers, nearest first (without the person, even in a loop)."""
    up = (
        select(Person.manager_id.label("id"), literal(1).label("depth"))
        .where(Person.id == person_id, Person.manager_id.is_not(None))
        .cte("up", recursive=True)
    )
    step = (
        select(Person.manager_id, up.c.depth + 1)
        .join(up, Person.id == up.c.id)
        .where(Person.manager_id.is_not(None), up.c.depth < MAX_DEPTH)
    )
    up = up.union(step)
    rows = (await s.execute(select(up.c.id, up.c.depth).order_by(up.c.depth))).all()
    seen: list[int] = []
    for manager_id, _ in rows:
        if manager_id != person_id and manager_id not in seen:
            seen.append(manager_id)
    return seen


def _down(manager_id: int) -> Any:
    down = (
        select(Person.id.label("id"), literal(1).label("depth"))
        .where(Person.manager_id == manager_id)
        .cte("down", recursive=True)
    )
    step = (
        select(Person.id, down.c.depth + 1)
        .join(down, Person.manager_id == down.c.id)
        .where(down.c.depth < MAX_DEPTH)
    )
    return down.union(step)


def reports_below_query(manager_id: int) -> Select[tuple[int]]:
    """The ids of everyone below the manager, as a statement to use inside another one
    (`Person.id.in_(...)`), so a large organisation's ids never travel as parameters."""
    down = _down(manager_id)
    return select(down.c.id).where(down.c.id != manager_id)


async def reports_below(s: AsyncSession, manager_id: int) -> dict[int, int]:
    """Everyone reporting to the manager, directly (depth 1) or indirectly: person id → depth
    (the nearest, if there are several ways down)."""
    down = _down(manager_id)
    found: dict[int, int] = {}
    for person_id, depth in (await s.execute(select(down.c.id, down.c.depth))).all():
        if person_id != manager_id and (person_id not in found or depth < found[person_id]):
            found[person_id] = depth
    return found


async def manages(s: AsyncSession, manager_id: int, person_id: int) -> bool:
    """Whether the person reports to the manager, directly or indirectly."""
    return manager_id in await managers_above(s, person_id)
