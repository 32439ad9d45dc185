"""The course page's preview of the eligibility rules: why the learner could not book,
shown before they try."""

from __future__ import annotations

from datetime import datetime

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.reasons import Reason
from booking.eligibility.course_rules import (
    completions_needed_for,
    course_rules,
    eligibility_reasons_for,
)
from booking.eligibility.learners import learner_profile
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.models import Course, Person


async def preview(
    db: Database, clock: Clock, actor: Actor, course_id: int, *, now: datetime | None = None
) -> list[Reason]:
    """Why the actor could not book this course, if they could not: shown before they try."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people book courses.")
    async with db.reading() as s:
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        learner = await s.get_one(Person, actor.person_id)
        rules = await course_rules(s, course)
        audience = rules[0]
        profile = await learner_profile(
            s,
            learner,
            completions_of=completions_needed_for(course.code, rules),
            # The units above the learner matter only to a course for some units.
            unit_path=None if audience and audience.org_units else [],
        )
        return eligibility_reasons_for(profile, course.code, rules, now=now or clock.now())
