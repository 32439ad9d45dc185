"""The approval queue: the requests waiting for someone, and one request as its approver sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict, cast

from sqlalchemy import Row, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import payments, policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.approvals import decode_plan
from booking.domain.vocabulary import ApprovalKind, ApprovalStatus, BookingStateName
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, date_views
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.views import SessionDateView
from booking.models import ApprovalRequest, Booking, Course, Person


class ApprovalLearner(TypedDict):
    id: int
    name: str
    email: str


class ApprovalAmount(TypedDict):
    amount: int
    currency: str


class ApprovalCourse(TypedDict):
    id: int
    code: str
    title: str


@dataclass(slots=True)
class ApprovalItem:
    id: int
    kind: ApprovalKind
    status: ApprovalStatus
    booking_id: int
    booking_state: BookingStateName
    learner: ApprovalLearner
    course: ApprovalCourse
    session_id: int
    # What the place costs its learner (the price kept with the booking); null: free.
    amount: ApprovalAmount | None
    cost_code: str | None
    requested_at: datetime
    note: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    # The session's dates (in its own time zone), so the approver sees when it is.
    dates: list[SessionDateView] = field(default_factory=list)


async def list_waiting(db: Database, clock: Clock, actor: Actor) -> list[ApprovalItem]:
    """Requests waiting for the actor: theirs by name, and any administrator's if they are one."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people approve bookings.")
    async with db.reading() as s:
        mine = ApprovalRequest.approver_id == actor.person_id
        condition = (
            or_(mine, ApprovalRequest.approver_id.is_(None))
            if policy.sees_unassigned_approvals(actor)
            else mine
        )
        ids = (
            await s.scalars(
                select(ApprovalRequest.id)
                .where(ApprovalRequest.status == "waiting", condition)
                .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
            )
        ).all()
        return await approval_items(s, list(ids))


async def get_request(db: Database, actor: Actor, request_id: int) -> ApprovalItem:
    """One request, for someone who may decide it (404 for anyone else)."""
    async with db.reading() as s:
        request = await s.get(ApprovalRequest, request_id)
        if request is None or not policy.can_decide_approval(actor, request.approver_id):
            raise NotFoundError(f"There is no approval request {request_id}.")
        return (await approval_items(s, [request_id]))[0]


async def approval_items(s: AsyncSession, ids: list[int]) -> list[ApprovalItem]:
    """The requests `ids` as approvers see them, in that order (two queries, however many)."""
    if not ids:
        return []
    rows = (
        await s.execute(
            select(ApprovalRequest, Booking, Person, Course)
            .join(Booking, Booking.id == ApprovalRequest.booking_id)
            .join(Person, Person.id == Booking.learner_id)
            .join(Course, Course.id == Booking.course_id)
            .where(ApprovalRequest.id.in_(ids))
        )
    ).all()
    dates = await active_dates(s, sorted({b.session_id for _, b, _, _ in rows}))
    by_id = {row[0].id: _item(row, date_views(dates[row[1].session_id])) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _item(
    row: Row[ApprovalRequest, Booking, Person, Course], dates: list[SessionDateView]
) -> ApprovalItem:
    r, b, p, c = row
    return ApprovalItem(
        id=r.id,
        kind=cast(ApprovalKind, r.kind),
        status=cast(ApprovalStatus, r.status),
        booking_id=b.id,
        booking_state=cast(BookingStateName, b.state),
        learner={"id": p.id, "name": p.name, "email": p.email},
        course={"id": c.id, "code": c.code, "title": c.title},
        session_id=b.session_id,
        amount=_amount(b, c),
        cost_code=b.cost_code,
        requested_at=r.requested_at,
        note=decode_plan(r.note)[0],
        decided_at=r.decided_at,
        comment=r.comment,
        dates=dates,
    )


def _amount(booking: Booking, course: Course) -> ApprovalAmount | None:
    """What the place costs its learner (the price kept with the booking)."""
    price = payments.booking_price(booking, course)
    return {"amount": price.amount, "currency": price.currency} if price is not None else None
