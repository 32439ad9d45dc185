"""Running a session: attendance, adding and moving learners, messages, CSV and sign-in sheet.

All of it is for the session's trainers and administrators (`policy.can_run_session`); a learner
gets 403 for a session they can see and 404 for a draft.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import catalogue, eligibility, payments, people, policy, records
from booking.bookings import existing_bookings
from booking.clock import Clock
from booking.db import Database
from booking.domain.booking_rules import Overrides, decide_booking
from booking.domain.states import BookingState, state_name
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, local, slots
from booking.kernel.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    RefusedError,
)
from booking.kernel.exports import safe_cell
from booking.kernel.history import facilitator_ids, record_transition
from booking.kernel.locks import lock_booking, lock_bookings, lock_session
from booking.kernel.outbox import queue_email
from booking.kernel.tx import with_retry
from booking.kernel.views import BookingView, RosterView
from booking.models import Booking, Completion, Course, Outbox, Person
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_view
from booking.roster.reads import read_roster
from booking.seats import promote_waiting, release_seat, take_seat

ATTENDANCE = ("attended", "partially_attended", "no_show")
MARKABLE = ("booked", *ATTENDANCE)
MAX_SUBJECT = 200
MAX_MESSAGE = 10_000


async def _session_for_trainer(
    s: AsyncSession, actor: Actor, session_id: int, *, lock: bool = False
) -> SessionRow:
    session = await lock_session(s, session_id) if lock else await s.get(SessionRow, session_id)
    if session is None:
        raise NotFoundError(f"There is no session {session_id}.")
    if not policy.can_run_session(actor, await facilitator_ids(s, session.id)):
        if policy.is_person(actor) and session.status != "draft":
            raise ForbiddenError("Only the session's trainers and administrators can do this.")
        raise NotFoundError(f"There is no session {session_id}.")
    return session


# ---------------------------------------------------------------------------------------------
# Attendance


@dataclass(frozen=True, slots=True)
class Mark:
    booking_id: int
    status: str


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
    await _mark(db, clock, actor, session_id, marks, lock_days=lock_days)
    return await read_roster(db, clock, actor, session_id)


@dataclass(slots=True)
class AttendanceOutcome:
    roster: RosterView
    # What changed, per new status: marks that repeat the current state are not counted.
    changed: dict[str, int]


async def _mark(
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    marks: Sequence[Mark],
    *,
    lock_days: int,
) -> dict[str, int]:
    # Who may do this is checked before what they sent: a stranger learns nothing either way.
    async with db.reading() as s:
        await _session_for_trainer(s, actor, session_id)
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

    async def attempt() -> dict[str, int]:
        changed: dict[str, int] = {}
        async with db.transaction() as s:
            now = clock.now()
            session = await _session_for_trainer(s, actor, session_id, lock=True)
            if session.status == "cancelled":
                raise ConflictError("This session was cancelled; there is no attendance to take.")
            if now < session.starts_at:
                raise ConflictError("Attendance can be taken from the start of the session.")
            if not actor.is_admin and now > session.ends_at + timedelta(days=lock_days):
                raise ConflictError(
                    f"Attendance was locked {lock_days} days after the session; ask an "
                    "administrator to change it."
                )
            course = await s.get_one(Course, session.course_id)
            rows = {
                b.id: b
                for b in await lock_bookings(s, Booking.id.in_([m.booking_id for m in marks]))
            }
            for mark in marks:
                booking = rows.get(mark.booking_id)
                if booking is None or booking.session_id != session.id:
                    raise InvalidError(
                        f"Booking {mark.booking_id} is not on this session.", "marks"
                    )
                if booking.state not in MARKABLE:
                    raise ConflictError(
                        f"Booking {mark.booking_id} is {state_name(booking.state).lower()}; only "
                        "booked learners get attendance."
                    )
            for mark in marks:
                booking = rows[mark.booking_id]
                if booking.state == mark.status:
                    continue
                changed[mark.status] = changed.get(mark.status, 0) + 1
                await audit.record(
                    s,
                    action="attendance.marked",
                    now=now,
                    actor=actor,
                    target=f"booking {booking.id}",
                    details={"session": session.id, "from": booking.state, "to": mark.status},
                )
                await record_transition(
                    s,
                    booking=booking,
                    to_state=mark.status,
                    actor=actor,
                    now=now,
                    reason="Attendance",
                    notify=None,
                )
                await _sync_completion(s, booking, course, session, now=now)
                # Attendance by cost code is charged; a no-show is charged its fee (billing).
                await payments.on_attendance(s, booking, course, actor=actor, now=now)
        return changed

    return await with_retry(attempt)


async def mark_all_attended(
    db: Database, clock: Clock, actor: Actor, session_id: int, *, lock_days: int = 7
) -> AttendanceOutcome:
    """Everyone still marked booked becomes attended; adjust the exceptions afterwards. The
    outcome counts what changed (those already marked, attended or not, are left alone)."""
    async with db.reading() as s:
        await _session_for_trainer(s, actor, session_id)
        ids = (
            await s.scalars(
                select(Booking.id).where(
                    Booking.session_id == session_id, Booking.state == "booked"
                )
            )
        ).all()
    changed = (
        await _mark(
            db, clock, actor, session_id, [Mark(i, "attended") for i in ids], lock_days=lock_days
        )
        if ids
        else {}
    )
    return AttendanceOutcome(await read_roster(db, clock, actor, session_id), changed)


async def _sync_completion(
    s: AsyncSession, booking: Booking, course: Course, session: SessionRow, *, now: datetime
) -> None:
    """Attendance that counts writes the workshop completion; a change away withdraws it. The
    mark and the completion written or withdrawn go into the records change feed, in this
    transaction (`records` owns both)."""
    await records.note_attendance(s, booking=booking, session=session, now=now)
    counts = booking.state == "attended" or (
        booking.state == "partially_attended" and course.partial_attendance_counts
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


# ---------------------------------------------------------------------------------------------
# Moving a learner to another date of the same course


async def move_booking(
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    target_session_id: int,
    *,
    reason: str,
    override_reason: str | None = None,
) -> BookingView:
    """Move a booked learner to another session of the same course. The target's seat rules
    apply (its seat is taken with the same conditional update as a sign-up, so a move never
    overbooks); the freed seat on the old session goes to its waiting list; the learner's
    calendar gets a CANCEL for the old dates and a REQUEST for the new ones."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError("Give a reason for the move.", "reason")

    async def attempt() -> BookingView:
        async with db.transaction() as s:
            now = clock.now()
            source_id = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
            if source_id is None:
                raise NotFoundError(f"There is no booking {booking_id}.")
            # Allowed at all? (before anything about the move itself is said)
            await _session_for_trainer(s, actor, source_id)
            if source_id == target_session_id:
                raise ConflictError("The booking is already on that session.")
            # Both session rows, locked in id order so two opposite moves cannot deadlock.
            locked: dict[int, SessionRow] = {}
            for sid in sorted({source_id, target_session_id}):
                row = await lock_session(s, sid)
                if row is None:
                    raise NotFoundError(f"There is no session {sid}.")
                locked[sid] = row
            source, target = locked[source_id], locked[target_session_id]
            # The source session's trainers (and administrators) move its learners to any other
            # date of the same course; the target's seat rules still apply.
            await _session_for_trainer(s, actor, source.id)
            booking = await lock_booking(s, booking_id)
            assert booking is not None
            if booking.state != BookingState.BOOKED:
                raise ConflictError("Only a booked place can be moved.")
            if target.course_id != source.course_id:
                raise InvalidError(
                    "A booking can only move to another date of the same course.",
                    "target_session_id",
                )
            learner = await s.get_one(Person, booking.learner_id)
            course = await s.get_one(Course, target.course_id)
            target_dates = (await active_dates(s, [target.id]))[target.id]
            facts = await eligibility.session_facts(s, target, course, slots(target_dates))
            existing = [b for b in await existing_bookings(s, learner.id) if b.id != booking.id]
            decision = decide_booking(
                facts,
                await eligibility.learner_profile(s, learner),
                existing,
                now=now,
                overrides=Overrides(
                    signup_window=True,
                    eligibility=bool(override_reason),
                    clash=bool(override_reason),
                ),
            )
            if decision.refused:
                raise RefusedError(decision.reasons)
            if decision.state != BookingState.BOOKED or not await take_seat(
                s, target, seat_guard=True
            ):
                raise ConflictError("That session is full: a booking can only move to a free seat.")
            old_dates = [d.id for d in (await active_dates(s, [source.id]))[source.id]]
            booking.session_id = target.id
            booking.sequence += 1
            booking.override_reason = override_reason or booking.override_reason
            await record_transition(
                s,
                booking=booking,
                to_state="booked",
                actor=actor,
                now=now,
                reason=f"Moved from session {source.id}: {reason}",
                notify="booking.moved",
            )
            # The old dates leave the learner's calendar (same UIDs, METHOD:CANCEL).
            await queue_email(
                s,
                topic="session.date_removed",
                recipient_id=booking.learner_id,
                booking_id=booking.id,
                session_id=source.id,
                now=now,
                dedupe_key=f"booking.moved.cancel:{booking.id}:{booking.sequence}",
                payload={
                    "booking_id": booking.id,
                    "session_id": source.id,
                    "sequence": booking.sequence,
                    "date_ids": old_dates,
                    "from_state": "booked",
                },
            )
            await release_seat(s, source)
            await promote_waiting(s, source, now=now)
            await audit.record(
                s,
                action="booking.moved",
                now=now,
                actor=actor,
                target=f"booking {booking.id}",
                details={
                    "from": f"session {source.id}",
                    "to": f"session {target.id}",
                    "reason": reason,
                    "override": override_reason,
                },
            )
            return await booking_view(s, booking.id, now=now)

    return await with_retry(attempt)


