"""The compliance report (administrators): active people by organisation unit and staff type,
and the same groups with their required items by where they stand (the reports' page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import select

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.domain.vocabulary import StaffType
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import OrgUnit, Person
from booking.records.compliance_filters import ComplianceFilters
from booking.records.compliance_moment import applied_after, as_at, decided_by
from booking.records.exemption_apply import counts_with_extensions, without_exempt
from booking.records.exemption_reads import granted_for
from booking.records.facts import (
    Catalogue,
    Learner,
    all_units,
    due_for,
    held,
    learners_of,
    relevant_courses,
    satisfying,
    whole_catalogue,
)
from booking.records.views import ComplianceRow, ComplianceStatusRow

EVERYONE = ComplianceFilters()


@dataclass(slots=True)
class _Group:
    unit_name: str | None
    people: int = 0
    fully_compliant: int = 0
    total: rules.Compliance = field(default_factory=lambda: rules.Compliance(0, 0))
    counts: rules.ComplianceCounts = field(default_factory=rules.ComplianceCounts)
    exempt: int = 0  # exemptions


async def compliance_report(
    db: Database, clock: Clock, actor: Actor, filters: ComplianceFilters = EVERYONE
) -> list[ComplianceRow]:
    """Active people grouped by their own unit and staff type: how many are fully compliant,
    and the share of required items (mandatory courses, certifications) that are current."""
    return [row.row for row in await compliance_by_status(db, clock, actor, filters)]


async def compliance_units(db: Database, actor: Actor) -> list[tuple[str, str]]:
    """The units the report's filter offers: (code, name), by name (one query)."""
    if not policy.can_see_compliance_report(actor):
        raise ForbiddenError("Only administrators see the compliance report.")
    async with db.reading() as s:
        rows = await s.execute(select(OrgUnit.code, OrgUnit.name).order_by(OrgUnit.name))
        return [(code, name) for code, name in rows]


async def compliance_by_status(
    db: Database, clock: Clock, actor: Actor, filters: ComplianceFilters = EVERYONE
) -> list[ComplianceStatusRow]:
    """The compliance report's rows, each with its required items counted as complete, due,
    overdue and expired; narrowed by `filters` and judged as at the end of its as-of day."""
    if not policy.can_see_compliance_report(actor):
        raise ForbiddenError("Only administrators see the compliance report.")
    now = filters.moment(clock.now())
    async with db.reading() as s:
        query = select(Person).where(Person.active.is_(True), Person.created_at <= now)
        if filters.staff_type is not None:
            query = query.where(Person.staff_type == filters.staff_type)
        people = (await s.scalars(query.order_by(Person.id))).all()
        cat = await whole_catalogue(s)
        learners = await learners_of(s, people, await all_units(s), with_bookings=False)
        granted = await granted_for(s, None)  # exemptions: every approved request (one query)
    groups: dict[tuple[str | None, str], _Group] = {}
    for learner in learners:
        if not filters.includes(learner):
            continue
        as_at(learner, now)
        # exemptions: an exempt course is not required; an extension moves the due date;
        # those approved after the moment do not count
        mine = decided_by(granted.get(learner.person.id, []), now)
        courses, exempt = without_exempt(_courses(cat, learner, now), mine, now)
        result = rules.compliance(courses, now)
        key = (learner.unit_code, learner.person.staff_type)
        group = groups.setdefault(key, _Group(learner.unit_name))
        group.people += 1
        group.fully_compliant += 1 if result.fully else 0
        group.total = group.total + result
        group.exempt += exempt
        group.counts = group.counts + counts_with_extensions(
            courses,
            mine,
            now,
            joined_at=learner.person.created_at,
            due_dates={c.id: due_for(cat, c, learner) for c in relevant_courses(cat, learner)},
        )
    return [_row(unit, staff_type, group) for (unit, staff_type), group in _ordered(groups)]


def _ordered(
    groups: dict[tuple[str | None, str], _Group],
) -> list[tuple[tuple[str | None, str], _Group]]:
    return sorted(groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))


def _row(unit: str | None, staff_type: str, group: _Group) -> ComplianceStatusRow:
    return ComplianceStatusRow(
        ComplianceRow(
            unit,
            group.unit_name,
            cast(StaffType, staff_type),
            group.people,
            group.fully_compliant,
            group.total.required,
            group.total.compliant,
            group.total.percent,
            group.exempt,
            group.counts.overdue,
        ),
        group.counts.complete,
        group.counts.due,
        group.counts.overdue,
        group.counts.expired,
    )


def _courses(
    cat: Catalogue, learner: Learner, now: datetime
) -> list[tuple[rules.CourseFacts, list[rules.HeldCompletion]]]:
    return [
        (cat.facts_for(course, learner), held(satisfying(cat, course, learner)))
        for course in relevant_courses(cat, learner)
        if not applied_after(cat, course, learner, now)
    ]
