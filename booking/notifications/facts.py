"""What one outbox row's email is about, read from the database as it is at sending time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import payments
from booking.domain.states import IN_CALENDAR, BookingState
from booking.models import Booking, Course, Outbox, Person, Room, SessionDate
from booking.models import Session as SessionRow
from booking.notifications.topics import is_account_message, is_evidence_message
from booking.reads.bookings import waitlist_positions


@dataclass(slots=True)
class MessageFacts:
    row: Outbox
    payload: dict[str, Any]
    recipient: Person
    session: SessionRow | None
    booking: Booking | None
    course: Course | None
    learner: Person | None
    room: Room | None
    # Every date of the session, the current ones, and those the payload names as removed.
    all_dates: list[SessionDate]
    dates: list[SessionDate]
    removed: list[SessionDate]
    # Read for some topics only: the learner's place on the waiting list, the roster's counts
    # by state, and what a cancellation cost.
    position: int | None = None
    roster: dict[str, int] = field(default_factory=dict)
    fee: dict[str, Any] | None = None

    @property
    def holds_place(self) -> bool:
        """The learner's calendar holds the session now."""
        return bool(self.booking and self.booking.state in IN_CALENDAR)

    @property
    def held_before(self) -> bool:
        """The learner's calendar held the session before the change this row tells of."""
        return self.payload.get("from_state") in IN_CALENDAR

    @property
    def location(self) -> str | None:
        if self.room is not None:
            return ", ".join(x for x in (self.room.name, self.room.address) if x)
        if self.session is not None and self.session.virtual_link:
            return "Online"
        return None


async def load_facts(s: AsyncSession, row: Outbox) -> MessageFacts:
    payload = row.payload or {}
    recipient = await s.get(Person, row.recipient_id) if row.recipient_id else _addressee(row)
    if recipient is None:
        raise LookupError(f"outbox row {row.id} has no recipient")
    session = await s.get(SessionRow, row.session_id) if row.session_id else None
    booking = await s.get(Booking, row.booking_id) if row.booking_id else None
    course_id = session.course_id if session else payload.get("course_id")
    course = await s.get(Course, int(course_id)) if course_id else None
    learner = await s.get(Person, booking.learner_id) if booking else None
    room = await s.get(Room, session.room_id) if session and session.room_id else None
    all_dates = await _dates_of(s, session) if session else []
    removed_ids = set(payload.get("date_ids") or [])
    facts = MessageFacts(
        row=row,
        payload=payload,
        recipient=recipient,
        session=session,
        booking=booking,
        course=course,
        learner=learner,
        room=room,
        all_dates=all_dates,
        dates=[d for d in all_dates if d.removed_at is None],
        removed=[d for d in all_dates if d.id in removed_ids],
    )
    facts.position = await _waitlist_position(s, booking)
    if row.topic == "trainer.roster" and session is not None:
        facts.roster = await _roster_counts(s, session)
    if row.topic == "booking.cancelled" and booking is not None:
        facts.fee = await _cancellation_fee(s, booking)
    return facts


def _addressee(row: Outbox) -> Person | None:
    """Who an account message without a person goes to (someone asking for an account has
    none yet): the address in its payload. A transient row, never added to the session."""
    payload = row.payload or {}
    addressed = is_account_message(row.topic) or is_evidence_message(row.topic)
    if not addressed or not payload.get("to_email"):
        return None
    return Person(name=str(payload.get("to_name") or ""), email=str(payload["to_email"]))


async def _dates_of(s: AsyncSession, session: SessionRow) -> list[SessionDate]:
    return list(
        await s.scalars(
            select(SessionDate)
            .where(SessionDate.session_id == session.id)
            .order_by(SessionDate.start_at)
        )
    )


async def _waitlist_position(s: AsyncSession, booking: Booking | None) -> int | None:
    if booking is None or booking.state != BookingState.WAITLISTED or not booking.waitlist_seq:
        return None
    return (await waitlist_positions(s, [booking])).get(booking.id)


async def _roster_counts(s: AsyncSession, session: SessionRow) -> dict[str, int]:
    rows = await s.execute(
        select(Booking.state, func.count())
        .where(Booking.session_id == session.id)
        .group_by(Booking.state)
    )
    return {state: n for state, n in rows}


async def _cancellation_fee(s: AsyncSession, booking: Booking) -> dict[str, Any] | None:
    """What the cancellation cost, as the ledger says at sending time (net of a waiver)."""
    charged = (await payments.fees_for(s, [booking.id])).get(booking.id)
    if charged is None or charged.amount <= 0:
        return None
    return {"amount": charged.display(), "cost_code": booking.cost_code}
