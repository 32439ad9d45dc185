"""Approval requests: asking, deciding (in the queue or by a signed link in the email), lapsing
when sign-up closes, and reminding approvers who have not answered.

A booking waiting for approval holds no seat. When the last approver says yes, the seat is taken
at that moment under the session row's lock, exactly as a direct booking takes one, so an approval
racing a sign-up for the last seat can never overbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import payments, people, policy, signing
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.domain.approvals import ApprovalStep, approver_label, decode_plan, encode_plan
from booking.domain.states import BookingState
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, date_views
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.kernel.history import record_transition
from booking.kernel.locks import lock_booking, lock_bookings, lock_session
from booking.kernel.outbox import queue_email
from booking.kernel.tx import with_retry
from booking.kernel.views import BookingView, SessionDateView
from booking.models import ApprovalRequest, Booking, Course, Outbox, Person
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_view, waiting_for
from booking.seats import take_seat, take_waitlist_ticket

LINK_PURPOSE = "approval-decision"
LINK_LIFETIME = timedelta(days=14)
MAX_COMMENT = 1000
DECISIONS = ("approve", "decline")


async def budget_holder_for(s: AsyncSession, course: Course, cost_code: str | None) -> int | None:
    """The budget holder whose approval a booking needs, if any: the cost code's, when a cost
    code pays and a fee can arise (billing knows the code; booking knows the person)."""
    return await payments.budget_holder_id(s, course, cost_code)


async def request_step(
    s: AsyncSession, booking: Booking, plan: Sequence[ApprovalStep], index: int, *, now: datetime
) -> None:
    """Open the approval request for step `index` of the plan and tell the approver(s). The rest
    of the plan is kept with the request so later steps follow without recomputing."""
    step = plan[index]
    request = ApprovalRequest(
        booking_id=booking.id,
        step=index,
        kind=step.kind,
        approver_id=step.approver_id,
        note=encode_plan(plan, step.note),
        status="waiting",
        requested_at=now,
    )
    s.add(request)
    await s.flush()
    approvers = (
        [step.approver_id] if step.approver_id is not None else await people.active_admin_ids(s)
    )
    for approver_id in approvers:
        await queue_email(
            s,
            topic="approval.requested",
            recipient_id=approver_id,
            booking_id=booking.id,
            session_id=booking.session_id,
            now=now,
            dedupe_key=f"approval.requested:{request.id}:{approver_id}",
            payload={"booking_id": booking.id, "request_id": request.id, "kind": step.kind},
        )


# ---------------------------------------------------------------------------------------------
# The queue


@dataclass(slots=True)
class ApprovalItem:
    id: int
    kind: str
    status: str
    booking_id: int
    booking_state: str
    learner: dict[str, Any]
    course: dict[str, Any]
    session_id: int
    amount: dict[str, Any] | None
    cost_code: str | None
    requested_at: datetime
    note: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    # The session's dates (in its own time zone), so the approver sees when it is.
    dates: list[SessionDateView] = field(default_factory=list)


def _may_decide(actor: Actor, request: ApprovalRequest) -> bool:
    if not policy.is_person(actor):
        return False
    if request.approver_id is not None:
        return request.approver_id == actor.person_id
    return actor.is_admin


async def list_waiting(db: Database, clock: Clock, actor: Actor) -> list[ApprovalItem]:
    """Requests waiting for the actor: theirs by name, and any administrator's if they are one."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people approve bookings.")
    async with db.reading() as s:
        mine = ApprovalRequest.approver_id == actor.person_id
        condition = or_(mine, ApprovalRequest.approver_id.is_(None)) if actor.is_admin else mine
        ids = (
            await s.scalars(
                select(ApprovalRequest.id)
                .where(ApprovalRequest.status == "waiting", condition)
                .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
            )
        ).all()
        return await _items(s, list(ids))


async def _items(s: AsyncSession, ids: list[int]) -> list[ApprovalItem]:
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
    by_id = {
        r.id: ApprovalItem(
            id=r.id,
            kind=r.kind,
            status=r.status,
            booking_id=b.id,
            booking_state=b.state,
            learner={"id": p.id, "name": p.name, "email": p.email},
            course={"id": c.id, "code": c.code, "title": c.title},
            session_id=b.session_id,
            amount={"amount": c.price_amount, "currency": c.price_currency}
            if c.price_amount
            else None,
            cost_code=b.cost_code,
            requested_at=r.requested_at,
            note=decode_plan(r.note)[0],
            decided_at=r.decided_at,
            comment=r.comment,
            dates=date_views(dates[b.session_id]),
        )
        for r, b, p, c in rows
    }
    return [by_id[i] for i in ids if i in by_id]


