"""The learner as the eligibility rules see them: their units up the tree, their role and
staff type, and the completions that matter, read in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking.domain.eligibility import Completion, LearnerProfile
from booking.models import Completion as CompletionRow
from booking.models import Course, OrgUnit, Person


def _units_above_statement() -> Select[Any]:
    chain = (
        select(OrgUnit.id, OrgUnit.parent_id)
        .where(OrgUnit.id.in_(bindparam("unit_ids", expanding=True)))
        .cte("unit_chain", recursive=True)
    )
    parent = aliased(OrgUnit)
    chain = chain.union(
        select(parent.id, parent.parent_id).join(chain, parent.id == chain.c.parent_id)
    )
    return select(OrgUnit).where(OrgUnit.id.in_(select(chain.c.id)))


# Built once: building this recursive statement cost more than running it.
_UNITS_ABOVE = _units_above_statement()


async def units_above(s: AsyncSession, unit_ids: Iterable[int | None]) -> dict[int, OrgUnit]:
    """These units and every unit above them, in one recursive query. UNION (not UNION ALL)
    drops rows already found, so a cycle in the parents ends the recursion."""
    start = sorted({u for u in unit_ids if u is not None})
    if not start:
        return {}
    return {u.id: u for u in await s.scalars(_UNITS_ABOVE, {"unit_ids": start})}


async def org_unit_path(s: AsyncSession, unit_id: int | None) -> list[OrgUnit]:
    """The unit and its ancestors, nearest first."""
    units = await units_above(s, [unit_id])
    out: list[OrgUnit] = []
    seen: set[int] = set()
    while unit_id is not None and unit_id in units and unit_id not in seen:
        seen.add(unit_id)
        out.append(units[unit_id])
        unit_id = units[unit_id].parent_id
    return out


async def learner_profile(
    s: AsyncSession,
    learner: Person,
    *,
    completions_of: Collection[str] | None = None,
    unit_path: Sequence[str] | None = None,
) -> LearnerProfile:
    """The learner as the rules see them. `completions_of` limits the completions read to
    those courses (none at all when empty: a course without prerequisites or certification
    needs none); `unit_path` stands in for the unit codes from the learner's unit up, when
    the caller knows them or knows they do not matter."""
    if unit_path is None:
        unit_path = [unit.code for unit in await org_unit_path(s, learner.org_unit_id)]
    path = list(unit_path)
    completions: list[Completion] = []
    if completions_of is None or completions_of:
        stmt = (
            select(Course.code, CompletionRow.completed_at, CompletionRow.expires_at)
            .join(Course, Course.id == CompletionRow.course_id)
            .where(CompletionRow.learner_id == learner.id)
        )
        if completions_of is not None:
            stmt = stmt.where(Course.code.in_(sorted(completions_of)))
        completions = [
            Completion(code, completed_at, expires_at)
            for code, completed_at, expires_at in (await s.execute(stmt)).all()
        ]
    return LearnerProfile(
        id=learner.id,
        job_role=learner.job_role,
        staff_type=learner.staff_type,
        org_unit_path=tuple(path),
        completions=tuple(completions),
    )
