"""How a course is completed (by itself, or through `all` / `any` of other courses), whether it
is mandatory for its audience and how its requirement is chased (reminder days, when the line
manager is told), which other courses' completions also satisfy it, and whether it awards a
certificate: administrators read and change it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.domain import requirements as req_rules
from booking.domain.learning_vocabulary import CompletionMode
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import Completion, Course, CourseRecordRule
from booking.records.certificates import issue_missing_certificates
from booking.records.criteria import complete_dependents, rule_of, sync_derived

# One home for the defaults: the requirements rules (the sweep and its reminders read them too).
DEFAULT_REMINDER_DAYS = req_rules.DEFAULT_REMINDER_DAYS
DEFAULT_ESCALATE_AFTER_DAYS = req_rules.DEFAULT_ESCALATE_AFTER_DAYS
MAX_DAYS = 3650


@dataclass(slots=True)
class CourseRulesView:
    course_id: int
    code: str
    completion_mode: CompletionMode | None
    criteria: list[str]
    mandatory: bool
    due_within_days: int | None
    reminder_days: list[int] = field(default_factory=lambda: list(DEFAULT_REMINDER_DAYS))
    escalate_after_days: int | None = DEFAULT_ESCALATE_AFTER_DAYS
    accepted_courses: list[str] = field(default_factory=list)
    certificate: bool = False


@dataclass(frozen=True, slots=True)
class _RulesInput:
    completion_mode: str | None
    criteria: Sequence[str]
    mandatory: bool
    due_within_days: int | None
    reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS
    escalate_after_days: int | None = DEFAULT_ESCALATE_AFTER_DAYS
    accepted_courses: Sequence[str] = ()
    certificate: bool = False


async def set_course_rules(
    db: Database,
    clock: Clock,
    actor: Actor,
    course_id: int,
    *,
    completion_mode: str | None,
    criteria: Sequence[str],
    mandatory: bool,
    due_within_days: int | None,
    reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS,
    escalate_after_days: int | None = DEFAULT_ESCALATE_AFTER_DAYS,
    accepted_courses: Sequence[str] = (),
    certificate: bool = False,
) -> CourseRulesView:
    """How the course is completed (`all` / `any` of other courses, or by itself), whether it
    is mandatory for its audience and how it is chased. Learners who already meet new criteria
    are completed now."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change how courses are completed.")
    wanted = _checked(
        _RulesInput(
            completion_mode,
            criteria,
            mandatory,
            due_within_days,
            reminder_days,
            escalate_after_days,
            accepted_courses,
            certificate,
        )
    )
    return await tx.run(
        db, partial(_change_rules, clock=clock, actor=actor, course_id=course_id, wanted=wanted)
    )


