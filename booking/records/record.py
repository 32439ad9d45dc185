"""A learner's record of learning: each course with its status, completions, criteria and
bookings; certifications; required learning; compliance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from booking import eligibility, people, policy
from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.domain.exemptions import Granted
from booking.domain.learning_vocabulary import (
    CompletionMode,
    CourseRecordStatus,
    RequiredKind,
    RequiredStatus,
)
from booking.domain.states import ACTIVE, FINAL
from booking.domain.vocabulary import BookingStateName, StaffType
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.models import Completion, Course, Person
from booking.records.certificates import certificate_url
from booking.records.criteria import CRITERIA_SOURCE, rule_of
from booking.records.exemption_apply import apply_to_record
from booking.records.exemption_reads import granted_for
from booking.records.facts import (
    Catalogue,
    Learner,
    catalogue_for,
    due_for,
    held,
    learners_of,
    relevant_courses,
    satisfying,
)
from booking.records.program_progress import program_catalogue, with_programs
from booking.records.views import (
    COURSE_STATUS_LABELS,
    REQUIRED_LABELS,
    BookingSummary,
    CertificationView,
    CompletionView,
    ComplianceView,
    CourseRecord,
    CriterionView,
    RecordPerson,
    RecordView,
    RequiredView,
)


async def learner_record(db: Database, clock: Clock, actor: Actor, person_id: int) -> RecordView:
    """The record of learning of one person; 404 for anyone else who asks."""
    async with db.reading() as s:
        now = clock.now()
        person = await s.get(Person, person_id)
        if person is None or not await _may_view(s, actor, person):
            raise NotFoundError(f"There is no person {person_id}.")
        (learner,) = await learners_of(
            s, [person], await eligibility.units_above(s, [person.org_unit_id])
        )
        # exemptions: the approved requests for this person (one query)
        granted = (await granted_for(s, [person.id])).get(person.id, [])
        record = build_record(await catalogue_for(s, [learner]), learner, now, granted)
        # programs: the person's programs and the courses they require
        pc = await program_catalogue(s, [person.id])
        return count_overdue(with_programs(record, pc, learner, now))


async def _may_view(s: AsyncSession, actor: Actor, person: Person) -> bool:
    """The person, an administrator, or a line manager up the person's chain (read only when
    it is needed)."""
    if policy.can_view_record(actor, person.id, ()):
        return True
    return policy.can_view_record(actor, person.id, await people.managers_above(s, person.id))


async def my_record(db: Database, clock: Clock, actor: Actor) -> RecordView:
    """The actor's own record of learning."""
    if not policy.is_person(actor) or actor.person_id is None:
        raise NotFoundError("Only people have a record of learning.")
    return await learner_record(db, clock, actor, actor.person_id)


def build_record(
    cat: Catalogue, learner: Learner, now: datetime, granted: Sequence[Granted] = ()
) -> RecordView:
    """The learner's record from the facts read for it (no queries)."""
    courses: list[CourseRecord] = []
    certifications: list[CertificationView] = []
    required: list[RequiredView] = []
    totals = rules.Compliance(0, 0)
    for course in relevant_courses(cat, learner):
        facts = cat.facts_for(course, learner)
        completions = learner.completions.get(course.id, [])
        held_now = held(completions)
        cert = _certification(course, facts, held_now, now)
        if cert is not None:
            certifications.append(cert)
        record = _course_record(cat, learner, course, facts.mandatory, completions, cert, now)
        courses.append(record)
        # A requirement is met by the course's own completions or an accepted course's.
        meeting = held(satisfying(cat, course, learner))
        due = due_for(cat, course, learner)
        item = _required(facts, meeting, learner.person.created_at, record.status, now, due)
        if item is not None:
            required.append(item)
        totals = totals + rules.compliance([(facts, meeting)], now)
    far = datetime.max.replace(tzinfo=UTC)
    required.sort(key=lambda r: (r.due_at or far, r.course_title))
    certifications.sort(key=lambda c: (c.expires_at, c.course_title))
    view = RecordView(
        person=_person(learner),
        courses=courses,
        certifications=certifications,
        required=required,
        compliance=ComplianceView(totals.required, totals.compliant, totals.percent),
        as_of=now,
    )
    # exemptions: approved exemptions and extensions applied (exemption_apply.py)
    return count_overdue(apply_to_record(view, cat, learner, granted, now))


def count_overdue(view: RecordView) -> RecordView:
    """`compliance.overdue`: the required items past their due date, once exemptions,
    extensions and programs have had their say."""
    view.compliance.overdue = sum(1 for r in view.required if r.overdue)
    return view


