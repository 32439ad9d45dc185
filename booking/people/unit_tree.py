"""The organisation unit tree as administrators see it: each unit with its sub-units and how
many active people it holds, in two queries however large the organisation."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from booking import policy
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import OrgUnit, Person


@dataclass(slots=True)
class UnitNode:
    id: int
    code: str
    name: str
    # Active people in this unit itself, and in it and every unit below it.
    people: int = 0
    total: int = 0
    children: list[UnitNode] = field(default_factory=list)


@dataclass(slots=True)
class UnitTree:
    roots: list[UnitNode]
    units: int
    # Active people in no unit at all.
    without_unit: int


async def unit_tree(db: Database, actor: Actor) -> UnitTree:
    """Top-level units by name, each with its sub-units by name, all the way down."""
    if not policy.can_look_up_people(actor):
        raise ForbiddenError("Only administrators can see the organisation units.")
    async with db.reading() as s:
        units = (
            await s.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id))
        ).all()
        counts: dict[int | None, int] = {
            unit_id: n
            for unit_id, n in (
                await s.execute(
                    select(Person.org_unit_id, func.count())
                    .where(Person.active.is_(True))
                    .group_by(Person.org_unit_id)
                )
            ).all()
        }
    nodes = {u.id: UnitNode(u.id, u.code, u.name, counts.get(u.id, 0)) for u in units}
    roots: list[UnitNode] = []
    for u in units:
        parent = nodes.get(u.parent_id) if u.parent_id is not None else None
        (parent.children if parent else roots).append(nodes[u.id])
    for node in roots:
        _sort_and_total(node)
    roots.sort(key=lambda n: (n.name.lower(), n.code))
    return UnitTree(roots, len(units), counts.get(None, 0))


def _sort_and_total(root: UnitNode) -> None:
    """Children by name, totals from the bottom up (iteratively: a deep tree is no risk)."""
    order: list[UnitNode] = []
    todo = [root]
    while todo:
        node = todo.pop()
        order.append(node)
        node.children.sort(key=lambda n: (n.name.lower(), n.code))
        todo.extend(node.children)
    for node in reversed(order):
        node.total = node.people + sum(child.total for child in node.children)
