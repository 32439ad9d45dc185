"""Completions coming in from the e-learning side (API and, later, CSV): they satisfy
prerequisites and certifications like workshop attendance does.

Idempotent per (learner, course, completed_at): sending the same completion twice records it
once. One bad item never rejects the others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from booking.clock import Clock
from booking.db import Database
from booking.domain.eligibility import add_months
from booking.models import Completion, Course, Person
from booking.services.actors import Actor
from booking.services.common import with_retry
from booking.services.errors import ForbiddenError, InvalidError

SOURCES = ("elearning", "import", "workshop")
MAX_ITEMS = 5000


@dataclass(frozen=True, slots=True)
class CompletionInput:
    course_code: str
    completed_at: datetime
    learner_email: str | None = None
    personnel_number: str | None = None
    source: str = "elearning"


@dataclass(slots=True)
class ItemResult:
    index: int
    status: str  # accepted | duplicate | error
    message: str | None = None


def _may_write_records(actor: Actor) -> bool:
    return actor.scope == "records" or actor.is_admin


async def record_completions(
    db: Database, clock: Clock, actor: Actor, items: list[CompletionInput]
) -> tuple[int, list[ItemResult]]:
    if not _may_write_records(actor):
        raise ForbiddenError("Only the records service and administrators can send completions.")
    if len(items) > MAX_ITEMS:
        raise InvalidError(f"Send at most {MAX_ITEMS} completions at a time.", "items")

    async def attempt() -> tuple[int, list[ItemResult]]:
        async with db.transaction() as s:
            now = clock.now()
            emails = {i.learner_email.strip().lower() for i in items if i.learner_email}
            numbers = {i.personnel_number.strip() for i in items if i.personnel_number}
            codes = {i.course_code.strip() for i in items}
            by_email: dict[str, int] = {}
            by_number: dict[str, int] = {}
            if emails:
                by_email = dict(
                    (
                        await s.execute(
                            select(Person.email, Person.id).where(Person.email.in_(emails))
                        )
                    ).all()
                )
            if numbers:
                by_number = {
                    k: v
                    for k, v in (
                        await s.execute(
                            select(Person.personnel_number, Person.id).where(
                                Person.personnel_number.in_(numbers)
                            )
                        )
                    ).all()
                    if k is not None
                }
            courses = {
                c.code: c for c in await s.scalars(select(Course).where(Course.code.in_(codes)))
            }
            results: list[ItemResult] = []
            accepted = 0
            for index, item in enumerate(items):
                learner_id = (
                    by_email.get(item.learner_email.strip().lower())
                    if item.learner_email
                    else by_number.get((item.personnel_number or "").strip())
                )
                course = courses.get(item.course_code.strip())
                problem = _problem(item, learner_id, course, now)
                if problem:
                    results.append(ItemResult(index, "error", problem))
                    continue
                assert learner_id is not None and course is not None
                completed_at = item.completed_at.astimezone(UTC)
                duplicate = await s.scalar(
                    select(Completion.id).where(
                        Completion.learner_id == learner_id,
                        Completion.course_id == course.id,
                        Completion.completed_at == completed_at,
                    )
                )
                if duplicate is not None:
                    results.append(ItemResult(index, "duplicate", "Already recorded."))
                    continue
                try:
                    async with s.begin_nested():
                        s.add(
                            Completion(
                                learner_id=learner_id,
                                course_id=course.id,
                                completed_at=completed_at,
                                expires_at=add_months(completed_at, course.certification_months)
                                if course.certification_months
                                else None,
                                source=item.source,
                                recorded_at=now,
                            )
                        )
                        await s.flush()
                except IntegrityError:
                    results.append(ItemResult(index, "duplicate", "Already recorded."))
                    continue
                accepted += 1
                results.append(ItemResult(index, "accepted"))
            return accepted, results

    return await with_retry(attempt)


def _problem(
    item: CompletionInput, learner_id: int | None, course: Any, now: datetime
) -> str | None:
    if not item.learner_email and not item.personnel_number:
        return "Give learner_email or personnel_number."
    if learner_id is None:
        who = item.learner_email or item.personnel_number
        return (
            f"There is nobody with {'email' if item.learner_email else 'personnel number'} {who}."
        )
    if course is None:
        return f"There is no course with code {item.course_code}."
    if item.completed_at.tzinfo is None:
        return "completed_at needs a time zone offset (RFC 3339)."
    if item.completed_at > now:
        return "completed_at is in the future."
    if item.source not in SOURCES:
        return "source must be elearning, import or workshop."
    return None
