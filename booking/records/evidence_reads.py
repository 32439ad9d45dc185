"""Reading evidence: the owners' and administrators' queue, a learner's own list, one item and
its file. Who may see what is `policy`'s answer; anyone else is told it does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, exists, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking import people, policy
from booking.db import Database
from booking.domain.evidence import STATES
from booking.domain.learning_vocabulary import EvidenceMediaType, RequestState
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import Course, Evidence, EvidenceFile, Person
from booking.records.views import CourseRef, PersonRef

QUEUE_LIMIT = 100
MY_EVIDENCE_LIMIT = 50

_Learner = aliased(Person)
_Decider = aliased(Person)


@dataclass(slots=True)
class EvidenceView:
    id: int
    state: RequestState
    course_code: str
    completed_at: datetime
    note: str | None
    filename: str
    content_type: EvidenceMediaType
    size: int
    submitted_at: datetime
    decided_by: PersonRef | None
    decided_at: datetime | None
    comment: str | None
    learner: PersonRef
    course: CourseRef
    file_url: str


@dataclass(slots=True)
class EvidencePage:
    items: list[EvidenceView]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class EvidenceFileView:
    filename: str
    content_type: str
    content: bytes


def _query() -> Any:
    return (
        select(Evidence, Course, _Learner, _Decider)
        .join(Course, Course.id == Evidence.course_id)
        .join(_Learner, _Learner.id == Evidence.learner_id)
        .outerjoin(_Decider, _Decider.id == Evidence.decided_by_id)
    )


def evidence_view(
    e: Evidence, course: Course, learner: Person, decider: Person | None
) -> EvidenceView:
    return EvidenceView(
        id=e.id,
        state=cast(RequestState, e.state),
        course_code=course.code,
        completed_at=e.completed_at,
        note=e.note,
        filename=e.filename,
        content_type=cast(EvidenceMediaType, e.content_type),
        size=e.size,
        submitted_at=e.submitted_at,
        decided_by={"id": decider.id, "email": decider.email, "name": decider.name}
        if decider
        else None,
        decided_at=e.decided_at,
        comment=e.comment,
        learner={"id": learner.id, "email": learner.email, "name": learner.name},
        course={"id": course.id, "code": course.code, "title": course.title},
        file_url=f"/api/v1/evidence/{e.id}/file",
    )


async def load_evidence(s: AsyncSession, evidence_id: int) -> EvidenceView | None:
    row = (await s.execute(_query().where(Evidence.id == evidence_id))).first()
    return evidence_view(*row) if row else None


async def evidence_queue(
    db: Database, actor: Actor, *, state: str | None = "pending", cursor: str | None = None
) -> EvidencePage:
    """Evidence the actor may decide, oldest first: every course's for administrators, their
    own courses' for course owners; 403 for anyone else."""
    if state is not None and state not in STATES:
        raise InvalidError(f"state is one of {', '.join(STATES)}.", "state")
    after = _cursor(cursor)
    async with db.reading() as s:
        stmt = _query().order_by(Evidence.id).limit(QUEUE_LIMIT + 1)
        if not actor.is_admin:
            if not policy.is_person(actor) or not await _owns_any(s, actor):
                raise ForbiddenError("Only course owners and administrators decide evidence.")
            stmt = stmt.where(Course.owner_email == actor.email.lower())
        if state is not None:
            stmt = stmt.where(Evidence.state == state)
        if after is not None:
            stmt = stmt.where(Evidence.id > after)
        items = [evidence_view(*row) for row in await s.execute(stmt)]
    more = len(items) > QUEUE_LIMIT
    items = items[:QUEUE_LIMIT]
    return EvidencePage(items, str(items[-1].id) if more else None)


async def _owns_any(s: AsyncSession, actor: Actor) -> bool:
    return bool(await s.scalar(select(exists().where(Course.owner_email == actor.email.lower()))))


def _cursor(value: str | None) -> int | None:
    if not value:
        return None
    # isdigit() alone admits digits int() refuses ("²"): only ASCII digits are a cursor.
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise InvalidError("This cursor is not one we gave out.", "cursor")
    return int(value)


async def my_evidence(db: Database, actor: Actor) -> list[EvidenceView]:
    """The evidence the actor sent, newest first."""
    if not policy.is_person(actor):
        return []
    async with db.reading() as s:
        rows = await s.execute(
            _query()
            .where(Evidence.learner_id == actor.person_id)
            .order_by(Evidence.id.desc())
            .limit(MY_EVIDENCE_LIMIT)
        )
        return [evidence_view(*row) for row in rows]


async def get_evidence(db: Database, actor: Actor, evidence_id: int) -> EvidenceView:
    async with db.reading() as s:
        view = await load_evidence(s, evidence_id)
        await _must_see(s, actor, view, evidence_id)
        assert view is not None
        return view


async def evidence_file(db: Database, actor: Actor, evidence_id: int) -> EvidenceFileView:
    """The file sent as evidence: to the person, their line managers (direct or indirect), the
    course's owner and administrators; 404 for anyone else."""
    async with db.reading() as s:
        view = await load_evidence(s, evidence_id)
        await _must_see(s, actor, view, evidence_id)
        assert view is not None
        content = await s.scalar(
            select(EvidenceFile.content).where(EvidenceFile.evidence_id == evidence_id)
        )
    if content is None:
        raise NotFoundError(f"There is no evidence {evidence_id}.")
    return EvidenceFileView(view.filename, view.content_type, bytes(content))


async def _must_see(
    s: AsyncSession, actor: Actor, view: EvidenceView | None, evidence_id: int
) -> None:
    if view is not None and policy.is_person(actor):
        learner_id = int(view.learner["id"])
        owner = await s.scalar(select(Course.owner_email).where(Course.id == view.course["id"]))
        managers = (
            frozenset()
            if actor.person_id == learner_id
            else await people.managers_above(s, learner_id)
        )
        if policy.can_see_evidence(actor, learner_id, managers, owner):
            return
    raise NotFoundError(f"There is no evidence {evidence_id}.")


# The courses evidence may be sent for, as last read, with the catalogue's fingerprint then:
# every course not archived (2,000 at the benchmark's full scale, where reading them was a
# seventh of the record page's CPU). The fingerprint is their codes and titles as one string,
# each prefixed with its length (so no two catalogues share one), read on every request — one
# row, not 2,000 through the result machinery — and the list is read again when it differs: a
# course added, renamed, archived or restored shows at once, in every process.
_COURSES = (
    select(Course.code, Course.title)
    .where(Course.archived_at.is_(None))
    .order_by(Course.title, Course.code)
)
_ENTRY = (
    sql_cast(func.length(Course.code), String)
    + ":"
    + Course.code
    + sql_cast(func.length(Course.title), String)
    + ":"
    + Course.title
)
_IN_ORDER = (
    select(_ENTRY.label("entry")).where(Course.archived_at.is_(None)).order_by(Course.id).subquery()
)
_FINGERPRINT = select(func.aggregate_strings(_IN_ORDER.c.entry, ","))
_known: tuple[Any, tuple[tuple[str, str], ...]] = (None, ())


async def evidence_courses(db: Database) -> tuple[tuple[str, str], ...]:
    """The courses evidence may be sent for (code, title), by title: those not archived. The
    same tuple while the catalogue is unchanged (`_FINGERPRINT`)."""
    global _known
    async with db.reading() as s:
        fingerprint = await s.scalar(_FINGERPRINT)
        if _known[0] != fingerprint:
            rows = await s.execute(_COURSES)
            _known = (fingerprint, tuple((code, title) for code, title in rows))
        return _known[1]
