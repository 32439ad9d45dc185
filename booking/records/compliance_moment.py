"""The compliance report as at a past moment: what the rules may see of a learner then.
Completions after the moment are dropped before the rules see them, a mandatory course whose
requirement applied after it is not required, and exemptions or extensions approved after it
do not count (the rules themselves are handed `now` = the moment)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from booking.domain.exemptions import Granted
from booking.models import Course
from booking.records.facts import Catalogue, Learner, mandatory_for


def as_at(learner: Learner, moment: datetime) -> None:
    """Drop (in place) the learner's completions after the moment."""
    learner.completions = {
        course_id: kept
        for course_id, done in learner.completions.items()
        if (kept := [c for c in done if c.completed_at <= moment])
    }


def decided_by(granted: Sequence[Granted], moment: datetime) -> list[Granted]:
    """The approved requests already decided at the moment."""
    return [g for g in granted if g.decided_at is None or g.decided_at <= moment]


def applied_after(cat: Catalogue, course: Course, learner: Learner, moment: datetime) -> bool:
    """A mandatory course whose requirement began after the moment: its requirement row's
    `applied_at`; before the sweep has made the row, when the course was last made mandatory
    (its rule's last change) or when the person was created, whichever is later (as `due_for`).
    A course the learner had completed by then stays (a held certification is required)."""
    if not mandatory_for(cat, course, learner) or learner.completions.get(course.id):
        return False
    row = learner.requirement(course.id, "course")
    if row is not None:
        return row.applied_at > moment
    rule = cat.rule_rows.get(course.id)
    if rule is None:
        return False
    return max(learner.person.created_at, rule.updated_at) > moment