# ---------------------------------------------------------------------------------------------
# Messages, CSV and the sign-in sheet


async def message_attendees(
    db: Database, clock: Clock, actor: Actor, session_id: int, *, subject: str, body: str
) -> int:
    """Email everyone booked on the session (queued in the outbox like every message)."""
    async with db.reading() as s:
        await _session_for_trainer(s, actor, session_id)
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise InvalidError("A subject of at most 200 characters is needed.", "subject")
    if not body or len(body) > MAX_MESSAGE:
        raise InvalidError("A message of at most 10,000 characters is needed.", "body")

    async def attempt() -> int:
        async with db.transaction() as s:
            now = clock.now()
            session = await _session_for_trainer(s, actor, session_id)
            recipients = (
                await s.execute(
                    select(Booking.id, Booking.learner_id).where(
                        Booking.session_id == session.id,
                        Booking.state.in_(("booked", "offered", "pending_payment")),
                    )
                )
            ).all()
            # Each message is its own, even two sent in the same instant.
            stamp = uuid.uuid4().hex
            for booking_id, learner_id in recipients:
                await queue_email(
                    s,
                    topic="trainer.message",
                    recipient_id=learner_id,
                    booking_id=booking_id,
                    session_id=session.id,
                    now=now,
                    dedupe_key=f"trainer.message:{session.id}:{stamp}:{learner_id}",
                    payload={
                        "booking_id": booking_id,
                        "session_id": session.id,
                        "subject": subject,
                        "body": body,
                        "from_name": actor.name,
                    },
                )
            await audit.record(
                s,
                action="session.messaged",
                now=now,
                actor=actor,
                target=f"session {session.id}",
                details={"subject": subject, "recipients": len(recipients)},
            )
            return len(recipients)

    return await with_retry(attempt)


