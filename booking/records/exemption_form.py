"""What the line manager's "Ask for an exemption or extension" form offers for one person: the
courses required of them (with their due dates) and the other mandatory courses of their
audience, read once; only for their line manager (directly or up the chain) or an
administrator (404 for anyone else: the person is not theirs to see)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking import eligibility, people, policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.models import Person
from booking.records.exemption_reads import granted_for
from booking.records.facts import catalogue_for, learners_of
from booking.records.record import build_record


@dataclass(frozen=True, slots=True)
class CourseChoice:
    code: str
    title: str
    # Required now: its status label and due date; otherwise mandatory but done or exempt.
    status: str
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class ExemptionChoices:
    person_id: int
    name: str
    email: str
    courses: list[CourseChoice]


async def exemption_choices(
    db: Database, clock: Clock, actor: Actor, person_id: int
) -> ExemptionChoices:
    async with db.reading() as s:
        now = clock.now()
        person = await s.get(Person, person_id)
        is_manager = (
            person is not None
            and actor.person_id != person.id
            and await people.manages(s, actor.person_id or 0, person.id)
        )
        if person is None or not policy.can_request_exemption(
            actor, person.id, manages_learner=is_manager
        ):
            raise NotFoundError(f"There is no person {person_id} in your team.")
        (learner,) = await learners_of(
            s, [person], await eligibility.units_above(s, [person.org_unit_id])
        )
        cat = await catalogue_for(s, [learner])
        granted = (await granted_for(s, [person.id])).get(person.id, [])
    record = build_record(cat, learner, now, granted)
    choices = [
        CourseChoice(r.course_code, r.course_title, r.status_label, r.due_at)
        for r in record.required
    ]
    listed = {c.code for c in choices}
    choices += [
        CourseChoice(
            c.course_code,
            c.course_title,
            "Exempt" if c.exemption else c.status_label,
            None,
        )
        for c in record.courses
        if c.mandatory and c.course_code not in listed
    ]
    return ExemptionChoices(person.id, person.name, person.email, choices)