def _person(learner: Learner) -> RecordPerson:
    p = learner.person
    return RecordPerson(
        p.id,
        p.name,
        p.email,
        p.personnel_number,
        p.job_role,
        cast(StaffType, p.staff_type),
        learner.unit_code,
        learner.unit_name,
    )


def _certification(
    course: Course,
    facts: rules.CourseFacts,
    held_now: Sequence[rules.HeldCompletion],
    now: datetime,
) -> CertificationView | None:
    state = rules.course_state(facts, held_now, now)
    if state is None:
        return None
    return CertificationView(
        course.id,
        course.code,
        course.title,
        state.status.value,
        rules.STATUS_LABELS[state.status],
        state.completed_at,
        state.expires_at,
        state.window_opens_at,
    )


def _course_record(
    cat: Catalogue,
    learner: Learner,
    course: Course,
    mandatory: bool,
    completions: list[Completion],
    cert: CertificationView | None,
    now: datetime,
) -> CourseRecord:
    rule = rule_of(course, cat.rule_rows.get(course.id))
    criteria = _criteria(cat, learner, rule, completions) if rule is not None else []
    bookings = [
        BookingSummary(
            b.id,
            b.course_id,
            session.id,
            cast(BookingStateName, b.state),
            session.starts_at,
            session.ends_at,
        )
        for b, session in learner.bookings
        if b.course_id == course.id and b.state not in FINAL
    ]
    last = completions[-1] if completions else None
    status = _course_status(last, criteria, bookings, mandatory, now)
    done = [_completion(learner, c) for c in reversed(completions)]
    return CourseRecord(
        course_id=course.id,
        course_code=course.code,
        course_title=course.title,
        status=status,
        status_label=COURSE_STATUS_LABELS[status],
        completed_at=last.completed_at if last else None,
        expires_at=last.expires_at if last else None,
        source=last.source if last else None,
        mandatory=mandatory,
        previous=done[1:],
        completion_mode=cast(CompletionMode, rule.mode) if rule else None,
        criteria=criteria,
        certification=cert,
        bookings=bookings,
        completions=done,
        certificate_url=done[0].certificate_url if done else None,
        certificate_id=done[0].certificate_id if done else None,
    )


def _completion(learner: Learner, c: Completion) -> CompletionView:
    certificate_id = learner.certificates.get(c.id)
    return CompletionView(
        c.completed_at,
        c.expires_at,
        c.source,
        certificate_url=certificate_url(certificate_id),
        certificate_id=certificate_id,
    )


def _criteria(
    cat: Catalogue, learner: Learner, rule: rules.CompletionRule, completions: list[Completion]
) -> list[CriterionView]:
    """Progress through a course's criteria: each criterion course and when it was done."""
    done: dict[str, list[datetime]] = {}
    for code in rule.criteria:
        c = cat.by_code.get(code)
        done[code] = [x.completed_at for x in learner.completions.get(c.id, [])] if c else []
    last_derived = max(
        (c.completed_at for c in completions if c.source == CRITERIA_SOURCE), default=None
    )
    return [
        CriterionView(
            cp.course_code,
            cat.by_code[cp.course_code].title if cp.course_code in cat.by_code else cp.course_code,
            cp.done_at,
        )
        for cp in rules.progress(rule, done, last_derived)
    ]


def _course_status(
    last: Completion | None,
    criteria: list[CriterionView],
    bookings: list[BookingSummary],
    mandatory: bool,
    now: datetime,
) -> CourseRecordStatus:
    if last is not None and (last.expires_at is None or last.expires_at > now):
        return "complete"
    if last is not None:
        return "expired"
    if any(cv.done_at for cv in criteria):
        return "in_progress"
    if any(b.state in ACTIVE for b in bookings):
        return "booked"
    if mandatory:
        return "required"
    return "not_complete"


def _required(
    facts: rules.CourseFacts,
    held_now: Sequence[rules.HeldCompletion],
    joined_at: datetime,
    status: str,
    now: datetime,
    due: datetime | None,
) -> RequiredView | None:
    item = rules.required_item(
        facts,
        held_now,
        now,
        joined_at=joined_at,
        in_progress=status in ("in_progress", "booked"),
        due=due,
    )
    if item is None:
        return None
    return RequiredView(
        item.course_id,
        item.code,
        item.title,
        cast(RequiredKind, item.kind),
        item.due_at,
        cast(RequiredStatus, item.status),
        REQUIRED_LABELS.get(item.status, item.status),
        item.overdue,
        "renewal" if item.kind == "renewal" else "course",
    )