def course_rules_step(
    actor: Actor,
    *,
    completion_mode: str | None,
    criteria: Sequence[str],
    mandatory: bool,
    due_within_days: int | None,
    reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS,
    escalate_after_days: int | None = DEFAULT_ESCALATE_AFTER_DAYS,
    accepted_courses: Sequence[str] = (),
    certificate: bool = False,
) -> Callable[[AsyncSession, int, datetime], Awaitable[None]]:
    """`set_course_rules` as a step of another use case's transaction (the course form saves
    the course and its rules together): checked now, written when the step runs, refusing
    (so the whole transaction rolls back) as `set_course_rules` would."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change how courses are completed.")
    wanted = _checked(
        _RulesInput(
            completion_mode,
            criteria,
            mandatory,
            due_within_days,
            reminder_days,
            escalate_after_days,
            accepted_courses,
            certificate,
        )
    )

    async def step(s: AsyncSession, course_id: int, now: datetime) -> None:
        await _change_rules_at(s, now=now, actor=actor, course_id=course_id, wanted=wanted)

    return step


def _checked(wanted: _RulesInput) -> _RulesInput:
    """The rules with their day lists in order, or the first one refused (naming its field)."""
    if wanted.due_within_days is not None and not 0 <= wanted.due_within_days <= MAX_DAYS:
        raise InvalidError(f"due_within_days must be from 0 to {MAX_DAYS}.", "due_within_days")
    days = sorted(set(wanted.reminder_days))
    if len(days) > 20 or any(not 1 <= d <= MAX_DAYS for d in days):
        raise InvalidError(
            f"reminder_days must be at most 20 day numbers from 1 to {MAX_DAYS} (day 1 is the "
            "day the requirement applied).",
            "reminder_days",
        )
    escalate = wanted.escalate_after_days
    if escalate is not None and not 1 <= escalate <= MAX_DAYS:
        raise InvalidError(
            f"escalate_after_days must be from 1 to {MAX_DAYS}, or null for never.",
            "escalate_after_days",
        )
    accepted = list(dict.fromkeys(c.strip() for c in wanted.accepted_courses if c.strip()))
    if len(accepted) > 50:
        raise InvalidError("accepted_courses may name at most 50 courses.", "accepted_courses")
    return replace(wanted, reminder_days=tuple(days), accepted_courses=tuple(accepted))


async def _change_rules(
    s: AsyncSession, *, clock: Clock, actor: Actor, course_id: int, wanted: _RulesInput
) -> CourseRulesView:
    return await _change_rules_at(
        s, now=clock.now(), actor=actor, course_id=course_id, wanted=wanted
    )


async def _change_rules_at(
    s: AsyncSession, *, now: datetime, actor: Actor, course_id: int, wanted: _RulesInput
) -> CourseRulesView:
    course = await _course(s, course_id)
    parsed = await _parse_rule(s, course, wanted)
    await _check_accepted(s, course, wanted.accepted_courses)
    row = await _save_rules(s, course, parsed, wanted, now=now)
    if parsed is not None:
        await _complete_learners_meeting(s, course, parsed, now=now)
    await audit.record(
        s,
        action="course.record_rules_changed",
        now=now,
        actor=actor,
        target=f"course {course.id}",
        details={"code": course.code, "mandatory": row.mandatory},
    )
    return _rules_view(course, row)


async def _course(s: AsyncSession, course_id: int) -> Course:
    course = await s.get(Course, course_id)
    if course is None:
        raise NotFoundError(f"There is no course {course_id}.")
    return course


async def _parse_rule(
    s: AsyncSession, course: Course, wanted: _RulesInput
) -> rules.CompletionRule | None:
    """The rule asked for, its criteria courses known; None for a course completed by itself."""
    try:
        parsed = rules.parse_rule(course.code, wanted.completion_mode, wanted.criteria)
    except rules.RuleError as exc:
        raise InvalidError(str(exc), "completion_rule") from exc
    if parsed is None:
        return None
    known = set(
        (await s.scalars(select(Course.code).where(Course.code.in_(list(parsed.criteria))))).all()
    )
    missing = [c for c in parsed.criteria if c not in known]
    if missing:
        raise InvalidError(f"There is no course with code {', '.join(missing)}.", "completion_rule")
    return parsed


async def _check_accepted(s: AsyncSession, course: Course, codes: Sequence[str]) -> None:
    """Accepted courses exist and are other courses."""
    if course.code in codes:
        raise InvalidError(
            f"{course.code} is the course itself: its own completions always count.",
            "accepted_courses",
        )
    if not codes:
        return
    known = set((await s.scalars(select(Course.code).where(Course.code.in_(list(codes))))).all())
    missing = [c for c in codes if c not in known]
    if missing:
        raise InvalidError(
            f"There is no course with code {', '.join(missing)}.", "accepted_courses"
        )


async def _save_rules(
    s: AsyncSession,
    course: Course,
    parsed: rules.CompletionRule | None,
    wanted: _RulesInput,
    *,
    now: datetime,
) -> CourseRecordRule:
    row = await s.get(CourseRecordRule, course.id)
    if row is None:
        row = CourseRecordRule(course_id=course.id, updated_at=now)
        s.add(row)
    row.completion_mode = parsed.mode if parsed else None
    row.criteria = {"codes": list(parsed.criteria)} if parsed else None
    row.mandatory = wanted.mandatory
    row.due_within_days = wanted.due_within_days
    days = list(wanted.reminder_days)
    row.reminder_days = None if days == list(DEFAULT_REMINDER_DAYS) else days
    row.escalate_after_days = wanted.escalate_after_days
    row.accepted_courses = (
        {"codes": list(wanted.accepted_courses)} if wanted.accepted_courses else None
    )
    starts_awarding = wanted.certificate and not row.certificate
    row.certificate = wanted.certificate
    row.updated_at = now
    await s.flush()
    if starts_awarding:
        await issue_missing_certificates(s, course.id, now)
    return row


async def _complete_learners_meeting(
    s: AsyncSession, course: Course, rule: rules.CompletionRule, *, now: datetime
) -> None:
    """Everyone with a completion of a criterion gets the course's derived completions now."""
    learners = (
        await s.scalars(
            select(Completion.learner_id)
            .join(Course, Course.id == Completion.course_id)
            .where(Course.code.in_(list(rule.criteria)))
            .distinct()
        )
    ).all()
    for learner_id in sorted(learners):
        if await sync_derived(s, learner_id, course, rule, now=now):
            await complete_dependents(s, learner_id, {course.code}, now=now)


def _rules_view(course: Course, row: CourseRecordRule | None) -> CourseRulesView:
    rule = rule_of(course, row)
    return CourseRulesView(
        course_id=course.id,
        code=course.code,
        completion_mode=cast(CompletionMode, rule.mode) if rule else None,
        criteria=list(rule.criteria) if rule else [],
        mandatory=bool(row and row.mandatory),
        due_within_days=row.due_within_days if row else None,
        reminder_days=reminder_days_of(row),
        escalate_after_days=row.escalate_after_days if row else DEFAULT_ESCALATE_AFTER_DAYS,
        accepted_courses=list((row.accepted_courses or {}).get("codes", [])) if row else [],
        certificate=bool(row and row.certificate),
    )


def reminder_days_of(row: CourseRecordRule | None) -> list[int]:
    """The days a requirement of this course is chased on (the default days without a rule)."""
    if row is None or row.reminder_days is None:
        return list(DEFAULT_REMINDER_DAYS)
    return [int(d) for d in row.reminder_days]


async def get_course_rules(db: Database, actor: Actor, course_id: int) -> CourseRulesView:
    """A course's completion rule and whether it is mandatory (administrators)."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can see how courses are completed.")
    async with db.reading() as s:
        course = await _course(s, course_id)
        return _rules_view(course, await s.get(CourseRecordRule, course.id))
