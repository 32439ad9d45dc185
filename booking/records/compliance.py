"""The compliance report (administrators): active people by organisation unit and staff type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import Person
from booking.records.facts import (
    Catalogue,
    Learner,
    all_units,
    held,
    learners_of,
    relevant_courses,
    whole_catalogue,
)
from booking.records.views import ComplianceRow


@dataclass(slots=True)
class _Group:
    unit_name: str | None
    people: int = 0
    fully_compliant: int = 0
    total: rules.Compliance = field(default_factory=lambda: rules.Compliance(0, 0))


async def compliance_report(db: Database, clock: Clock, actor: Actor) -> list[ComplianceRow]:
    """Active people grouped by their own unit and staff type: how many are fully compliant,
    and the share of required items (mandatory courses, certifications) that are current."""
    if not policy.can_see_compliance_report(actor):
        raise ForbiddenError("Only administrators see the compliance report.")
    async with db.reading() as s:
        now = clock.now()
        people = (
            await s.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id))
        ).all()
        cat = await whole_catalogue(s)
        learners = await learners_of(s, people, await all_units(s), with_bookings=False)
    groups: dict[tuple[str | None, str], _Group] = {}
    for learner in learners:
        result = _learner_compliance(cat, learner, now)
        key = (learner.unit_code, learner.person.staff_type)
        group = groups.setdefault(key, _Group(learner.unit_name))
        group.people += 1
        group.fully_compliant += 1 if result.fully else 0
        group.total = group.total + result
    return [
        ComplianceRow(
            unit,
            group.unit_name,
            staff_type,
            group.people,
            group.fully_compliant,
            group.total.required,
            group.total.compliant,
            group.total.percent,
        )
        for (unit, staff_type), group in sorted(
            groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
        )
    ]


def _learner_compliance(cat: Catalogue, learner: Learner, now: datetime) -> rules.Compliance:
    courses = [
        (cat.facts_for(course, learner), held(learner.completions.get(course.id, [])))
        for course in relevant_courses(cat, learner)
    ]
    return rules.compliance(courses, now)
