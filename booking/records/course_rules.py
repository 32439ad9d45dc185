"""How a course is completed (by itself, or through `all` / `any` of other courses) and whether
it is mandatory for its audience: administrators read and change it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain import records as rules
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import Completion, Course, CourseRecordRule
from booking.records.criteria import complete_dependents, rule_of, sync_derived


@dataclass(slots=True)
class CourseRulesView:
    course_id: int
    code: str
    completion_mode: str | None
    criteria: list[str]
    mandatory: bool
    due_within_days: int | None


@dataclass(frozen=True, slots=True)
class _RulesInput:
    completion_mode: str | None
    criteria: Sequence[str]
    mandatory: bool
    due_within_days: int | None


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
) -> CourseRulesView:
    """How the course is completed (`all` / `any` of other courses, or by itself) and whether
    it is mandatory for its audience. Learners who already meet new criteria are completed now."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change how courses are completed.")
    _check_due(due_within_days)
    wanted = _RulesInput(completion_mode, criteria, mandatory, due_within_days)
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
) -> Callable[[AsyncSession, int, datetime], Awaitable[None]]:
    """`set_course_rules` as a step of another use case's transaction (the course form saves
    the course and its rules together): checked now, written when the step runs, refusing
    (so the whole transaction rolls back) as `set_course_rules` would."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change how courses are completed.")
    _check_due(due_within_days)
    wanted = _RulesInput(completion_mode, criteria, mandatory, due_within_days)

    async def step(s: AsyncSession, course_id: int, now: datetime) -> None:
        await _change_rules_at(s, now=now, actor=actor, course_id=course_id, wanted=wanted)

    return step


def _check_due(due_within_days: int | None) -> None:
    if due_within_days is not None and not 0 <= due_within_days <= 3650:
        raise InvalidError("due_within_days must be from 0 to 3650.", "due_within_days")


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
    row.updated_at = now
    await s.flush()
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
        completion_mode=rule.mode if rule else None,
        criteria=list(rule.criteria) if rule else [],
        mandatory=bool(row and row.mandatory),
        due_within_days=row.due_within_days if row else None,
    )


async def get_course_rules(db: Database, actor: Actor, course_id: int) -> CourseRulesView:
    """A course's completion rule and whether it is mandatory (administrators)."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can see how courses are completed.")
    async with db.reading() as s:
        course = await _course(s, course_id)
        return _rules_view(course, await s.get(CourseRecordRule, course.id))