async def roster_csv(db: Database, clock: Clock, actor: Actor, session_id: int) -> str:
    roster = await read_roster(db, clock, actor, session_id)
    await audit.record_now(
        db,
        clock,
        action="roster.exported",
        actor=actor,
        target=f"session {session_id}",
        details={"format": "csv"},
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "Booking",
            "State",
            "Waitlist position",
            "Name",
            "Email",
            "Job role",
            "Unit",
            "Special requirements",
            "Answers",
            "Override",
        ]
    )
    for group in (
        roster.booked,
        roster.attended,
        roster.offered,
        roster.waitlisted,
        roster.pending,
        roster.cancelled,
    ):
        for r in group:
            writer.writerow(
                [
                    safe_cell(r.booking_id),
                    safe_cell(r.state),
                    safe_cell(r.waitlist_position or ""),
                    safe_cell(r.learner.name),
                    safe_cell(r.learner.email),
                    safe_cell(r.learner.job_role or ""),
                    safe_cell(r.learner.org_unit or ""),
                    safe_cell(r.special_requirements or ""),
                    safe_cell("; ".join(f"{k}: {v}" for k, v in (r.answers or {}).items())),
                    safe_cell(r.override_reason or ""),
                ]
            )
    return out.getvalue()


# The sign-in sheet's columns on A4 (190 mm between the margins): name, job role and unit,
# signature.
SIGN_IN_COLUMNS_MM = (60, 55, 70)


