"""Spend on a cost code as booking sees it: places approved and not charged yet, the note a
budget holder's request carries, and the requests waiting for a budget holder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from billing.domain.money import Money
from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.models import ApprovalRequest, Booking, Course, Person
from booking.models import Session as SessionRow
from booking.payments.config import BillingConfig
from booking.payments.prices import booking_price

# Approved places not yet charged: a cost code's place is charged when attendance is marked
# (attended: the price; no-show: the no-show fee) or cancelled with a fee, and leaves these
# states then, so charged and committed never count one place twice. A request still waiting
# for approval is not a commitment.
COMMITTED_STATES = (BookingState.BOOKED, BookingState.OFFERED, BookingState.WAITLISTED)


def _committed_statement(cost_codes: Sequence[str]) -> Any:
    return (
        select(
            Booking.cost_code,
            func.coalesce(func.sum(func.coalesce(Booking.price_amount, Course.price_amount)), 0),
        )
        .select_from(Booking)
        .join(Course, Course.id == Booking.course_id)
        .where(Booking.cost_code.in_(list(cost_codes)), Booking.state.in_(COMMITTED_STATES))
        .group_by(Booking.cost_code)
    )


async def committed_spend(s: AsyncSession, cost_code: str, *, exclude: int | None = None) -> int:
    """Places approved on this code and not charged yet (minor units)."""
    stmt = _committed_statement([cost_code])
    if exclude is not None:
        stmt = stmt.where(Booking.id != exclude)
    row = (await s.execute(stmt)).first()
    return int(row[1]) if row is not None else 0


async def committed_by_code(s: AsyncSession, cost_codes: Sequence[str]) -> dict[str, int]:
    """`committed_spend` for many codes in one query (the budget and cost-code pages)."""
    if not cost_codes:
        return {}
    return {code: int(total) for code, total in (await s.execute(_committed_statement(cost_codes)))}


async def spend_note(
    s: AsyncSession,
    price: Money | None,
    cost_code: str,
    *,
    now: datetime,
    year_start: tuple[int, int],
) -> str | None:
    """For the budget holder's request: flagged when the booking (at the learner's `price`)
    takes the code over its limit."""
    if price is None:
        return None
    check = await billing.check_spend(
        s,
        cost_code,
        price,
        committed=await committed_spend(s, cost_code),
        today=now.date(),
        year_start=year_start,
    )
    return check.note()


# ---------------------------------------------------------------------------------------------
# Budget holders: their requests, with spend against the limit


@dataclass(slots=True)
class SpendRequest:
    request_id: int
    booking_id: int
    learner: dict[str, Any]
    course: dict[str, Any]
    session_id: int
    session_start: datetime | None
    amount: Money | None
    cost_code: str | None
    spent: Money | None
    limit: Money | None
    over_limit: bool
    requested_at: datetime


async def spend_requests(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig
) -> list[SpendRequest]:
    """The budget-holder requests waiting for the actor, with spend so far this year."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people approve spending.")
    async with db.reading() as s:
        now = clock.now()
        rows = await _waiting_for_budget_holder(s, actor)
        return [await _spend_request(s, row, now=now, config=config) for row in rows]


_Waiting = Row[ApprovalRequest, Booking, Person, Course, datetime]


async def _waiting_for_budget_holder(s: AsyncSession, actor: Actor) -> Sequence[_Waiting]:
    return (
        await s.execute(
            select(ApprovalRequest, Booking, Person, Course, SessionRow.starts_at)
            .join(Booking, Booking.id == ApprovalRequest.booking_id)
            .join(Person, Person.id == Booking.learner_id)
            .join(Course, Course.id == Booking.course_id)
            .join(SessionRow, SessionRow.id == Booking.session_id)
            .where(
                ApprovalRequest.status == "waiting",
                ApprovalRequest.kind == "budget_holder",
                ApprovalRequest.approver_id == actor.person_id,
            )
            .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
        )
    ).all()


async def _spend_request(
    s: AsyncSession, row: _Waiting, *, now: datetime, config: BillingConfig
) -> SpendRequest:
    """One request, with the code's spend this year besides this booking's own place."""
    request, booking, person, course, starts_at = row
    price = booking_price(booking, course)
    check = None
    if price is not None and booking.cost_code:
        check = await billing.check_spend(
            s,
            booking.cost_code,
            price,
            committed=await committed_spend(s, booking.cost_code, exclude=booking.id),
            today=now.date(),
            year_start=config.year_start,
        )
    return SpendRequest(
        request_id=request.id,
        booking_id=booking.id,
        learner={"id": person.id, "name": person.name, "email": person.email},
        course={"id": course.id, "code": course.code, "title": course.title},
        session_id=booking.session_id,
        session_start=starts_at,
        amount=price,
        cost_code=booking.cost_code,
        spent=check.spent if check else None,
        limit=check.limit if check else None,
        over_limit=bool(check and check.over_limit),
        requested_at=request.requested_at,
    )
