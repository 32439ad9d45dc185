"""Exemption requests as the API and the pages show them, the queue, the line-manager chain
and the approved requests that apply to a set of learners (one query each)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking import policy
from booking.db import Database
from booking.domain.exemptions import Granted
from booking.domain.learning_vocabulary import ExemptionKind, RequestState
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.models import Course, ExemptionRequest, Person
from booking.records.views import CourseRef, PersonEmailRef, PersonRef

QUEUE_LIMIT = 500

_Learner = aliased(Person)
_Requester = aliased(Person)
_Decider = aliased(Person)


@dataclass(slots=True)
class ExemptionView:
    """A request, in the contract's shape (API.md, "Mandatory learning")."""

    id: int
    kind: ExemptionKind
    state: RequestState
    learner: PersonRef
    course: CourseRef
    reason: str
    until: date | None
    due_at: datetime | None
    requested_by: PersonEmailRef | None
    decided_by: PersonEmailRef | None
    decided_at: datetime | None
    comment: str | None


@dataclass(slots=True)
class QueueItem:
    """A request on the queue page: the view, when it was asked, and whether the reader may
    decide it."""

    request: ExemptionView
    created_at: datetime
    requested_by_name: str | None
    may_decide: bool
    owner_email: str | None


def _select() -> Any:
    return (
        select(ExemptionRequest, _Learner, Course, _Requester, _Decider)
        .join(_Learner, _Learner.id == ExemptionRequest.learner_id)
        .join(Course, Course.id == ExemptionRequest.course_id)
        .outerjoin(_Requester, _Requester.id == ExemptionRequest.requested_by_id)
        .outerjoin(_Decider, _Decider.id == ExemptionRequest.decided_by_id)
    )


def _view(row: Any) -> ExemptionView:
    r, learner, course, requester, decider = row
    return ExemptionView(
        id=r.id,
        kind=cast(ExemptionKind, r.kind),
        state=cast(RequestState, r.state),
        learner={"id": learner.id, "email": learner.email, "name": learner.name},
        course={"id": course.id, "code": course.code, "title": course.title},
        reason=r.reason,
        until=r.until,
        due_at=r.due_at,
        requested_by={"id": requester.id, "email": requester.email} if requester else None,
        decided_by={"id": decider.id, "email": decider.email} if decider else None,
        decided_at=r.decided_at,
        comment=r.comment,
    )


async def exemption_views(s: AsyncSession, ids: Sequence[int]) -> list[ExemptionView]:
    """The requests with these ids, in the order given."""
    rows = (await s.execute(_select().where(ExemptionRequest.id.in_(list(ids))))).all()
    by_id = {row[0].id: _view(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _mine(actor: Actor) -> ColumnElement[bool]:
    """Requests the actor may decide or made."""
    if not policy.is_person(actor):
        return false()
    if actor.is_admin:
        return true()
    return or_(
        func.lower(Course.owner_email) == actor.email.lower(),
        ExemptionRequest.requested_by_id == actor.person_id,
    )


async def list_exemptions(
    db: Database, actor: Actor, *, state: str | None = None
) -> list[QueueItem]:
    """Requests the actor may decide (administrators: all; course owners: their courses') or
    made: pending first (oldest first), then the decided ones (latest first)."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people ask for or decide exemptions.")
    query = _select().add_columns(Course.owner_email).where(_mine(actor))
    if state:
        query = query.where(ExemptionRequest.state == state)
    query = query.order_by(
        (ExemptionRequest.state != "pending"),
        func.coalesce(ExemptionRequest.decided_at, ExemptionRequest.created_at).desc()
        if state != "pending"
        else ExemptionRequest.created_at,
        ExemptionRequest.id,
    ).limit(QUEUE_LIMIT)
    async with db.reading() as s:
        rows = (await s.execute(query)).all()
    items = []
    for row in rows:
        r, requester, owner_email = row[0], row[3], row[5]
        items.append(
            QueueItem(
                _view(row[:5]),
                r.created_at,
                requester.name if requester else None,
                policy.can_decide_exemption(actor, owner_email),
                owner_email,
            )
        )
    pending = [i for i in items if i.request.state == "pending"]
    pending.sort(key=lambda i: (i.created_at, i.request.id))
    return pending + [i for i in items if i.request.state != "pending"]


async def get_exemption(db: Database, actor: Actor, request_id: int) -> QueueItem:
    """One request, for whoever may see it (404 for anyone else)."""
    async with db.reading() as s:
        row = (
            await s.execute(
                _select().add_columns(Course.owner_email).where(ExemptionRequest.id == request_id)
            )
        ).first()
    if row is None or not policy.can_see_exemption(
        actor,
        owner_email=row[5],
        requested_by_id=row[0].requested_by_id,
        learner_id=row[0].learner_id,
    ):
        raise NotFoundError(f"There is no exemption request {request_id}.")
    return QueueItem(
        _view(row[:5]),
        row[0].created_at,
        row[3].name if row[3] else None,
        policy.can_decide_exemption(actor, row[5]),
        row[5],
    )


async def granted_for(
    s: AsyncSession, learner_ids: Sequence[int] | None
) -> dict[int, list[Granted]]:
    """The approved requests of these learners (None: everyone's), by learner (one query;
    whether each applies at a moment is `domain.exemptions.applies`'s answer)."""
    if learner_ids is not None and not learner_ids:
        return {}
    query = select(
        ExemptionRequest.learner_id,
        ExemptionRequest.course_id,
        ExemptionRequest.kind,
        ExemptionRequest.until,
        ExemptionRequest.due_at,
        ExemptionRequest.decided_at,
    ).where(ExemptionRequest.state == "approved")
    if learner_ids is not None:
        query = query.where(ExemptionRequest.learner_id.in_(list(learner_ids)))
    rows = await s.execute(query)
    out: dict[int, list[Granted]] = {}
    for learner_id, course_id, kind, until, due_at, decided_at in rows:
        out.setdefault(learner_id, []).append(Granted(course_id, kind, until, due_at, decided_at))
    return out
