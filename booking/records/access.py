"""Who stands above a person and who owns a course: what certificates and evidence ask before
anyone may see them (the rules themselves are in `booking.policy`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking.models import Person

# A chain of line managers longer than this is a loop in the data, not an organisation.
MAX_CHAIN = 50


async def managers_above(s: AsyncSession, person_id: int) -> frozenset[int]:
    """The person's line managers, direct and indirect, in one query (a recursive walk up
    `manager_id`, stopped at MAX_CHAIN levels so a loop in the data ends)."""
    start = (
        select(Person.manager_id.label("id"), select(1).scalar_subquery().label("depth"))
        .where(Person.id == person_id, Person.manager_id.is_not(None))
        .cte("chain", recursive=True)
    )
    above = aliased(Person)
    chain = start.union(
        select(above.manager_id, start.c.depth + 1).where(
            above.id == start.c.id, above.manager_id.is_not(None), start.c.depth < MAX_CHAIN
        )
    )
    return frozenset(i for i in await s.scalars(select(chain.c.id)) if i is not None)
