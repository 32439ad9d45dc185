"""What the requirements sweep and its reminders read of a course, as SQL: who its audience is,
the reminder schedule, and which completions meet a requirement.

The reminder and acceptance settings (`reminder_days`, `escalate_after_days`,
`accepted_courses`) live on the course's record rule; a course without a rule row (a
certification that is not mandatory) takes the defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import and_, exists, false, func, or_, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from booking.domain import requirements as req_rules
from booking.domain.eligibility import Audience
from booking.models import Completion, Course, CourseRecordRule, OrgUnit, Person, Requirement


def reminder_days(rule: CourseRecordRule | None) -> tuple[int, ...]:
    """The course's reminder days; NULL or no rule row: the defaults."""
    return req_rules.reminder_days(rule.reminder_days if rule is not None else None)


def escalate_after_days(rule: CourseRecordRule | None) -> int | None:
    """When the line manager is told (None: never); no rule row: the default."""
    if rule is None:
        return req_rules.DEFAULT_ESCALATE_AFTER_DAYS
    return rule.escalate_after_days


def accepted_codes(rule: CourseRecordRule | None) -> tuple[str, ...]:
    """Course codes whose completions also satisfy this course (`accepted_courses`)."""
    value = (rule.accepted_courses or {}).get("codes") if rule is not None else None
    return tuple(str(c) for c in value or ())


def units_below(units: Iterable[OrgUnit], codes: Iterable[str]) -> set[int]:
    """The ids of the units named by code and of every unit beneath them."""
    children: dict[int | None, list[OrgUnit]] = {}
    by_code: dict[str, OrgUnit] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
        by_code[u.code] = u
    out: set[int] = set()
    todo = [by_code[c].id for c in codes if c in by_code]
    while todo:
        unit_id = todo.pop()
        if unit_id in out:
            continue
        out.add(unit_id)
        todo.extend(child.id for child in children.get(unit_id, []))
    return out


def in_audience(course: Course, units: Iterable[OrgUnit]) -> ColumnElement[bool]:
    """Active people in the course's audience (units with their sub-units, job roles, staff
    types; no audience: everyone active), as a condition on `Person`."""
    conditions: list[ColumnElement[bool]] = [Person.active.is_(True)]
    audience = Audience.from_json(course.audience)
    if audience is not None:
        if audience.org_units:
            ids = units_below(units, audience.org_units)
            conditions.append(Person.org_unit_id.in_(sorted(ids)) if ids else false())
        if audience.job_roles:
            conditions.append(func.lower(Person.job_role).in_(sorted(audience.job_roles)))
        if audience.staff_types:
            conditions.append(Person.staff_type.in_(sorted(audience.staff_types)))
    return and_(*conditions)


def satisfying_ids(
    course: Course, rule: CourseRecordRule | None, ids_by_code: Mapping[str, int]
) -> list[int]:
    """The course itself and the courses its rule accepts (nothing else)."""
    accepted = [ids_by_code[c] for c in accepted_codes(rule) if c in ids_by_code]
    return sorted({course.id, *accepted})


def met(course: Course, course_ids: list[int], now: datetime) -> ColumnElement[bool]:
    """A `Requirement` row of this course is met: a completion of the course or an accepted
    one; for a certifying course a current one; for a renewal, one newer than the certification
    being renewed (expiring after it, or with no expiry and made since the window opened)."""
    c = aliased(Completion)
    current = (
        or_(c.expires_at.is_(None), c.expires_at > now) if course.certification_months else true()
    )
    renewed = or_(
        c.expires_at > Requirement.due_at,
        and_(c.expires_at.is_(None), c.completed_at >= Requirement.applied_at),
    )
    return exists().where(
        c.learner_id == Requirement.person_id,
        c.course_id.in_(course_ids),
        or_(
            and_(Requirement.via != "renewal", current),
            and_(Requirement.via == "renewal", renewed),
        ),
    )


def shadowed_by_renewal() -> ColumnElement[bool]:
    """A course row while the same course's renewal row is open: the renewal speaks for both."""
    r = aliased(Requirement)
    return and_(
        Requirement.via == "course",
        exists().where(
            r.person_id == Requirement.person_id,
            r.course_id == Requirement.course_id,
            r.via == "renewal",
            r.closed_at.is_(None),
        ),
    )