async def sign_in_sheet(db: Database, clock: Clock, actor: Actor, session_id: int) -> bytes:
    """A printable A4 PDF: one row per booked learner with a box to sign."""
    roster = await read_roster(db, clock, actor, session_id)
    await audit.record_now(
        db,
        clock,
        action="roster.exported",
        actor=actor,
        target=f"session {session_id}",
        details={"format": "pdf"},
    )
    # Imported here: fpdf costs every process ~29 MB, and only this download needs it.
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    s = roster.session
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"Sign-in sheet: {s.course_title}")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Sign-in sheet: {s.course_title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for d in s.dates:
        start = local(d.start, d.timezone)
        end = local(d.end, d.timezone)
        pdf.cell(
            0,
            6,
            _latin1(f"{start:%A %-d %B %Y}, {start:%H:%M}-{end:%H:%M} {start:%Z}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    where = s.room.name if s.room else ("Online" if s.virtual else "")
    if where:
        pdf.cell(0, 6, _latin1(f"Where: {where}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    # A table of fixed column widths whose cells wrap (long words too), so that nothing runs
    # into the Signature column; a row grows with its text but leaves room to sign. The
    # heading row is repeated on every page.
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(
        col_widths=SIGN_IN_COLUMNS_MM,
        width=sum(SIGN_IN_COLUMNS_MM),
        align="LEFT",
        text_align="LEFT",
        v_align="MIDDLE",
        line_height=5,
        min_row_height=14,
        wrapmode=WrapMode.WORD,
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for title in ("Name", "Job role / unit", "Signature"):
            heading.cell(title)
        for r in sorted([*roster.booked, *roster.attended], key=lambda r: r.learner.name):
            role = ", ".join(x for x in (r.learner.job_role, r.learner.org_unit) if x)
            row = table.row()
            row.cell(_latin1(r.learner.name))
            row.cell(_latin1(role))
            row.cell("")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    """The core PDF fonts are Latin-1; anything else is replaced rather than failing."""
    return text.replace("–", "-").replace("’", "'").encode("latin-1", "replace").decode("latin-1")


# ---------------------------------------------------------------------------------------------
# Copying sessions, minimum bookings, and waitlist demand


async def copy_session(
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    dates: Sequence[catalogue.DateInput],
    *,
    override_reason: str | None = None,
) -> catalogue.SessionView:
    """A new session like this one (room, trainers, capacity, modes) on new dates."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can schedule sessions.")
    source = await catalogue.get_session(db, clock, actor, session_id)
    async with db.reading() as s:
        row = await s.get_one(SessionRow, session_id)
        auto_cancel = row.auto_cancel_below_min
    return await catalogue.create_session(
        db,
        clock,
        actor,
        source.course_id,
        catalogue.SessionInput(
            dates=list(dates),
            capacity=source.capacity,
            room=catalogue.RoomInput(source.room.name) if source.room else None,
            virtual_link=source.virtual_link,
            facilitators=list(source.facilitators),
            waitlist_mode=source.waitlist_mode,
            offer_hours=source.offer_hours,
            min_bookings=source.min_bookings,
            auto_cancel_below_min=auto_cancel,
            override_reason=override_reason,
        ),
    )


async def check_minimum_bookings(db: Database, clock: Clock, *, days_before: int) -> int:
    """`days_before` the start, a session under its minimum warns its trainers and the
    administrators once, or is cancelled with notice if it is set to cancel itself."""
    now = clock.now()
    async with db.reading() as s:
        due = (
            await s.scalars(
                select(SessionRow).where(
                    SessionRow.status == "open",
                    SessionRow.min_bookings > 0,
                    SessionRow.starts_at > now,
                    SessionRow.starts_at <= now + timedelta(days=days_before),
                )
            )
        ).all()
        under = []
        for session in due:
            booked = len(
                (
                    await s.scalars(
                        select(Booking.id).where(
                            Booking.session_id == session.id,
                            Booking.state.in_(("booked", "pending_payment")),
                        )
                    )
                ).all()
            )
            if booked < session.min_bookings:
                under.append(
                    (session.id, session.auto_cancel_below_min, booked, session.min_bookings)
                )
    handled = 0
    for session_id, auto_cancel, booked, minimum in under:
        if auto_cancel:
            await catalogue.cancel_session(
                db,
                clock,
                Actor.system(),
                session_id,
                reason=f"Not enough bookings ({booked} of the {minimum} needed)",
            )
            handled += 1
            continue

        async def warn(
            session_id: int = session_id, booked: int = booked, minimum: int = minimum
        ) -> int:
            async with db.transaction() as s:
                now = clock.now()
                recipients = set(await facilitator_ids(s, session_id)) | set(
                    await people.active_admin_ids(s)
                )
                queued = 0
                for person_id in sorted(recipients):
                    key = f"session.under_minimum:{session_id}:{person_id}"
                    if await s.scalar(select(Outbox.id).where(Outbox.dedupe_key == key)):
                        continue
                    await queue_email(
                        s,
                        topic="session.under_minimum",
                        recipient_id=person_id,
                        booking_id=None,
                        session_id=session_id,
                        now=now,
                        dedupe_key=key,
                        payload={"session_id": session_id, "booked": booked, "minimum": minimum},
                    )
                    queued += 1
                return 1 if queued else 0

        handled += await with_retry(warn)
    return handled


@dataclass(slots=True)
class Demand:
    course_id: int
    course_title: str
    sessions: list[dict[str, object]]
    waiting_learners: int


async def course_demand(db: Database, clock: Clock, actor: Actor, course_id: int) -> Demand:
    """Waiting-list demand across the course's upcoming sessions (administrators)."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators see demand.")
    course = await catalogue.get_course(db, clock, actor, course_id, upcoming_only=True)
    async with db.reading() as s:
        waiting = set(
            (
                await s.scalars(
                    select(Booking.learner_id).where(
                        Booking.course_id == course_id, Booking.state == "waitlisted"
                    )
                )
            ).all()
        )
    return Demand(
        course_id=course.id,
        course_title=course.title,
        sessions=[
            {
                "session_id": v.id,
                "status": v.status,
                "capacity": v.capacity,
                "booked": v.booked,
                "waitlisted": v.waitlisted,
                "starts": v.dates[0].start if v.dates else None,
            }
            for v in course.sessions
        ],
        waiting_learners=len(waiting),
    )


async def invite_waitlisted(db: Database, clock: Clock, actor: Actor, session_id: int) -> int:
    """Tell everyone waiting on another date of this session's course that this one is open."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can invite the waiting list.")

    async def attempt() -> int:
        async with db.transaction() as s:
            now = clock.now()
            session = await s.get(SessionRow, session_id)
            if session is None:
                raise NotFoundError(f"There is no session {session_id}.")
            learners = sorted(
                set(
                    (
                        await s.scalars(
                            select(Booking.learner_id).where(
                                Booking.course_id == session.course_id,
                                Booking.state == "waitlisted",
                                Booking.session_id != session.id,
                            )
                        )
                    ).all()
                )
            )
            # Invited once per session: asking again tells only those not yet told (the
            # outbox's unique dedupe key would refuse a second message, as a 500).
            keys = {f"course.new_session:{session.id}:{learner_id}" for learner_id in learners}
            told = set(
                (
                    await s.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(keys)))
                ).all()
            )
            learners = [
                learner_id
                for learner_id in learners
                if f"course.new_session:{session.id}:{learner_id}" not in told
            ]
            for learner_id in learners:
                await queue_email(
                    s,
                    topic="course.new_session",
                    recipient_id=learner_id,
                    booking_id=None,
                    session_id=session.id,
                    now=now,
                    dedupe_key=f"course.new_session:{session.id}:{learner_id}",
                    payload={"session_id": session.id},
                )
            await audit.record(
                s,
                action="session.waitlist_invited",
                now=now,
                actor=actor,
                target=f"session {session.id}",
                details={"invited": len(learners)},
            )
            return len(learners)

    return await with_retry(attempt)
