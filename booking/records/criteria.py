"""Courses completed through criteria (`all` or `any` of other courses): their completions
follow the completions of their criteria, inside the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain import records as rules
from booking.models import Completion, Course, CourseRecordRule
from booking.records.certificates import issue_certificates
from booking.records.changes import (
    completion_change,
    new_completion,
    write_changes,
)

# A completion written because the course's criteria were met.
CRITERIA_SOURCE = "criteria"


def rule_of(course: Course, rule: CourseRecordRule | None) -> rules.CompletionRule | None:
    """The course's completion rule, or None when it is completed by itself."""
    if rule is None or rule.completion_mode is None:
        return None
    codes = tuple((rule.criteria or {}).get("codes") or ())
    return rules.CompletionRule(rule.completion_mode, codes) if codes else None


async def _rules_using(s: AsyncSession) -> list[tuple[Course, rules.CompletionRule]]:
    rows = (
        await s.execute(
            select(Course, CourseRecordRule)
            .join(CourseRecordRule, CourseRecordRule.course_id == Course.id)
            .where(CourseRecordRule.completion_mode.is_not(None))
        )
    ).all()
    out = []
    for course, rule in rows:
        parsed = rule_of(course, rule)
        if parsed is not None:
            out.append((course, parsed))
    return out


async def _criteria_done(
    s: AsyncSession, learner_id: int, codes: Iterable[str]
) -> dict[str, list[datetime]]:
    done: dict[str, list[datetime]] = defaultdict(list)
    for code, at in await s.execute(
        select(Course.code, Completion.completed_at)
        .join(Course, Course.id == Completion.course_id)
        .where(Completion.learner_id == learner_id, Course.code.in_(list(codes)))
    ):
        done[code].append(at)
    return done


async def complete_dependents(
    s: AsyncSession, learner_id: int, changed: set[str], *, now: datetime
) -> None:
    """Courses completed through criteria follow the completions of their criteria: derived
    completions are added or withdrawn until they match `rules.derived_completions`. A course
    completed that way may itself be a criterion of another (followed, once per course)."""
    courses_with_rules = await _rules_using(s)
    if not courses_with_rules:
        return
    seen: set[str] = set()
    pending = set(changed)
    while pending:
        code = pending.pop()
        seen.add(code)
        for course, rule in courses_with_rules:
            if code not in rule.criteria:
                continue
            if await sync_derived(s, learner_id, course, rule, now=now) and course.code not in seen:
                pending.add(course.code)


async def sync_derived(
    s: AsyncSession, learner_id: int, course: Course, rule: rules.CompletionRule, *, now: datetime
) -> bool:
    """Make the learner's derived completions of `course` what its rule says; True if any
    changed."""
    wanted = set(
        rules.derived_completions(rule, await _criteria_done(s, learner_id, rule.criteria))
    )
    have = {
        c.completed_at: c
        for c in await s.scalars(
            select(Completion).where(
                Completion.learner_id == learner_id,
                Completion.course_id == course.id,
                Completion.source == CRITERIA_SOURCE,
            )
        )
    }
    withdrawn = await _withdraw_unwanted(s, have, wanted, now=now)
    added = await _add_wanted(s, learner_id, course, sorted(wanted - set(have)), now=now)
    return withdrawn or added


async def _withdraw_unwanted(
    s: AsyncSession, have: dict[datetime, Completion], wanted: set[datetime], *, now: datetime
) -> bool:
    changed = False
    for at, completion in sorted(have.items()):
        if at not in wanted:
            change = completion_change(completion, "withdrawn", now)
            await s.execute(delete(Completion).where(Completion.id == completion.id))
            await write_changes(s, [change])
            changed = True
    return changed


async def _add_wanted(
    s: AsyncSession, learner_id: int, course: Course, times: list[datetime], *, now: datetime
) -> bool:
    changed = False
    for at in times:
        completion = await new_completion(
            s,
            learner_id=learner_id,
            course=course,
            completed_at=at,
            source=CRITERIA_SOURCE,
            now=now,
        )
        if completion is None:
            continue
        s.add(completion)
        await s.flush()
        await write_changes(s, [completion_change(completion, "completed", now)])
        await issue_certificates(s, [completion], now)
        changed = True
    return changed
