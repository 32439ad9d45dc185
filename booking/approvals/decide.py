"""Deciding an approval request, in the queue or by a signed link in the email.

The last approval takes the seat at that moment under the session row's lock (see
`booking.seats.place_after_approval`), so an approval racing a sign-up for the last seat can
never overbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.approvals.queue import ApprovalItem, approval_items
from booking.approvals.requests import request_step
from booking.clock import Clock
from booking.db import Database
from booking.domain.approvals import approver_label, decode_plan
from booking.domain.states import BookingState
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError, NotFoundError
from booking.kernel.history import record_transition
from booking.kernel.locks import lock_booking, lock_session
from booking.kernel.views import ApprovalWaitView, BookingView
from booking.kernel.webhook_events import queue_event
from booking.models import ApprovalRequest, Booking
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_view, waiting_for
from booking.seats import place_after_approval

MAX_COMMENT = 1000
DECISIONS = ("approve", "decline")


@dataclass(slots=True)
class Decision:
    approval: ApprovalItem
    booking: BookingView
    # While another approval is still needed: who it waits for (see `waiting_for`).
    next_approval: ApprovalWaitView | None = None


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
    comment = _checked_comment(decision, comment)
    work = partial(
        _decide, clock=clock, actor=actor, request_id=request_id, decision=decision, comment=comment
    )
    return await tx.run(db, work)


def _checked_comment(decision: str, comment: str | None) -> str | None:
    if decision not in DECISIONS:
        raise InvalidError("decision must be approve or decline.", "decision")
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise InvalidError("The comment is limited to 1,000 characters.", "comment")
    if decision == "decline" and not comment:
        raise InvalidError("Tell the learner why: a comment is needed to decline.", "comment")
    return comment


async def _decide(
    s: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    request_id: int,
    decision: str,
    comment: str | None,
) -> Decision:
    now = clock.now()
    session, booking, request = await _lock_request(s, actor, request_id)
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
            to_state=BookingState.DECLINED,
            actor=actor,
            now=now,
            reason=comment,
            notify="booking.declined",
        )
    else:
        request.status = "approved"
        await _approve(s, request, booking, session, actor=actor, now=now, comment=comment)
    await s.flush()
    await _queue_decided(s, request, booking, actor=actor, now=now)
    await audit.record(
        s,
        action=f"approval.{request.status}",
        now=now,
        actor=actor,
        target=f"booking {booking.id}",
        details={"request": request.id, "as": request.kind, "comment": comment},
    )
    return Decision(
        (await approval_items(s, [request.id]))[0],
        await booking_view(s, booking.id, now=now),
        (await waiting_for(s, [booking.id])).get(booking.id),
    )


async def _queue_decided(
    s: AsyncSession, request: ApprovalRequest, booking: Booking, *, actor: Actor, now: datetime
) -> None:
    """`approval.decided` for the webhook endpoints listening."""
    await queue_event(
        s,
        "approval.decided",
        {
            "approval_id": request.id,
            "kind": request.kind,
            "decision": request.status,
            "comment": request.comment,
            "decided_by": {"id": actor.person_id},
            "booking_id": booking.id,
            "session_id": booking.session_id,
            "learner": {"id": booking.learner_id},
        },
        now=now,
        booking_id=booking.id,
        session_id=booking.session_id,
    )


async def _lock_request(
    s: AsyncSession, actor: Actor, request_id: int
) -> tuple[SessionRow, Booking, ApprovalRequest]:
    """The request, its booking and the booking's session, locked in the order used
    everywhere: the session row, then the booking and its request."""
    found = await s.get(ApprovalRequest, request_id)
    if found is None or not policy.can_decide_approval(actor, found.approver_id):
        raise NotFoundError(f"There is no approval request {request_id}.")
    booking_session_id = await s.scalar(
        select(Booking.session_id).where(Booking.id == found.booking_id)
    )
    assert booking_session_id is not None
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
    return session, booking, request


async def _approve(
    s: AsyncSession,
    request: ApprovalRequest,
    booking: Booking,
    session: SessionRow,
    *,
    actor: Actor,
    now: datetime,
    comment: str | None,
) -> None:
    """The next step of the plan asks its approver; after the last, the learner is placed."""
    _, plan = decode_plan(request.note)
    following = request.step + 1
    if following >= len(plan):
        await place_after_approval(s, booking, session, actor=actor, now=now, comment=comment)
        return
    await record_transition(
        s,
        booking=booking,
        to_state=BookingState.PENDING_APPROVAL,
        actor=actor,
        now=now,
        reason=f"Approved by {actor.name}; now waiting for " + approver_label(plan[following].kind),
        notify=None,
    )
    await request_step(s, booking, plan, following, now=now)
