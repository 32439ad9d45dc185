"""The worker's approval sweeps: requests lapse when sign-up closes, and approvers who have not
answered are reminded once."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import String, cast, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel import tx
from booking.kernel.actors import Actor
from booking.kernel.history import record_transition
from booking.kernel.locks import lock_bookings, lock_session
from booking.kernel.outbox import queue_email
from booking.models import ApprovalRequest, Booking, Outbox
from booking.models import Session as SessionRow


async def lapse_requests(db: Database, clock: Clock) -> int:
    """Requests still waiting when sign-up closes lapse; the learner is told."""
    now = clock.now()
    async with db.reading() as s:
        session_ids = (
            await s.scalars(
                select(Booking.session_id)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(
                    Booking.state == BookingState.PENDING_APPROVAL,
                    or_(SessionRow.signup_closes <= now, SessionRow.starts_at <= now),
                )
                .distinct()
            )
        ).all()
    lapsed = 0
    for session_id in session_ids:
        lapsed += await tx.run(db, partial(_lapse_session, clock=clock, session_id=session_id))
    return lapsed


async def _lapse_session(s: AsyncSession, *, clock: Clock, session_id: int) -> int:
    """Every booking of the session still waiting for approval: cancelled, its requests lapsed."""
    now = clock.now()
    await lock_session(s, session_id)
    count = 0
    for booking in await lock_bookings(
        s, Booking.session_id == session_id, Booking.state == BookingState.PENDING_APPROVAL
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
            to_state=BookingState.CANCELLED,
            actor=Actor.system(),
            now=now,
            reason="Sign-up closed before the booking was approved",
            notify="booking.approval_lapsed",
        )
        booking.cancel_reason = "Approval not given before sign-up closed"
        count += 1
    return count


async def remind_approvers(db: Database, clock: Clock, after: timedelta) -> int:
    """One reminder to each approver whose request has waited longer than `after`."""
    return await tx.run(db, partial(_remind, clock=clock, after=after))


async def _remind(s: AsyncSession, *, clock: Clock, after: timedelta) -> int:
    now = clock.now()
    reminded = Outbox.dedupe_key == "approval.reminder:" + cast(ApprovalRequest.id, String)
    rows = (
        await s.execute(
            select(ApprovalRequest, Booking)
            .join(Booking, Booking.id == ApprovalRequest.booking_id)
            .where(
                ApprovalRequest.status == "waiting",
                ApprovalRequest.approver_id.is_not(None),
                ApprovalRequest.requested_at <= now - after,
                ~exists().where(reminded),
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
