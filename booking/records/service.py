"""Learner records: completions (from attendance, the e-learning side, imports and course
criteria), the records change feed, the record of learning, required learning, the manager's team,
the compliance report, certification notices, and xAPI statements for the learning record store.

**The change feed** (`GET /api/v1/records?since=`): every completion written or withdrawn and
every attendance mark is a `record_changes` row, written in the transaction of the change. Its
number comes from the one `record_feed_counter` row, updated (so locked) in that transaction:
a second writer waits until the first commits or rolls back, so numbers are handed out without
gaps and become visible in order. A reader that has seen change n has seen every change before n.

**Inbound completions** are idempotent per (learner, course, completed_at): sending the same
completion twice records it once. One bad item never rejects the others.
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import eligibility, policy, xapi
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.domain import records as rules
from booking.domain.eligibility import Audience, LearnerProfile, add_months, audience_reasons
from booking.domain.states import state_name
from booking.kernel import audit, claims
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.kernel.exports import safe_cell
from booking.kernel.outbox import queue_email
from booking.kernel.tx import with_retry
from booking.models import (
    Booking,
    BookingHistory,
    Completion,
    Course,
    CourseRecordRule,
    OrgUnit,
    Outbox,
    Person,
    RecordChange,
    RecordFeedCounter,
    RecordSweepMark,
)
from booking.models import Session as SessionRow

log = logging.getLogger(__name__)

SOURCES = ("elearning", "import", "workshop")
# A completion written because the course's criteria were met.
CRITERIA_SOURCE = "criteria"
MAX_ITEMS = 5000
FEED_LIMIT = 1000
ACTIVE_BOOKING_STATES = ("pending_approval", "pending_payment", "booked", "offered", "waitlisted")
ATTENDANCE_STATES = ("attended", "partially_attended", "no_show")


# ---------------------------------------------------------------------------------------------
# Writing changes (inside the caller's transaction)


async def _next_seqs(s: AsyncSession, n: int) -> list[int]:
    """`n` consecutive change numbers. The counter row stays locked until the transaction ends,
    which is what makes the feed gap-free (see the module's docstring)."""
    take = (
        update(RecordFeedCounter)
        .where(RecordFeedCounter.id == 1)
        .values(last_seq=RecordFeedCounter.last_seq + n)
        .returning(RecordFeedCounter.last_seq)
    )
    last = await s.scalar(take)
    if last is None:
        # The migration makes the row; a database emptied since (tests truncate every table)
        # gets it back here. Concurrent writers may race to insert it: one wins, the others
        # wait for its commit and then update it like any other writer.
        await s.execute(
            text(
                "INSERT INTO record_feed_counter (id, last_seq) VALUES (1, 0) "
                "ON CONFLICT (id) DO NOTHING"
            )
        )
        last = await s.scalar(take)
    assert last is not None
    return list(range(int(last) - n + 1, int(last) + 1))


async def _write_changes(s: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    seqs = await _next_seqs(s, len(rows))
    await s.execute(
        insert(RecordChange), [{**row, "seq": seq} for seq, row in zip(seqs, rows, strict=True)]
    )


def _completion_change(c: Completion, status: str, now: datetime) -> dict[str, Any]:
    return {
        "kind": "completion",
        "learner_id": c.learner_id,
        "course_id": c.course_id,
        "session_id": None,
        "booking_id": c.booking_id,
        "completion_id": c.id,
        "status": status,
        "completed_at": c.completed_at,
        "expires_at": c.expires_at,
        "source": c.source,
        "recorded_at": now,
    }


async def note_attendance(
    s: AsyncSession, *, booking: Booking, session: SessionRow, now: datetime
) -> None:
    """An attendance mark (the booking's new state) goes into the change feed."""
    await _write_changes(
        s,
        [
            {
                "kind": "attendance",
                "learner_id": booking.learner_id,
                "course_id": booking.course_id,
                "session_id": session.id,
                "booking_id": booking.id,
                "completion_id": None,
                "status": booking.state,
                "completed_at": session.ends_at,
                "expires_at": None,
                "source": "workshop",
                "recorded_at": now,
            }
        ],
    )


async def add_completion(
    s: AsyncSession,
    *,
    learner_id: int,
    course: Course,
    completed_at: datetime,
    source: str,
    now: datetime,
    booking_id: int | None = None,
    session_id: int | None = None,
) -> Completion | None:
    """Write a completion with its expiry and its change, then complete any course whose
    criteria it meets. None if the learner already has a completion of the course at that
    moment (the same completion, told twice)."""
    same = await s.scalar(
        select(Completion.id).where(
            Completion.learner_id == learner_id,
            Completion.course_id == course.id,
            Completion.completed_at == completed_at,
        )
    )
    if same is not None:
        return None
    completion = Completion(
        learner_id=learner_id,
        course_id=course.id,
        completed_at=completed_at,
        expires_at=add_months(completed_at, course.certification_months)
        if course.certification_months
        else None,
        source=source,
        booking_id=booking_id,
        recorded_at=now,
    )
    async with s.begin_nested():
        s.add(completion)
        await s.flush()
    change = _completion_change(completion, "completed", now)
    change["session_id"] = session_id
    await _write_changes(s, [change])
    await _complete_dependents(s, learner_id, {course.code}, now=now)
    return completion


async def withdraw_completion(
    s: AsyncSession, completion: Completion, *, now: datetime, session_id: int | None = None
) -> None:
    """Remove a completion that no longer stands (attendance changed); its change says so."""
    code = await s.scalar(select(Course.code).where(Course.id == completion.course_id))
    change = _completion_change(completion, "withdrawn", now)
    change["session_id"] = session_id
    await s.execute(delete(Completion).where(Completion.id == completion.id))
    await _write_changes(s, [change])
    if code is not None:
        await _complete_dependents(s, completion.learner_id, {code}, now=now)


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
        parsed = _rule_of(course, rule)
        if parsed is not None:
            out.append((course, parsed))
    return out


def _rule_of(course: Course, rule: CourseRecordRule | None) -> rules.CompletionRule | None:
    if rule is None or rule.completion_mode is None:
        return None
    codes = tuple((rule.criteria or {}).get("codes") or ())
    return rules.CompletionRule(rule.completion_mode, codes) if codes else None


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


async def _complete_dependents(
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
            if (
                await _sync_derived(s, learner_id, course, rule, now=now)
                and course.code not in seen
            ):
                pending.add(course.code)


async def _sync_derived(
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
    changed = False
    for at, completion in sorted(have.items()):
        if at not in wanted:
            change = _completion_change(completion, "withdrawn", now)
            await s.execute(delete(Completion).where(Completion.id == completion.id))
            await _write_changes(s, [change])
            changed = True
    for at in sorted(wanted - set(have)):
        same = await s.scalar(
            select(Completion.id).where(
                Completion.learner_id == learner_id,
                Completion.course_id == course.id,
                Completion.completed_at == at,
            )
        )
        if same is not None:
            continue
        completion = Completion(
            learner_id=learner_id,
            course_id=course.id,
            completed_at=at,
            expires_at=add_months(at, course.certification_months)
            if course.certification_months
            else None,
            source=CRITERIA_SOURCE,
            recorded_at=now,
        )
        s.add(completion)
        await s.flush()
        await _write_changes(s, [_completion_change(completion, "completed", now)])
        changed = True
    return changed


# ---------------------------------------------------------------------------------------------
# Inbound completions (API and CSV import)


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
                    results.append(ItemResult(index, "duplicate", "Already recorded."))
                    continue
                accepted += 1
                results.append(ItemResult(index, "accepted"))
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


def parse_completions_csv(text: str) -> tuple[list[tuple[int, CompletionInput]], list[ItemResult]]:
    """Rows of a CSV file with a header naming `course_code`, `completed_at` (RFC 3339, or a
    date, taken as midnight UTC) and `learner_email` or `personnel_number`, each with its row
    number (the header is row 1). Rows whose date cannot be read are reported as problems."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(h or "").strip().lower() for h in reader.fieldnames or ()}
    if "course_code" not in header or "completed_at" not in header:
        raise InvalidError(
            "The CSV file needs a header row with course_code, completed_at and learner_email "
            "or personnel_number.",
            "file",
        )
    items: list[tuple[int, CompletionInput]] = []
    problems: list[ItemResult] = []
    for row_number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        if len(items) + len(problems) >= MAX_ITEMS:
            raise InvalidError(f"Send at most {MAX_ITEMS} completions at a time.", "file")
        text_at = row.get("completed_at", "")
        try:
            at = datetime.fromisoformat(text_at)
        except ValueError:
            problems.append(ItemResult(row_number, "error", "completed_at is not a date."))
            continue
        if at.tzinfo is None and len(text_at) <= 10:
            at = at.replace(tzinfo=UTC)  # a bare date: midnight UTC
        items.append(
            (
                row_number,
                CompletionInput(
                    course_code=row.get("course_code", ""),
                    completed_at=at,
                    learner_email=row.get("learner_email") or None,
                    personnel_number=row.get("personnel_number") or None,
                    source="import",
                ),
            )
        )
    return items, problems


async def import_completions_csv(
    db: Database, clock: Clock, actor: Actor, text: str
) -> tuple[int, list[ItemResult]]:
    """Administrators' CSV import (source `import`); results carry the file's row numbers."""
    if not actor.is_admin:
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


# ---------------------------------------------------------------------------------------------
# Course record rules (administrators)


@dataclass(slots=True)
class CourseRulesView:
    course_id: int
    code: str
    completion_mode: str | None
    criteria: list[str]
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
    if due_within_days is not None and not 0 <= due_within_days <= 3650:
        raise InvalidError("due_within_days must be from 0 to 3650.", "due_within_days")

    async def attempt() -> CourseRulesView:
        async with db.transaction() as s:
            now = clock.now()
            course = await s.get(Course, course_id)
            if course is None:
                raise NotFoundError(f"There is no course {course_id}.")
            try:
                parsed = rules.parse_rule(course.code, completion_mode, criteria)
            except rules.RuleError as exc:
                raise InvalidError(str(exc), "completion_rule") from exc
            if parsed is not None:
                known = set(
                    (
                        await s.scalars(
                            select(Course.code).where(Course.code.in_(list(parsed.criteria)))
                        )
                    ).all()
                )
                missing = [c for c in parsed.criteria if c not in known]
                if missing:
                    raise InvalidError(
                        f"There is no course with code {', '.join(missing)}.", "completion_rule"
                    )
            row = await s.get(CourseRecordRule, course.id)
            if row is None:
                row = CourseRecordRule(course_id=course.id, updated_at=now)
                s.add(row)
            row.completion_mode = parsed.mode if parsed else None
            row.criteria = {"codes": list(parsed.criteria)} if parsed else None
            row.mandatory = mandatory
            row.due_within_days = due_within_days
            row.updated_at = now
            await s.flush()
            if parsed is not None:
                learners = (
                    await s.scalars(
                        select(Completion.learner_id)
                        .join(Course, Course.id == Completion.course_id)
                        .where(Course.code.in_(list(parsed.criteria)))
                        .distinct()
                    )
                ).all()
                for learner_id in sorted(learners):
                    if await _sync_derived(s, learner_id, course, parsed, now=now):
                        await _complete_dependents(s, learner_id, {course.code}, now=now)
            await audit.record(
                s,
                action="course.record_rules_changed",
                now=now,
                actor=actor,
                target=f"course {course.id}",
                details={"code": course.code, "mandatory": row.mandatory},
            )
            return _rules_view(course, row)

    return await with_retry(attempt)


def _rules_view(course: Course, row: CourseRecordRule | None) -> CourseRulesView:
    rule = _rule_of(course, row)
    return CourseRulesView(
        course_id=course.id,
        code=course.code,
        completion_mode=rule.mode if rule else None,
        criteria=list(rule.criteria) if rule else [],
        mandatory=bool(row and row.mandatory),
        due_within_days=row.due_within_days if row else None,
    )


async def get_course_rules(db: Database, actor: Actor, course_id: int) -> CourseRulesView:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can see how courses are completed.")
    async with db.reading() as s:
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        return _rules_view(course, await s.get(CourseRecordRule, course.id))


# ---------------------------------------------------------------------------------------------
# The change feed


@dataclass(slots=True)
class FeedLearner:
    id: int
    email: str
    personnel_number: str | None


@dataclass(slots=True)
class FeedItem:
    cursor: str
    type: str
    learner: FeedLearner
    course_code: str
    session_id: int | None
    booking_id: int | None
    status: str
    completed_at: datetime | None
    expires_at: datetime | None
    source: str | None
    recorded_at: datetime


@dataclass(slots=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str


# Cursors are 64-bit sequence numbers.
MAX_CURSOR = 2**63 - 1


def parse_cursor(value: str | None) -> int:
    if value in (None, ""):
        return 0
    try:
        cursor = int(value)
    except ValueError:
        raise InvalidError("This cursor is not one the server gave out.", "since") from None
    if not 0 <= cursor <= MAX_CURSOR:
        raise InvalidError("This cursor is not one the server gave out.", "since")
    return cursor


async def records_feed(
    db: Database, actor: Actor, *, since: str | None, limit: int = 500
) -> FeedPage:
    """Changes after `since`, oldest first. `next_cursor` is the last change returned, or
    `since` itself when nothing is new: asking again with it never misses or repeats one."""
    if not _may_write_records(actor):
        raise ForbiddenError("Only the records service and administrators can read the feed.")
    after = parse_cursor(since)
    limit = max(1, min(limit, FEED_LIMIT))
    async with db.reading() as s:
        rows = (
            await s.execute(
                select(RecordChange, Person.email, Person.personnel_number, Course.code)
                .join(Person, Person.id == RecordChange.learner_id)
                .join(Course, Course.id == RecordChange.course_id)
                .where(RecordChange.seq > after)
                .order_by(RecordChange.seq)
                .limit(limit)
            )
        ).all()
    items = [
        FeedItem(
            cursor=str(c.seq),
            type=c.kind,
            learner=FeedLearner(c.learner_id, email, number),
            course_code=code,
            session_id=c.session_id,
            booking_id=c.booking_id,
            status=c.status,
            completed_at=c.completed_at,
            expires_at=c.expires_at,
            source=c.source,
            recorded_at=c.recorded_at,
        )
        for c, email, number, code in rows
    ]
    return FeedPage(items, items[-1].cursor if items else str(after))


# ---------------------------------------------------------------------------------------------
# Reading records: facts for many learners in a fixed number of queries


@dataclass(slots=True)
class _Learner:
    person: Person
    unit_path: tuple[str, ...]
    unit_code: str | None
    unit_name: str | None
    completions: dict[int, list[Completion]] = field(default_factory=dict)
    bookings: list[tuple[Booking, SessionRow]] = field(default_factory=list)


@dataclass(slots=True)
class _Catalogue:
    courses: dict[int, Course]
    by_code: dict[str, Course]
    rule_rows: dict[int, CourseRecordRule]

    def facts(self, course: Course) -> rules.CourseFacts:
        row = self.rule_rows.get(course.id)
        return rules.CourseFacts(
            course_id=course.id,
            code=course.code,
            title=course.title,
            mandatory=bool(row and row.mandatory),
            due_within_days=row.due_within_days if row else None,
            certification_window_days=course.certification_window_days,
            certifies=bool(course.certification_months),
        )


async def _catalogue(s: AsyncSession) -> _Catalogue:
    """Every course and every rule: for the compliance report, which covers everyone."""
    courses = {c.id: c for c in await s.scalars(select(Course))}
    return _Catalogue(
        courses,
        {c.code: c for c in courses.values()},
        {r.course_id: r for r in await s.scalars(select(CourseRecordRule))},
    )


async def _catalogue_for(s: AsyncSession, learners: Sequence[_Learner]) -> _Catalogue:
    """The part of the catalogue these learners' records can show, not every course: the
    courses they have completions or bookings for, with their rules; every course that is
    mandatory for its audience or completed through criteria (`_relevant_courses` decides
    whether it concerns the learner); and the criteria courses of those, for their titles.
    A record built from it is the same as one built from the whole catalogue."""
    ids: set[int] = set()
    for learner in learners:
        ids.update(learner.completions)
        ids.update(b.course_id for b, _ in learner.bookings)
    rows = (
        await s.execute(
            select(Course, CourseRecordRule)
            .outerjoin(CourseRecordRule, CourseRecordRule.course_id == Course.id)
            .where(
                or_(
                    Course.id.in_(sorted(ids)),
                    CourseRecordRule.mandatory.is_(True),
                    CourseRecordRule.completion_mode.is_not(None),
                )
            )
        )
    ).all()
    courses = {c.id: c for c, _ in rows}
    rule_rows = {r.course_id: r for _, r in rows if r is not None}
    by_code = {c.code: c for c in courses.values()}
    criteria: set[str] = set()
    for course_id, row in rule_rows.items():
        rule = _rule_of(courses[course_id], row)
        if rule is not None:
            criteria.update(rule.criteria)
    missing = sorted(criteria - set(by_code))
    if missing:
        for c in await s.scalars(select(Course).where(Course.code.in_(missing))):
            courses[c.id] = c
            by_code[c.code] = c
    return _Catalogue(courses, by_code, rule_rows)


async def _all_units(s: AsyncSession) -> dict[int, OrgUnit]:
    return {u.id: u for u in await s.scalars(select(OrgUnit))}


async def _learners(
    s: AsyncSession,
    people: Sequence[Person],
    units: dict[int, OrgUnit],
    *,
    with_bookings: bool = True,
) -> list[_Learner]:
    """Each person's completions (and bookings), and their unit path from `units`, which must
    hold their units and every unit above them."""

    def path(unit_id: int | None) -> tuple[str, ...]:
        out: list[str] = []
        seen: set[int] = set()
        while unit_id is not None and unit_id in units and unit_id not in seen:
            seen.add(unit_id)
            out.append(units[unit_id].code)
            unit_id = units[unit_id].parent_id
        return tuple(out)

    learners = {
        p.id: _Learner(
            p,
            path(p.org_unit_id),
            units[p.org_unit_id].code if p.org_unit_id in units else None,
            units[p.org_unit_id].name if p.org_unit_id in units else None,
        )
        for p in people
    }
    ids = list(learners)
    for chunk in _chunks(ids, 500):
        for c in await s.scalars(
            select(Completion)
            .where(Completion.learner_id.in_(chunk))
            .order_by(Completion.completed_at)
        ):
            learners[c.learner_id].completions.setdefault(c.course_id, []).append(c)
        if with_bookings:
            for b, session in await s.execute(
                select(Booking, SessionRow)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(Booking.learner_id.in_(chunk))
                .order_by(SessionRow.starts_at)
            ):
                learners[b.learner_id].bookings.append((b, session))
    return [learners[i] for i in ids]


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _held(completions: Sequence[Completion]) -> list[rules.HeldCompletion]:
    return [rules.HeldCompletion(c.completed_at, c.expires_at) for c in completions]


def _in_audience(course: Course, learner: _Learner) -> bool:
    audience = Audience.from_json(course.audience)
    if audience is None:
        return True
    profile = LearnerProfile(
        id=learner.person.id,
        job_role=learner.person.job_role,
        staff_type=learner.person.staff_type,
        org_unit_path=learner.unit_path,
    )
    return not audience_reasons(audience, profile)


def _relevant_courses(cat: _Catalogue, learner: _Learner) -> list[Course]:
    """Courses that belong on the learner's record: completed, booked or attended, in progress
    through criteria, or mandatory for them."""
    ids = set(learner.completions)
    ids.update(b.course_id for b, _ in learner.bookings if b.state not in ("cancelled", "declined"))
    done_codes = {cat.courses[i].code for i in learner.completions if i in cat.courses}
    for course_id, row in cat.rule_rows.items():
        course = cat.courses.get(course_id)
        if course is None:
            continue
        rule = _rule_of(course, row)
        if rule is not None and done_codes.intersection(rule.criteria):
            ids.add(course_id)
        if row.mandatory and _in_audience(course, learner):
            ids.add(course_id)
    return sorted((cat.courses[i] for i in ids if i in cat.courses), key=lambda c: c.title)


def _mandatory_for(cat: _Catalogue, course: Course, learner: _Learner) -> bool:
    row = cat.rule_rows.get(course.id)
    return bool(row and row.mandatory and _in_audience(course, learner))


# ---------------------------------------------------------------------------------------------
# The record of learning


@dataclass(slots=True)
class CompletionView:
    completed_at: datetime
    expires_at: datetime | None
    source: str
    session_id: int | None = None


@dataclass(slots=True)
class CertificationView:
    course_id: int
    course_code: str
    course_title: str
    status: str
    status_label: str
    completed_at: datetime
    expires_at: datetime
    window_opens_at: datetime


@dataclass(slots=True)
class CriterionView:
    course_code: str
    course_title: str
    done_at: datetime | None


@dataclass(slots=True)
class BookingSummary:
    booking_id: int
    course_id: int
    session_id: int
    state: str
    starts_at: datetime
    ends_at: datetime


@dataclass(slots=True)
class CourseRecord:
    course_id: int
    course_code: str
    course_title: str
    # complete | expired | in_progress | booked | not_complete | required
    status: str
    status_label: str
    completed_at: datetime | None
    expires_at: datetime | None
    source: str | None
    mandatory: bool
    previous: list[CompletionView]
    completion_mode: str | None
    criteria: list[CriterionView]
    certification: CertificationView | None
    bookings: list[BookingSummary]


@dataclass(slots=True)
class RequiredView:
    course_id: int
    course_code: str
    course_title: str
    kind: str
    due_at: datetime | None
    status: str
    status_label: str
    overdue: bool


@dataclass(slots=True)
class ComplianceView:
    required: int
    compliant: int
    percent: int | None


@dataclass(slots=True)
class RecordPerson:
    id: int
    name: str
    email: str
    personnel_number: str | None
    job_role: str | None
    staff_type: str
    org_unit: str | None
    org_unit_name: str | None


@dataclass(slots=True)
class RecordView:
    person: RecordPerson
    courses: list[CourseRecord]
    certifications: list[CertificationView]
    required: list[RequiredView]
    compliance: ComplianceView
    as_of: datetime


_COURSE_STATUS_LABELS = {
    "complete": "Complete",
    "expired": "Expired",
    "in_progress": "In progress",
    "booked": "Booked",
    "not_complete": "Not complete",
    "required": "Required",
}
_REQUIRED_LABELS = {
    "window_open": "Renewal open",
    "due": "Renewal due",
    "overdue": "Overdue",
    "not_started": "Not started",
    "in_progress": "In progress",
    "expired": "Expired",
}


def _record(cat: _Catalogue, learner: _Learner, now: datetime) -> RecordView:
    courses: list[CourseRecord] = []
    certifications: list[CertificationView] = []
    required: list[RequiredView] = []
    totals = rules.Compliance(0, 0)
    p = learner.person
    for course in _relevant_courses(cat, learner):
        facts = cat.facts(course)
        mandatory = _mandatory_for(cat, course, learner)
        facts = rules.CourseFacts(
            facts.course_id,
            facts.code,
            facts.title,
            mandatory,
            facts.due_within_days,
            facts.certification_window_days,
            facts.certifies,
        )
        completions = learner.completions.get(course.id, [])
        held = _held(completions)
        last = completions[-1] if completions else None
        state = rules.course_state(facts, held, now)
        cert = None
        if state is not None:
            cert = CertificationView(
                course.id,
                course.code,
                course.title,
                state.status.value,
                rules.STATUS_LABELS[state.status],
                state.completed_at,
                state.expires_at,
                state.window_opens_at,
            )
            certifications.append(cert)
        rule = _rule_of(course, cat.rule_rows.get(course.id))
        criteria: list[CriterionView] = []
        if rule is not None:
            done: dict[str, list[datetime]] = {}
            for code in rule.criteria:
                c = cat.by_code.get(code)
                done[code] = (
                    [x.completed_at for x in learner.completions.get(c.id, [])] if c else []
                )
            last_derived = max(
                (c.completed_at for c in completions if c.source == CRITERIA_SOURCE), default=None
            )
            criteria = [
                CriterionView(
                    cp.course_code,
                    cat.by_code[cp.course_code].title
                    if cp.course_code in cat.by_code
                    else cp.course_code,
                    cp.done_at,
                )
                for cp in rules.progress(rule, done, last_derived)
            ]
        bookings = [
            BookingSummary(
                b.id, b.course_id, session.id, b.state, session.starts_at, session.ends_at
            )
            for b, session in learner.bookings
            if b.course_id == course.id and b.state not in ("cancelled", "declined")
        ]
        current = last is not None and (last.expires_at is None or last.expires_at > now)
        if current:
            status = "complete"
        elif last is not None:
            status = "expired"
        elif any(cv.done_at for cv in criteria):
            status = "in_progress"
        elif any(b.state in ACTIVE_BOOKING_STATES for b in bookings):
            status = "booked"
        elif mandatory:
            status = "required"
        else:
            status = "not_complete"
        courses.append(
            CourseRecord(
                course_id=course.id,
                course_code=course.code,
                course_title=course.title,
                status=status,
                status_label=_COURSE_STATUS_LABELS[status],
                completed_at=last.completed_at if last else None,
                expires_at=last.expires_at if last else None,
                source=last.source if last else None,
                mandatory=mandatory,
                previous=[
                    CompletionView(c.completed_at, c.expires_at, c.source)
                    for c in reversed(completions[:-1])
                ],
                completion_mode=rule.mode if rule else None,
                criteria=criteria,
                certification=cert,
                bookings=bookings,
            )
        )
        item = rules.required_item(
            facts,
            held,
            now,
            joined_at=p.created_at,
            in_progress=status in ("in_progress", "booked"),
        )
        if item is not None:
            required.append(
                RequiredView(
                    item.course_id,
                    item.code,
                    item.title,
                    item.kind,
                    item.due_at,
                    item.status,
                    _REQUIRED_LABELS.get(item.status, item.status),
                    item.overdue,
                )
            )
        totals = totals + rules.compliance([(facts, held)], now)
    far = datetime.max.replace(tzinfo=UTC)
    required.sort(key=lambda r: (r.due_at or far, r.course_title))
    certifications.sort(key=lambda c: (c.expires_at, c.course_title))
    return RecordView(
        person=RecordPerson(
            p.id,
            p.name,
            p.email,
            p.personnel_number,
            p.job_role,
            p.staff_type,
            learner.unit_code,
            learner.unit_name,
        ),
        courses=courses,
        certifications=certifications,
        required=required,
        compliance=ComplianceView(totals.required, totals.compliant, totals.percent),
        as_of=now,
    )


def can_view_record(actor: Actor, person: Person) -> bool:
    """The person, their line manager (direct reports only) and administrators."""
    if not policy.is_person(actor):
        return False
    return (
        actor.is_admin
        or actor.person_id == person.id
        or (person.manager_id is not None and person.manager_id == actor.person_id)
    )


async def learner_record(db: Database, clock: Clock, actor: Actor, person_id: int) -> RecordView:
    """The record of learning of one person; 404 for anyone else who asks."""
    async with db.reading() as s:
        now = clock.now()
        person = await s.get(Person, person_id)
        if person is None or not can_view_record(actor, person):
            raise NotFoundError(f"There is no person {person_id}.")
        (learner,) = await _learners(
            s, [person], await eligibility.units_above(s, [person.org_unit_id])
        )
        return _record(await _catalogue_for(s, [learner]), learner, now)


async def my_record(db: Database, clock: Clock, actor: Actor) -> RecordView:
    if not policy.is_person(actor) or actor.person_id is None:
        raise NotFoundError("Only people have a record of learning.")
    return await learner_record(db, clock, actor, actor.person_id)


# ---------------------------------------------------------------------------------------------
# My team (line managers: direct reports only)


@dataclass(slots=True)
class TeamMember:
    record: RecordView
    upcoming: list[BookingSummary]
    course_titles: dict[int, str]


@dataclass(slots=True)
class TeamView:
    manager_name: str
    members: list[TeamMember]
    compliance: ComplianceView
    as_of: datetime


async def my_team(db: Database, clock: Clock, actor: Actor) -> TeamView:
    """The actor's direct reports: bookings to come, records, certifications, compliance."""
    if not policy.is_person(actor):
        raise NotFoundError("Only people have a team.")
    async with db.reading() as s:
        now = clock.now()
        reports = (
            await s.scalars(
                select(Person)
                .where(Person.manager_id == actor.person_id, Person.active.is_(True))
                .order_by(Person.name)
            )
        ).all()
        learners = await _learners(
            s, reports, await eligibility.units_above(s, (p.org_unit_id for p in reports))
        )
        cat = await _catalogue_for(s, learners)
    members = []
    total = rules.Compliance(0, 0)
    for learner in learners:
        record = _record(cat, learner, now)
        total = total + rules.Compliance(record.compliance.required, record.compliance.compliant)
        upcoming = [
            BookingSummary(
                b.id, b.course_id, session.id, b.state, session.starts_at, session.ends_at
            )
            for b, session in learner.bookings
            if b.state in ACTIVE_BOOKING_STATES and session.ends_at > now
        ]
        titles = {b.course_id: cat.courses[b.course_id].title for b, _ in learner.bookings}
        members.append(TeamMember(record, upcoming, titles))
    return TeamView(
        actor.name, members, ComplianceView(total.required, total.compliant, total.percent), now
    )


# ---------------------------------------------------------------------------------------------
# Compliance report (administrators): by organisation unit and staff type


@dataclass(slots=True)
class ComplianceRow:
    org_unit: str | None
    org_unit_name: str | None
    staff_type: str
    people: int
    fully_compliant: int
    required: int
    compliant: int
    percent: int | None


async def compliance_report(db: Database, clock: Clock, actor: Actor) -> list[ComplianceRow]:
    """Active people grouped by their own unit and staff type: how many are fully compliant,
    and the share of required items (mandatory courses, certifications) that are current."""
    if not actor.is_admin:
        raise ForbiddenError("Only administrators see the compliance report.")
    async with db.reading() as s:
        now = clock.now()
        people = (
            await s.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id))
        ).all()
        cat = await _catalogue(s)
        learners = await _learners(s, people, await _all_units(s), with_bookings=False)
    groups: dict[tuple[str | None, str], list[Any]] = {}
    names: dict[str | None, str | None] = {}
    for learner in learners:
        courses = []
        for course in _relevant_courses(cat, learner):
            facts = cat.facts(course)
            facts = rules.CourseFacts(
                facts.course_id,
                facts.code,
                facts.title,
                _mandatory_for(cat, course, learner),
                facts.due_within_days,
                facts.certification_window_days,
                facts.certifies,
            )
            courses.append((facts, _held(learner.completions.get(course.id, []))))
        result = rules.compliance(courses, now)
        key = (learner.unit_code, learner.person.staff_type)
        names[learner.unit_code] = learner.unit_name
        group = groups.setdefault(key, [0, 0, rules.Compliance(0, 0)])
        group[0] += 1
        group[1] += 1 if result.fully else 0
        group[2] = group[2] + result
    rows = []
    for (unit, staff_type), (n, fully, total) in sorted(
        groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        rows.append(
            ComplianceRow(
                unit,
                names.get(unit),
                staff_type,
                n,
                fully,
                total.required,
                total.compliant,
                total.percent,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Exports: CSV and XLSX, every text cell formula-safe


RECORD_HEADERS = (
    "Course code",
    "Course",
    "Status",
    "Completed",
    "Expires",
    "Source",
    "Certification",
    "Renewal window opens",
    "Mandatory",
    "Previous completions",
)


def record_rows(record: RecordView) -> list[list[Any]]:
    rows = []
    for c in record.courses:
        rows.append(
            [
                c.course_code,
                c.course_title,
                c.status_label,
                c.completed_at,
                c.expires_at,
                c.source or "",
                c.certification.status_label if c.certification else "",
                c.certification.window_opens_at if c.certification else None,
                "yes" if c.mandatory else "no",
                "; ".join(f"{p.completed_at:%Y-%m-%d} ({p.source})" for p in c.previous),
            ]
        )
    return rows


TEAM_HEADERS = (
    "Name",
    "Email",
    "Personnel number",
    "Unit",
    "Compliance %",
    "Required learning",
    "Overdue",
    "Certifications",
    "Upcoming bookings",
)


def team_rows(team: TeamView) -> list[list[Any]]:
    rows = []
    for m in team.members:
        r = m.record
        rows.append(
            [
                r.person.name,
                r.person.email,
                r.person.personnel_number or "",
                r.person.org_unit or "",
                "" if r.compliance.percent is None else r.compliance.percent,
                "; ".join(f"{q.course_title} ({q.status_label})" for q in r.required),
                sum(1 for q in r.required if q.overdue),
                "; ".join(
                    f"{c.course_title}: {c.status_label}, expires {c.expires_at:%Y-%m-%d}"
                    for c in r.certifications
                ),
                "; ".join(
                    f"{m.course_titles.get(b.course_id, '')}, {b.starts_at:%Y-%m-%d} "
                    f"({state_name(b.state).lower()})"
                    for b in m.upcoming
                ),
            ]
        )
    return rows


COMPLIANCE_HEADERS = (
    "Unit code",
    "Unit",
    "Staff type",
    "People",
    "Fully compliant",
    "Required items",
    "Compliant items",
    "Compliance %",
)


def compliance_rows(rows: Sequence[ComplianceRow]) -> list[list[Any]]:
    return [
        [
            r.org_unit or "",
            r.org_unit_name or "(no unit)",
            r.staff_type,
            r.people,
            r.fully_compliant,
            r.required,
            r.compliant,
            "" if r.percent is None else r.percent,
        ]
        for r in rows
    ]


def _cell_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    return safe_cell(value)


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([_cell_text(v) for v in row])
    return out.getvalue()


def to_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet. Text is written as text (never a formula): values that a spreadsheet would
    run are prefixed like the CSV's; dates are real dates; numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = safe_cell(title)[:31].replace("'", "") or "Sheet"
    ws.append([safe_cell(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values: list[Any] = []
        for v in row:
            if isinstance(v, datetime):
                values.append(v.astimezone(UTC).replace(tzinfo=None))
            elif isinstance(v, bool) or v is None:
                values.append("" if v is None else ("yes" if v else "no"))
            elif isinstance(v, int | float):
                values.append(v)
            else:
                values.append(safe_cell(v))
        ws.append(values)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Certification notices (worker sweep)


async def queue_certification_notices(db: Database, clock: Clock) -> int:
    """Once per certification (the learner's latest completion): an email when its renewal
    window opens, and one when it becomes due (30 days before expiry, or when the window opens
    if that is later). A worker that was down sends only the notice of the current status."""

    async def attempt() -> int:
        async with db.transaction() as s:
            now = clock.now()
            longest = max(
                [
                    int(w or 0)
                    for w in (
                        await s.scalars(
                            select(Course.certification_window_days).where(
                                Course.certification_months.is_not(None)
                            )
                        )
                    ).all()
                ]
                or [0]
            )
            horizon = now + max(timedelta(days=longest), rules.DUE_SOON)
            rows = (
                await s.execute(
                    select(Completion, Course)
                    .join(Course, Course.id == Completion.course_id)
                    .where(
                        Course.certification_months.is_not(None),
                        Completion.expires_at.is_not(None),
                        Completion.expires_at > now,
                        Completion.expires_at <= horizon,
                    )
                    .order_by(Completion.id)
                )
            ).all()
            latest_at = await _latest_completion_times(
                s, {(c.learner_id, c.course_id) for c, _ in rows}
            )
            queued = 0
            for completion, course in rows:
                if latest_at.get((completion.learner_id, completion.course_id)) != (
                    completion.completed_at
                ):
                    continue  # renewed since: this certification is history
                assert completion.expires_at is not None
                state = rules.certification_state(
                    completion.completed_at,
                    completion.expires_at,
                    course.certification_window_days or 0,
                    now,
                )
                if state.status == rules.CertificationStatus.WINDOW_OPEN:
                    topic = "certification.window_open"
                elif state.status == rules.CertificationStatus.DUE:
                    topic = "certification.expiring"
                else:
                    continue
                key = f"{topic}:{completion.learner_id}:{course.id}:{state.expires_at:%Y%m%d%H%M}"
                if await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)):
                    continue
                await queue_email(
                    s,
                    topic=topic,
                    recipient_id=completion.learner_id,
                    booking_id=None,
                    session_id=None,
                    now=now,
                    dedupe_key=key,
                    payload={
                        "course_id": course.id,
                        "course_code": course.code,
                        "course_title": course.title,
                        "expires_at": state.expires_at.isoformat(),
                        "window_opens_at": state.window_opens_at.isoformat(),
                        # The email's sentence: the renderer gives templates `reason`.
                        "reason": _notice_sentence(course.title, state),
                    },
                )
                queued += 1
            return queued

    return await with_retry(attempt)


async def _latest_completion_times(
    s: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], datetime]:
    if not pairs:
        return {}
    learners = sorted({p[0] for p in pairs})
    courses = sorted({p[1] for p in pairs})
    out: dict[tuple[int, int], datetime] = {}
    for chunk in _chunks(learners, 500):
        for learner_id, course_id, at in await s.execute(
            select(Completion.learner_id, Completion.course_id, func.max(Completion.completed_at))
            .where(Completion.learner_id.in_(chunk), Completion.course_id.in_(courses))
            .group_by(Completion.learner_id, Completion.course_id)
        ):
            if (learner_id, course_id) in pairs:
                out[(learner_id, course_id)] = _aware(at)
    return out


def _aware(at: datetime) -> datetime:
    # func.max() returns the raw column value on SQLite (text or naive); normalise it.
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _notice_sentence(title: str, state: rules.CertificationState) -> str:
    expires = f"{state.expires_at:%-d %B %Y}"
    if state.status == rules.CertificationStatus.WINDOW_OPEN:
        return (
            f"Your certification in “{title}” expires on {expires}. The renewal window is now "
            "open: book a session or complete the renewal before then."
        )
    return (
        f"Your certification in “{title}” expires on {expires}. Renew it before then to stay "
        "certified."
    )


# ---------------------------------------------------------------------------------------------
# xAPI statements: queued from the change feed and booking history, delivered to the LRS


XAPI_CHANNEL = "xapi"
MARK_CHANGES = "xapi.record_changes"
MARK_HISTORY = "xapi.booking_history"
# Booking history ids come from a sequence, and PostgreSQL may commit them out of order; a row
# is only taken as settled (and passed by the sweep's mark) once it is this old. Transactions
# are far shorter (the statement timeout is 15 s).
HISTORY_SETTLE = timedelta(minutes=5)
SWEEP_BATCH = 500
XAPI_MAX_ATTEMPTS = 10
REGISTERED_FROM = ("booked", "pending_payment")
LEAVING_TO = ("cancelled", "declined")


async def _mark(s: AsyncSession, name: str) -> int:
    row = await s.get(RecordSweepMark, name, with_for_update=True)
    if row is None:
        s.add(RecordSweepMark(name=name, position=0))
        await s.flush()
        return 0
    return int(row.position)


async def _set_mark(s: AsyncSession, name: str, position: int) -> None:
    await s.execute(
        update(RecordSweepMark).where(RecordSweepMark.name == name).values(position=position)
    )


async def _queue_statement(
    s: AsyncSession,
    statement: dict[str, Any],
    *,
    topic: str,
    recipient_id: int | None,
    booking_id: int | None,
    session_id: int | None,
    now: datetime,
) -> bool:
    key = f"xapi:{statement['id']}"
    if await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)):
        return False
    await s.execute(
        insert(Outbox).values(
            channel=XAPI_CHANNEL,
            topic=topic,
            recipient_id=recipient_id,
            booking_id=booking_id,
            session_id=session_id,
            payload={"statement": statement},
            dedupe_key=key,
            created_at=now,
            available_at=now,
        )
    )
    return True


async def _was_queued(s: AsyncSession, statement_id: str) -> bool:
    return bool(
        await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == f"xapi:{statement_id}"))
    )


async def queue_xapi_statements(db: Database, clock: Clock, settings: Settings) -> int:
    """Turn new record changes and booking history into xAPI outbox rows (idempotent: each
    statement's id is its dedupe key). Runs only when an LRS is configured."""

    async def from_changes() -> int:
        async with db.transaction() as s:
            now = clock.now()
            mark = await _mark(s, MARK_CHANGES)
            changes = (
                await s.scalars(
                    select(RecordChange)
                    .where(RecordChange.seq > mark)
                    .order_by(RecordChange.seq)
                    .limit(SWEEP_BATCH)
                )
            ).all()
            queued = 0
            for change in changes:
                queued += await _statements_for_change(s, settings, change, now)
            if changes:
                # The feed is gap-free, so everything up to the last change seen is done.
                await _set_mark(s, MARK_CHANGES, changes[-1].seq)
            return queued

    async def from_history() -> int:
        async with db.transaction() as s:
            now = clock.now()
            mark = await _mark(s, MARK_HISTORY)
            rows = (
                await s.scalars(
                    select(BookingHistory)
                    .where(
                        BookingHistory.id > mark,
                        or_(
                            BookingHistory.to_state.in_(REGISTERED_FROM),
                            BookingHistory.to_state.in_(LEAVING_TO),
                        ),
                    )
                    .order_by(BookingHistory.id)
                    .limit(SWEEP_BATCH)
                )
            ).all()
            queued = 0
            for row in rows:
                queued += await _statements_for_history(s, settings, row, now)
            settled = [r.id for r in rows if r.at <= now - HISTORY_SETTLE]
            # Rows after the first unsettled one are seen again next time (deduplicated).
            first_unsettled = next((r.id for r in rows if r.at > now - HISTORY_SETTLE), None)
            if first_unsettled is not None:
                settled = [i for i in settled if i < first_unsettled]
            if settled:
                await _set_mark(s, MARK_HISTORY, max(settled))
            elif first_unsettled is None and rows:
                await _set_mark(s, MARK_HISTORY, rows[-1].id)
            return queued

    return await with_retry(from_changes) + await with_retry(from_history)


async def _agent(s: AsyncSession, person_id: int) -> xapi.Agent | None:
    person = await s.get(Person, person_id)
    return xapi.Agent(person.name, person.email) if person else None


async def _statements_for_change(
    s: AsyncSession, settings: Settings, change: RecordChange, now: datetime
) -> int:
    base = settings.base_url
    learner = await _agent(s, change.learner_id)
    course = await s.get(Course, change.course_id)
    if learner is None or course is None:
        return 0
    course_activity = xapi.course_activity(base, course.id, course.title)
    if change.kind == "attendance":
        previous = await s.scalar(
            select(RecordChange)
            .where(
                RecordChange.kind == "attendance",
                RecordChange.booking_id == change.booking_id,
                RecordChange.seq < change.seq,
            )
            .order_by(RecordChange.seq.desc())
            .limit(1)
        )
        queued = 0
        if previous is not None and previous.status in ("attended", "partially_attended"):
            target = xapi.statement_id(base, "record-change", previous.seq)
            if await _was_queued(s, target):
                queued += await _queue_statement(
                    s,
                    xapi.voided(base, target_id=target, at=now),
                    topic="xapi.voided",
                    recipient_id=change.learner_id,
                    booking_id=change.booking_id,
                    session_id=change.session_id,
                    now=now,
                )
        if change.status in ("attended", "partially_attended") and change.session_id:
            session = await s.get(SessionRow, change.session_id)
            if session is not None and change.booking_id is not None:
                queued += await _queue_statement(
                    s,
                    xapi.attended(
                        base,
                        change_seq=change.seq,
                        booking_id=change.booking_id,
                        learner=learner,
                        session=xapi.session_activity(base, session.id, course.title),
                        course=course_activity,
                        at=session.ends_at,
                        partly=change.status == "partially_attended",
                        length=session.ends_at - session.starts_at,
                    ),
                    topic="xapi.attended",
                    recipient_id=change.learner_id,
                    booking_id=change.booking_id,
                    session_id=change.session_id,
                    now=now,
                )
        return queued
    # Completions from the e-learning side or an import came from there: not sent back.
    if change.source not in ("workshop", CRITERIA_SOURCE):
        return 0
    if change.status == "completed" and change.completed_at is not None:
        return int(
            await _queue_statement(
                s,
                xapi.completed(
                    base,
                    change_seq=change.seq,
                    learner=learner,
                    course=course_activity,
                    completed_at=change.completed_at,
                    expires_at=change.expires_at,
                    source=change.source or "",
                ),
                topic="xapi.completed",
                recipient_id=change.learner_id,
                booking_id=change.booking_id,
                session_id=change.session_id,
                now=now,
            )
        )
    if change.status == "withdrawn":
        written = await s.scalar(
            select(RecordChange.seq)
            .where(
                RecordChange.kind == "completion",
                RecordChange.status == "completed",
                RecordChange.completion_id == change.completion_id,
                RecordChange.learner_id == change.learner_id,
                RecordChange.course_id == change.course_id,
                RecordChange.seq < change.seq,
            )
            .order_by(RecordChange.seq.desc())
            .limit(1)
        )
        if written is None:
            return 0
        target = xapi.statement_id(base, "record-change", written)
        if not await _was_queued(s, target):
            return 0
        return int(
            await _queue_statement(
                s,
                xapi.voided(base, target_id=target, at=now),
                topic="xapi.voided",
                recipient_id=change.learner_id,
                booking_id=change.booking_id,
                session_id=change.session_id,
                now=now,
            )
        )
    return 0


async def _statements_for_history(
    s: AsyncSession, settings: Settings, row: BookingHistory, now: datetime
) -> int:
    base = settings.base_url
    booking = await s.get(Booking, row.booking_id)
    if booking is None:
        return 0
    session = await s.get(SessionRow, booking.session_id)
    course = await s.get(Course, booking.course_id)
    learner = await _agent(s, booking.learner_id)
    if session is None or course is None or learner is None:
        return 0
    session_activity = xapi.session_activity(base, session.id, course.title)
    course_activity = xapi.course_activity(base, course.id, course.title)
    queue = partial(
        _queue_statement,
        s,
        recipient_id=booking.learner_id,
        booking_id=booking.id,
        session_id=session.id,
        now=now,
    )
    if row.to_state in REGISTERED_FROM and row.from_state not in REGISTERED_FROM:
        return int(
            await queue(
                xapi.registered(
                    base,
                    booking_id=booking.id,
                    learner=learner,
                    session=session_activity,
                    course=course_activity,
                    at=row.at,
                ),
                topic="xapi.registered",
            )
        )
    if row.to_state in LEAVING_TO:
        registration = xapi.statement_id(base, "booking", booking.id, "registered")
        if not await _was_queued(s, registration):
            return 0  # never registered (waitlisted, pending): nothing to take back
        if session.status == "cancelled":
            # The organiser cancelled the session: the registration no longer stands.
            statement = xapi.voided(base, target_id=registration, at=row.at)
            topic = "xapi.voided"
        else:
            statement = xapi.withdrew(
                base,
                booking_id=booking.id,
                learner=learner,
                session=session_activity,
                course=course_activity,
                at=row.at,
                reason=row.reason,
            )
            topic = "xapi.withdrew"
        return int(await queue(statement, topic=topic))
    return 0


@dataclass(slots=True)
class XapiDelivery:
    sent: int = 0
    failed: int = 0


async def deliver_xapi(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    limit: int = 100,
) -> XapiDelivery:
    """PUT each due statement to the LRS under its own id (HTTP Basic, xAPI 1.0.3). 200 and
    204 (the LRS already has this very statement) are delivered; 409 (a different statement
    holds the id) fails the row for an administrator to look at; anything else is retried."""
    report = XapiDelivery()
    if not settings.lrs_url:
        return report
    token = str(uuid.uuid4())
    lease = timedelta(seconds=settings.worker_claim_lease)
    rows = await with_retry(
        partial(
            claims.claim_due, db, clock, channel=XAPI_CHANNEL, token=token, limit=limit, lease=lease
        )
    )
    claimed = [(row_id, dict(payload["statement"])) for row_id, payload in rows]
    if not claimed:
        return report
    url = settings.lrs_url.rstrip("/")
    if not url.endswith("/statements"):
        url += "/xAPI/statements" if not url.endswith("/xAPI") else "/statements"
    auth = (
        httpx.BasicAuth(settings.lrs_username, settings.lrs_password or "")
        if settings.lrs_username
        else None
    )
    # The claims are renewed while the statements go out (claims.heartbeat): a slow LRS does
    # not lose them to another worker; a killed worker's lapse within one lease.
    async with (
        claims.heartbeat(db, clock, token, lease),
        httpx.AsyncClient(
            timeout=15,
            auth=auth,
            transport=transport,
            headers={"X-Experience-API-Version": xapi.VERSION},
        ) as client,
    ):
        for row_id, statement in claimed:
            try:
                response = await client.put(
                    url, params={"statementId": statement["id"]}, json=statement
                )
            except httpx.HTTPError as exc:
                await with_retry(partial(_release_xapi, db, clock, row_id, token, repr(exc)))
                report.failed += 1
                continue
            if response.status_code in (200, 204):
                await with_retry(partial(_finish_xapi, db, clock, row_id, token, None))
                report.sent += 1
            elif response.status_code == 409:
                await with_retry(
                    partial(
                        _finish_xapi,
                        db,
                        clock,
                        row_id,
                        token,
                        f"409 from the LRS: another statement has id {statement['id']}",
                    )
                )
                report.failed += 1
            else:
                detail = f"{response.status_code} from the LRS: {response.text[:500]}"
                await with_retry(partial(_release_xapi, db, clock, row_id, token, detail))
                report.failed += 1
    return report


async def _finish_xapi(
    db: Database, clock: Clock, row_id: int, token: str, error: str | None
) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.claim_token == token, Outbox.sent_at.is_(None))
            .values(
                status="failed" if error else "sent",
                sent_at=None if error else clock.now(),
                claimed_until=None,
                claim_token=None,
                last_error=error,
            )
        )


async def _release_xapi(db: Database, clock: Clock, row_id: int, token: str, error: str) -> None:
    async with db.transaction() as s:
        row = await s.get(Outbox, row_id)
        if row is None or row.claim_token != token or row.sent_at is not None:
            return
        now = clock.now()
        row.claimed_until = None
        row.claim_token = None
        row.last_error = error[:2000]
        if row.attempts >= XAPI_MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.available_at = now + claims.backoff(row.attempts)


async def sync_xapi(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> XapiDelivery:
    """The worker's xAPI step: queue new statements, then deliver what is due."""
    if not settings.lrs_url:
        return XapiDelivery()
    await queue_xapi_statements(db, clock, settings)
    return await deliver_xapi(db, clock, settings, transport=transport)