async def get_request(db: Database, actor: Actor, request_id: int) -> ApprovalItem:
    async with db.reading() as s:
        request = await s.get(ApprovalRequest, request_id)
        if request is None or not _may_decide(actor, request):
            raise NotFoundError(f"There is no approval request {request_id}.")
        return (await _items(s, [request_id]))[0]


# ---------------------------------------------------------------------------------------------
# Deciding


@dataclass(slots=True)
class Decision:
    approval: ApprovalItem
    booking: BookingView
    # While another approval is still needed: who it waits for (see `waiting_for`).
    next_approval: dict[str, Any] | None = None


async def decide(
    db: Database,
    clock: Clock,
    actor: Actor,
    request_id: int,
    *,
    decision: str,
    comment: str | None = None,
) -> Decision:
    """Approve or decline. The last approval books the learner if a seat is free, otherwise
    puts them on the waiting list (or declines, when the session is full and has none)."""
    if decision not in DECISIONS:
        raise InvalidError("decision must be approve or decline.", "decision")
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise InvalidError("The comment is limited to 1,000 characters.", "comment")
    if decision == "decline" and not comment:
        raise InvalidError("Tell the learner why: a comment is needed to decline.", "comment")

    async def attempt() -> Decision:
        async with db.transaction() as s:
            now = clock.now()
            found = await s.get(ApprovalRequest, request_id)
            if found is None or not _may_decide(actor, found):
                raise NotFoundError(f"There is no approval request {request_id}.")
            booking_session_id = await s.scalar(
                select(Booking.session_id).where(Booking.id == found.booking_id)
            )
            assert booking_session_id is not None
            # Lock order as everywhere: the session row, then the booking and its request.
            session = await lock_session(s, booking_session_id)
            assert session is not None
            booking = await lock_booking(s, found.booking_id)
            request = await s.scalar(
                select(ApprovalRequest)
                .where(ApprovalRequest.id == request_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            assert booking is not None and request is not None
            if request.status != "waiting" or booking.state != BookingState.PENDING_APPROVAL:
                raise ConflictError(f"This request has already been answered ({request.status}).")
            if session.signup_closes is not None and now >= session.signup_closes:
                raise ConflictError("Sign-up for this session has closed; the request lapsed.")
            request.decided_at = now
            request.decided_by_id = actor.person_id
            request.comment = comment
            if decision == "decline":
                request.status = "declined"
                await record_transition(
                    s,
                    booking=booking,
                    to_state="declined",
                    actor=actor,
                    now=now,
                    reason=comment,
                    notify="booking.declined",
                )
            else:
                request.status = "approved"
                _, plan = decode_plan(request.note)
                if request.step + 1 < len(plan):
                    await record_transition(
                        s,
                        booking=booking,
                        to_state="pending_approval",
                        actor=actor,
                        now=now,
                        reason=f"Approved by {actor.name}; now waiting for "
                        + approver_label(plan[request.step + 1].kind),
                        notify=None,
                    )
                    await request_step(s, booking, plan, request.step + 1, now=now)
                else:
                    await _place(s, booking, session, actor=actor, now=now, comment=comment)
            await s.flush()
            await audit.record(
                s,
                action=f"approval.{request.status}",
                now=now,
                actor=actor,
                target=f"booking {booking.id}",
                details={"request": request.id, "as": request.kind, "comment": comment},
            )
            return Decision(
                (await _items(s, [request.id]))[0],
                await booking_view(s, booking.id, now=now),
                (await waiting_for(s, [booking.id])).get(booking.id),
            )

    return await with_retry(attempt)


async def _place(
    s: AsyncSession,
    booking: Booking,
    session: SessionRow,
    *,
    actor: Actor,
    now: datetime,
    comment: str | None,
) -> None:
    reason = f"Approved by {actor.name}" + (f": {comment}" if comment else "")
    if session.status != "open" or now >= session.starts_at:
        raise ConflictError("This session is no longer open for booking.")
    if await take_seat(s, session, seat_guard=True):
        await record_transition(
            s,
            booking=booking,
            to_state="booked",
            actor=actor,
            now=now,
            reason=reason,
            notify="booking.booked",
        )
    elif session.waitlist_mode != "off":
        booking.waitlist_seq = await take_waitlist_ticket(s, session.id)
        await record_transition(
            s,
            booking=booking,
            to_state="waitlisted",
            actor=actor,
            now=now,
            reason=reason + "; the session is full, so on the waiting list",
            notify="booking.waitlisted",
        )
    else:
        await record_transition(
            s,
            booking=booking,
            to_state="declined",
            actor=actor,
            now=now,
            reason="Approved, but the session is full and has no waiting list",
            notify="booking.declined",
        )


# ---------------------------------------------------------------------------------------------
# One-click links in the approver's email


def decision_link(
    settings: Settings,
    request_id: int,
    approver_id: int,
    decision: str,
    now: datetime,
    until: datetime | None = None,
) -> str:
    expires = min(until, now + LINK_LIFETIME) if until else now + LINK_LIFETIME
    token = signing.sign(
        settings.secret_key,
        LINK_PURPOSE,
        {"r": request_id, "p": approver_id, "d": decision},
        expires,
    )
    return f"{settings.base_url}/approvals/{request_id}/{decision}?t={token}"


def check_link(
    settings: Settings, actor: Actor, request_id: int, decision: str, token: str, now: datetime
) -> None:
    """A link works only for the request and decision it was made for, before it expires, and
    only for the person it was issued to (who must be the one signed in)."""
    try:
        data = signing.verify(settings.secret_key, LINK_PURPOSE, token, now)
    except signing.BadSignature as exc:
        raise ForbiddenError(str(exc)) from exc
    if data.get("r") != request_id or data.get("d") != decision:
        raise ForbiddenError("This link is not valid.")
    if data.get("p") != actor.person_id:
        raise ForbiddenError(
            "This link was sent to someone else. Sign in as the person it was sent to."
        )


# ---------------------------------------------------------------------------------------------
# Sweeps


async def lapse_requests(db: Database, clock: Clock) -> int:
    """Requests still waiting when sign-up closes lapse; the learner is told."""
    now = clock.now()
    async with db.reading() as s:
        session_ids = (
            await s.scalars(
                select(Booking.session_id)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(
                    Booking.state == "pending_approval",
                    or_(SessionRow.signup_closes <= now, SessionRow.starts_at <= now),
                )
                .distinct()
            )
        ).all()
    lapsed = 0
    for session_id in session_ids:

        async def attempt(session_id: int = session_id) -> int:
            async with db.transaction() as s:
                now = clock.now()
                await lock_session(s, session_id)
                count = 0
                for booking in await lock_bookings(
                    s, Booking.session_id == session_id, Booking.state == "pending_approval"
                ):
                    for request in await s.scalars(
                        select(ApprovalRequest).where(
                            ApprovalRequest.booking_id == booking.id,
                            ApprovalRequest.status == "waiting",
                        )
                    ):
                        request.status = "lapsed"
                        request.decided_at = now
                    await record_transition(
                        s,
                        booking=booking,
                        to_state="cancelled",
                        actor=Actor.system(),
                        now=now,
                        reason="Sign-up closed before the booking was approved",
                        notify="booking.approval_lapsed",
                    )
                    booking.cancel_reason = "Approval not given before sign-up closed"
                    count += 1
                return count

        lapsed += await with_retry(attempt)
    return lapsed


async def remind_approvers(db: Database, clock: Clock, after: timedelta) -> int:
    """One reminder to each approver whose request has waited longer than `after`."""

    async def attempt() -> int:
        async with db.transaction() as s:
            now = clock.now()
            rows = (
                await s.execute(
                    select(ApprovalRequest, Booking)
                    .join(Booking, Booking.id == ApprovalRequest.booking_id)
                    .where(
                        ApprovalRequest.status == "waiting",
                        ApprovalRequest.approver_id.is_not(None),
                        ApprovalRequest.requested_at <= now - after,
                        ~exists().where(
                            Outbox.dedupe_key == "approval.reminder:" + _as_text(ApprovalRequest.id)
                        ),
                    )
                )
            ).all()
            for request, booking in rows:
                await queue_email(
                    s,
                    topic="approval.reminder",
                    recipient_id=request.approver_id,
                    booking_id=booking.id,
                    session_id=booking.session_id,
                    now=now,
                    dedupe_key=f"approval.reminder:{request.id}",
                    payload={"booking_id": booking.id, "request_id": request.id},
                )
            return len(rows)

    return await with_retry(attempt)


def _as_text(column: Any) -> Any:
    from sqlalchemy import String, cast

    return cast(column, String)
