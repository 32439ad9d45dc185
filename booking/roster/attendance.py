"""Taking attendance: mark learners attended, partly attended or no-show, one by one or all at
once. A mark writes (or withdraws) the learner's course completion and charges what attendance
costs, in the same transaction as the mark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import payments, policy, records
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import ATTENDANCE, BookingState, state_name
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError
from booking.kernel.history import record_transition
from booking.kernel.locks import lock_bookings
from booking.kernel.views import RosterView
from booking.models import Booking, Completion, Course
from booking.models import Session as SessionRow
from booking.roster.access import session_for_trainer
from booking.roster.reads import read_roster

# Attendance is taken for booked learners, and changed once taken.
MARKABLE = frozenset({BookingState.BOOKED, *ATTENDANCE})


@dataclass(frozen=True, slots=True)
class Mark:
    booking_id: int
    status: str


@dataclass(slots=True)
class AttendanceOutcome:
    roster: RosterView
    # What changed, per new status: marks that repeat the current state are not counted.
    changed: dict[str, int]


async def mark_attendance(
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    marks: Sequence[Mark],
    *,
    lock_days: int = 7,
) -> RosterView:
    """Record attended / partially attended / no-show for booked learners, from the session's
    start. After `lock_days` past the end only administrators may change it. Attendance writes
    (or withdraws) the course completion."""
    work = partial(
        _mark, clock=clock, actor=actor, session_id=session_id, marks=marks, lock_days=lock_days
    )
    await tx.run(db, work)
    # The answer, the roster as everyone now sees it, is read after the commit: building it
    # does not hold the session's lock (on SQLite, every writer's).
    return await read_roster(db, clock, actor, session_id)


async def mark_all_attended(
    db: Database, clock: Clock, actor: Actor, session_id: int, *, lock_days: int = 7
) -> AttendanceOutcome:
    """Everyone still marked booked becomes attended; adjust the exceptions afterwards. The
    outcome counts what changed (those already marked, attended or not, are left alone)."""
    work = partial(_mark_all, clock=clock, actor=actor, session_id=session_id, lock_days=lock_days)
    changed = await tx.run(db, work)
    return AttendanceOutcome(await read_roster(db, clock, actor, session_id), changed)


async def _mark(
    s: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    session_id: int,
    marks: Sequence[Mark],
    lock_days: int,
) -> dict[str, int]:
    now = clock.now()
    # Who may do this is checked before what they sent: a stranger learns nothing either way.
    session = await session_for_trainer(s, actor, session_id, lock=True)
    _check_marks(marks)
    return await _record_marks(s, actor, session, marks, now=now, lock_days=lock_days)


async def _mark_all(
    s: AsyncSession, *, clock: Clock, actor: Actor, session_id: int, lock_days: int
) -> dict[str, int]:
    now = clock.now()
    session = await session_for_trainer(s, actor, session_id, lock=True)
    ids = (
        await s.scalars(
            select(Booking.id).where(
                Booking.session_id == session.id, Booking.state == BookingState.BOOKED
            )
        )
    ).all()
    if not ids:
        return {}
    marks = [Mark(i, BookingState.ATTENDED.value) for i in ids]
    return await _record_marks(s, actor, session, marks, now=now, lock_days=lock_days)


def _check_marks(marks: Sequence[Mark]) -> None:
    if not marks:
        raise InvalidError("Send at least one mark.", "marks")
    for mark in marks:
        if mark.status not in ATTENDANCE:
            raise InvalidError(
                f"Booking {mark.booking_id}: status must be attended, partially_attended or "
                "no_show.",
                "marks",
            )
    if len({m.booking_id for m in marks}) != len(marks):
        raise InvalidError("A booking is marked twice in the same request.", "marks")


def _check_attendance_open(
    actor: Actor, session: SessionRow, *, now: datetime, lock_days: int
) -> None:
    if session.status == "cancelled":
        raise ConflictError("This session was cancelled; there is no attendance to take.")
    if now < session.starts_at:
        raise ConflictError("Attendance can be taken from the start of the session.")
    if not policy.can_mark_attendance(actor, ends_at=session.ends_at, now=now, lock_days=lock_days):
        raise ConflictError(
            f"Attendance was locked {lock_days} days after the session; ask an "
            "administrator to change it."
        )


async def _markable_bookings(
    s: AsyncSession, session: SessionRow, marks: Sequence[Mark]
) -> dict[int, Booking]:
    """The marked bookings, locked; every one on this session and booked or already marked."""
    rows = {b.id: b for b in await lock_bookings(s, Booking.id.in_([m.booking_id for m in marks]))}
    for mark in marks:
        booking = rows.get(mark.booking_id)
        if booking is None or booking.session_id != session.id:
            raise InvalidError(f"Booking {mark.booking_id} is not on this session.", "marks")
        if booking.state not in MARKABLE:
            raise ConflictError(
                f"Booking {mark.booking_id} is {state_name(booking.state).lower()}; only "
                "booked learners get attendance."
            )
    return rows


async def _record_marks(
    s: AsyncSession,
    actor: Actor,
    session: SessionRow,
    marks: Sequence[Mark],
    *,
    now: datetime,
    lock_days: int,
) -> dict[str, int]:
    _check_attendance_open(actor, session, now=now, lock_days=lock_days)
    course = await s.get_one(Course, session.course_id)
    rows = await _markable_bookings(s, session, marks)
    changed: dict[str, int] = {}
    for mark in marks:
        booking = rows[mark.booking_id]
        if booking.state == mark.status:
            continue
        changed[mark.status] = changed.get(mark.status, 0) + 1
        await _record_mark(s, actor, booking, mark.status, course, session, now=now)
    return changed


async def _record_mark(
    s: AsyncSession,
    actor: Actor,
    booking: Booking,
    status: str,
    course: Course,
    session: SessionRow,
    *,
    now: datetime,
) -> None:
    await audit.record(
        s,
        action="attendance.marked",
        now=now,
        actor=actor,
        target=f"booking {booking.id}",
        details={"session": session.id, "from": booking.state, "to": status},
    )
    await record_transition(
        s, booking=booking, to_state=status, actor=actor, now=now, reason="Attendance", notify=None
    )
    await _sync_completion(s, booking, course, session, now=now)
    # Attendance by cost code is charged; a no-show is charged its fee (billing).
    await payments.on_attendance(s, booking, course, actor=actor, now=now)


async def _sync_completion(
    s: AsyncSession, booking: Booking, course: Course, session: SessionRow, *, now: datetime
) -> None:
    """Attendance that counts writes the workshop completion; a change away withdraws it. The
    mark and the completion written or withdrawn go into the records change feed, in this
    transaction (`records` owns both)."""
    await records.note_attendance(s, booking=booking, session=session, now=now)
    counts = booking.state == BookingState.ATTENDED or (
        booking.state == BookingState.PARTIALLY_ATTENDED and course.partial_attendance_counts
    )
    existing = await s.scalar(select(Completion).where(Completion.booking_id == booking.id))
    if counts and existing is None:
        await records.add_completion(
            s,
            learner_id=booking.learner_id,
            course=course,
            completed_at=session.ends_at,
            source="workshop",
            now=now,
            booking_id=booking.id,
            session_id=session.id,
        )
    elif not counts and existing is not None:
        await records.withdraw_completion(s, existing, now=now, session_id=session.id)
