"""My team: a line manager's reports (direct, or with everyone below them), their bookings to
come and their records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import eligibility, people, policy
from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.domain.exemptions import Granted
from booking.domain.states import ACTIVE
from booking.domain.vocabulary import BookingStateName
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.models import Person
from booking.records.exemption_reads import granted_for
from booking.records.facts import Catalogue, Learner, catalogue_for, learners_of
from booking.records.program_progress import program_catalogue, with_programs
from booking.records.record import build_record
from booking.records.views import BookingSummary, ComplianceView, TeamMember, TeamView


async def my_team(db: Database, clock: Clock, actor: Actor, *, indirect: bool = False) -> TeamView:
    """The actor's direct reports (with `indirect`, everyone below them too): bookings to
    come, records, certifications, compliance."""
    if not policy.is_person(actor) or actor.person_id is None:
        raise NotFoundError("Only people have a team.")
    async with db.reading() as s:
        now = clock.now()
        wanted = (
            Person.id.in_(people.reports_below_query(actor.person_id))
            if indirect
            else Person.manager_id == actor.person_id
        )
        reports = (
            await s.scalars(
                select(Person).where(wanted, Person.active.is_(True)).order_by(Person.name)
            )
        ).all()
        learners = await learners_of(
            s, reports, await eligibility.units_above(s, (p.org_unit_id for p in reports))
        )
        cat = await catalogue_for(s, learners)
        managers = await _names(s, {p.manager_id for p in reports} - {actor.person_id})
        # programs: each member's programs (one catalogue for the whole team)
        pc = await program_catalogue(s, [p.id for p in reports])
        # exemptions: the approved requests of the whole team (one query)
        granted = await granted_for(s, [p.id for p in reports])
    members = [
        _member(
            cat,
            learner,
            now,
            reports_to=managers.get(person.manager_id or 0),
            granted=granted.get(person.id, ()),
        )
        for learner, person in zip(learners, reports, strict=True)
    ]
    for member, learner in zip(members, learners, strict=True):
        with_programs(member.record, pc, learner, now)
    total = rules.Compliance(0, 0)
    for m in members:
        total = total + rules.Compliance(
            m.record.compliance.required, m.record.compliance.compliant
        )
    overdue = sum(m.record.compliance.overdue for m in members)
    return TeamView(
        actor.name,
        members,
        ComplianceView(
            total.required,
            total.compliant,
            total.percent,
            sum(m.record.compliance.exempt for m in members),  # exemptions
            overdue,
        ),
        now,
        indirect,
    )


async def _names(s: AsyncSession, person_ids: set[int | None]) -> dict[int, str]:
    ids = [i for i in person_ids if i is not None]
    if not ids:
        return {}
    return dict((await s.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))).all())


def _member(
    cat: Catalogue,
    learner: Learner,
    now: datetime,
    *,
    reports_to: str | None = None,
    granted: Sequence[Granted] = (),
) -> TeamMember:
    record = build_record(cat, learner, now, granted)
    upcoming = [
        BookingSummary(
            b.id,
            b.course_id,
            session.id,
            cast(BookingStateName, b.state),
            session.starts_at,
            session.ends_at,
        )
        for b, session in learner.bookings
        if b.state in ACTIVE and session.ends_at > now
    ]
    titles = {b.course_id: cat.courses[b.course_id].title for b, _ in learner.bookings}
    return TeamMember(record, upcoming, titles, reports_to)
