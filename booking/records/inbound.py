"""Inbound completions: the learning-records service's API and administrators' CSV import.

They are idempotent per (learner, course, completed_at): sending the same completion twice
records it once. One bad item never rejects the others.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.vocabulary import CompletionStatus
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.models import Course, Person
from booking.records.completions import add_completion

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
    status: CompletionStatus
    message: str | None = None


async def record_completions(
    db: Database, clock: Clock, actor: Actor, items: list[CompletionInput]
) -> tuple[int, list[ItemResult]]:
    """Record completions sent by the records service (or an administrator), each on its own:
    how many were accepted, and a result per item."""
    if not policy.can_sync_records(actor):
        raise ForbiddenError("Only the records service and administrators can send completions.")
    if len(items) > MAX_ITEMS:
        raise InvalidError(f"Send at most {MAX_ITEMS} completions at a time.", "items")
    return await tx.run(db, partial(_record_all, clock=clock, actor=actor, items=items))


async def _record_all(
    s: AsyncSession, *, clock: Clock, actor: Actor, items: list[CompletionInput]
) -> tuple[int, list[ItemResult]]:
    now = clock.now()
    by_email, by_number = await _learner_ids(s, items)
    codes = {i.course_code.strip() for i in items}
    courses = {c.code: c for c in await s.scalars(select(Course).where(Course.code.in_(codes)))}
    results: list[ItemResult] = []
    for index, item in enumerate(items):
        learner_id = (
            by_email.get(item.learner_email.strip().lower())
            if item.learner_email
            else by_number.get((item.personnel_number or "").strip())
        )
        course = courses.get(item.course_code.strip())
        results.append(await _record_one(s, index, item, learner_id, course, now))
    accepted = sum(1 for r in results if r.status == "accepted")
    if accepted:
        await audit.record(
            s,
            action="records.completions_added",
            now=now,
            actor=actor,
            target=", ".join(sorted(codes))[:200],
            details={"accepted": accepted, "sent": len(items)},
        )
    return accepted, results


async def _learner_ids(
    s: AsyncSession, items: Sequence[CompletionInput]
) -> tuple[dict[str, int], dict[str, int]]:
    """The people the items name: by lowered email, and by personnel number."""
    emails = {i.learner_email.strip().lower() for i in items if i.learner_email}
    numbers = {i.personnel_number.strip() for i in items if i.personnel_number}
    by_email: dict[str, int] = {}
    by_number: dict[str, int] = {}
    if emails:
        by_email = dict(
            (await s.execute(select(Person.email, Person.id).where(Person.email.in_(emails)))).all()
        )
    if numbers:
        rows = await s.execute(
            select(Person.personnel_number, Person.id).where(Person.personnel_number.in_(numbers))
        )
        by_number = {k: v for k, v in rows.all() if k is not None}
    return by_email, by_number


async def _record_one(
    s: AsyncSession,
    index: int,
    item: CompletionInput,
    learner_id: int | None,
    course: Course | None,
    now: datetime,
) -> ItemResult:
    problem = _problem(item, learner_id, course, now)
    if problem:
        return ItemResult(index, "error", problem)
    assert learner_id is not None and course is not None
    try:
        written = await add_completion(
            s,
            learner_id=learner_id,
            course=course,
            completed_at=item.completed_at.astimezone(UTC),
            source=item.source,
            now=now,
        )
    except IntegrityError:
        written = None
    if written is None:
        return ItemResult(index, "duplicate", "Already recorded.")
    return ItemResult(index, "accepted")


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


def parse_completions_csv(text: str) -> tuple[list[tuple[int, CompletionInput]], list[ItemResult]]:
    """Rows of a CSV file with a header naming `course_code`, `completed_at` (RFC 3339, or a
    date, taken as midnight UTC) and `learner_email` or `personnel_number`, each with its row
    number (the header is row 1). Rows whose date cannot be read are reported as problems."""
    # newline="": the csv module reads \r, \n and \r\n line ends itself (a lone \r in a
    # field is otherwise an error); a field past csv's size limit is a bad file, not a crash.
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        header = {(h or "").strip().lower() for h in reader.fieldnames or ()}
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidError(f"The CSV file cannot be read: {exc}.", "file") from None
    if "course_code" not in header or "completed_at" not in header:
        raise InvalidError(
            "The CSV file needs a header row with course_code, completed_at and learner_email "
            "or personnel_number.",
            "file",
        )
    items: list[tuple[int, CompletionInput]] = []
    problems: list[ItemResult] = []
    for row_number, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        if len(items) + len(problems) >= MAX_ITEMS:
            raise InvalidError(f"Send at most {MAX_ITEMS} completions at a time.", "file")
        item = _csv_item(row)
        if item is None:
            problems.append(ItemResult(row_number, "error", "completed_at is not a date."))
        else:
            items.append((row_number, item))
    return items, problems


def _csv_item(row: dict[str, str]) -> CompletionInput | None:
    """One CSV row as a completion; None when its date cannot be read."""
    text_at = row.get("completed_at", "")
    try:
        at = datetime.fromisoformat(text_at)
    except ValueError:
        return None
    if at.tzinfo is None and len(text_at) <= 10:
        at = at.replace(tzinfo=UTC)  # a bare date: midnight UTC
    return CompletionInput(
        course_code=row.get("course_code", ""),
        completed_at=at,
        learner_email=row.get("learner_email") or None,
        personnel_number=row.get("personnel_number") or None,
        source="import",
    )


async def import_completions_csv(
    db: Database, clock: Clock, actor: Actor, text: str
) -> tuple[int, list[ItemResult]]:
    """Administrators' CSV import (source `import`); results carry the file's row numbers."""
    if not policy.can_import_completions(actor):
        raise ForbiddenError("Only administrators can import completions.")
    numbered, problems = parse_completions_csv(text)
    accepted, results = (
        await record_completions(db, clock, actor, [item for _, item in numbered])
        if numbered
        else (0, [])
    )
    for r in results:
        r.index = numbered[r.index][0]
    return accepted, sorted([*problems, *results], key=lambda r: r.index)
