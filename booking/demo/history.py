"""What has already happened in the demo, so every role sees a real page on first sign-in: past
sessions (one still waiting for its attendance), cost codes with budget holders, approvals in
flight, mandatory learning and certifications in every state, and e-learning completions.

All of it goes through the services. The past is played with a clock set back to when it
happened, so the same rules apply as in real use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from billing.domain.money import Money
from booking import approvals, bookings, catalogue, payments, people, records, roster
from booking.bookings import BookingRequest
from booking.catalogue import DateInput, SessionInput
from booking.clock import Clock, FixedClock
from booking.db import Database
from booking.demo.courses import ROOMS
from booking.demo.dates import LONDON, TIMEZONE
from booking.demo.organisation import email_of
from booking.demo.sessions import AFTERNOON, FULL_DAY, GRACE, MORNING, SAM
from booking.kernel.actors import Actor
from booking.records import CompletionInput

# The cost code Adult Social Care pays training from, its budget holder and yearly limit.
COST_CODE = "ASC-TRAIN"
COST_CODE_HOLDER = "Priya Raman"
COST_CODE_LIMIT = Money(300000, "GBP")
OTHER_CODE = "RES-LD-01"
OTHER_CODE_HOLDER = "Rachel Green"
# Learners in Siobhan Kelly's team who ask for a Mental Health First Aid place on the cost code:
# the first is approved by their manager and the budget holder (a booked place, spent), the
# second by the manager only (waiting for the budget holder), the others wait for the manager.
MHFA_REQUESTS = ("Ben Carter", "Leah Murphy", "Zara Ahmed", "Kwame Asante")
# Safeguarding Adults is renewed every three years; when each learner last completed it, as
# days before (+) or after (−) the date it expires: one per certification status.
CERTIFICATION_YEARS = 3
CERTIFIED = {
    "Ben Carter": 700,  # certified
    "Olivia Hughes": 60,  # renewal window open
    "Ryan Walsh": 12,  # renewal due
    "Mei Lin Chen": -30,  # overdue
    "Irene Fox": -200,  # expired
}
# Data Protection Refresher e-learning, completed this year.
GDPR_ELEARNING = ("Siobhan Kelly", "Leah Murphy", "Zara Ahmed", "Tom Barker", "Hannah Wright")


@dataclass(frozen=True, slots=True)
class PastSession:
    course: str
    days_ago: int
    hours: tuple[time, time]
    trainer: str
    room: str
    learners: tuple[str, ...]
    # Attendance taken by the trainer (otherwise it is still to take).
    marked: bool
    # Places paid from this cost code (approved by its budget holder when booked).
    cost_code: str | None = None
    # Who did not turn up (marked no-show; the rest attended).
    no_shows: tuple[str, ...] = ()
    # Who cancelled two days before, inside the course's fee-free notice.
    late_cancellations: tuple[str, ...] = ()


PAST_SESSIONS = [
    PastSession(
        "MAN-HAND",
        23,
        MORNING,
        GRACE,
        "depot",
        ("Zara Ahmed", "Ben Carter", "Ryan Walsh", "Leah Murphy"),
        marked=True,
    ),
    # Yesterday's session: its trainer still has the attendance to take.
    PastSession(
        "SAFA-L2",
        1,
        AFTERNOON,
        SAM,
        "civic1",
        ("Hannah Wright", "Lucy Bennett", "Craig Dunn", "Amir Rahman", "Sophie Davies"),
        marked=False,
    ),
    # Paid from Learning and Development's cost code, so the reports have fees, a no-show (its
    # fee waived) and a late cancellation (its fee charged) to show.
    PastSession(
        "EFAW",
        9,
        FULL_DAY,
        GRACE,
        "riverside",
        ("Olivia Hughes", "Mei Lin Chen", "Chris Doyle", "Karen Lewis", "Tom Barker"),
        marked=True,
        cost_code=OTHER_CODE,
        no_shows=("Karen Lewis",),
        late_cancellations=("Tom Barker",),
    ),
]
HOLDERS = {COST_CODE: COST_CODE_HOLDER, OTHER_CODE: OTHER_CODE_HOLDER}
# Why the no-show fee was waived.
NO_SHOW_WAIVER = "Called in sick on the morning: fee waived by the training team."


class Learners:
    """Each person's own Actor, by name or email, looked up once."""

    def __init__(self, db: Database, ids: dict[str, int]) -> None:
        self._db = db
        self._ids = ids
        self._actors: dict[str, Actor] = {}

    async def actor(self, name: str) -> Actor:
        email = name if "@" in name else email_of(name)
        if email not in self._actors:
            found = await people.actor_for_person(self._db, self._ids[email])
            assert found is not None, email
            self._actors[email] = found
        return self._actors[email]


async def load_history(
    db: Database,
    clock: Clock,
    admin: Actor,
    learners: Learners,
    course_ids: dict[str, int],
    mhfa_session_id: int,
) -> None:
    today = clock.now().astimezone(LONDON).date()
    await _cost_codes(db, clock, admin, today)
    await _mhfa_requests(db, clock, learners, mhfa_session_id)
    for past in PAST_SESSIONS:
        await _past_session(db, clock, admin, learners, course_ids[past.course], past, today)
    await _mandatory_learning(db, clock, admin, course_ids)
    await _elearning(db, clock, admin, today)


async def _cost_codes(db: Database, clock: Clock, admin: Actor, today: date) -> None:
    config = payments.billing_config(db.settings)
    start = date(today.year - 1, 4, 1)
    for code, description, holder, limit in (
        (COST_CODE, "Adult Social Care: workforce training", COST_CODE_HOLDER, COST_CODE_LIMIT),
        (OTHER_CODE, "Learning and Development: courses", OTHER_CODE_HOLDER, None),
    ):
        data = payments.billing.CostCodeInput(
            code, description, email_of(holder), active_from=start, annual_limit=limit
        )
        await payments.create_cost_code(db, clock, admin, config, data)


async def _mhfa_requests(db: Database, clock: Clock, learners: Learners, session_id: int) -> None:
    """Requests for a place paid by cost code, at each step of their approval."""
    booking_ids = []
    for name in MHFA_REQUESTS:
        request = BookingRequest(session_id, cost_code=COST_CODE)
        outcome = await bookings.book_place(db, clock, await learners.actor(name), request)
        booking_ids.append(outcome.booking.id)
    manager = await learners.actor("Siobhan Kelly")
    waiting = {a.booking_id: a.id for a in await approvals.list_waiting(db, clock, manager)}
    for booking_id in booking_ids[:2]:
        await approvals.decide(db, clock, manager, waiting[booking_id], decision="approve")
    holder = await learners.actor(COST_CODE_HOLDER)
    waiting = {a.booking_id: a.id for a in await approvals.list_waiting(db, clock, holder)}
    await approvals.decide(
        db,
        clock,
        holder,
        waiting[booking_ids[0]],
        decision="approve",
        comment="Approved from the workforce training budget.",
    )


async def _past_session(
    db: Database,
    clock: Clock,
    admin: Actor,
    learners: Learners,
    course_id: int,
    past: PastSession,
    today: date,
) -> None:
    """Scheduled and booked a month before it ran, then (perhaps) marked by its trainer."""
    day = today - timedelta(days=past.days_ago)
    while day.weekday() >= 5 and past.days_ago > 1:
        day -= timedelta(days=1)
    start, end = (datetime.combine(day, t, tzinfo=LONDON) for t in past.hours)
    then = FixedClock(start - timedelta(days=30))
    session = await catalogue.create_session(
        db,
        then,
        admin,
        course_id,
        SessionInput(
            dates=[DateInput(start, end, TIMEZONE)],
            capacity=12,
            room=ROOMS[past.room],
            facilitators=[past.trainer],
        ),
    )
    booked = {}
    for name in past.learners:
        request = BookingRequest(session.id, cost_code=past.cost_code)
        outcome = await bookings.book_place(db, then, await learners.actor(name), request)
        booked[name] = outcome.booking.id
    if past.cost_code:
        await _budget_holder_approves(db, then, learners, HOLDERS[past.cost_code])
    for name in past.late_cancellations:
        two_days_before = FixedClock(start - timedelta(days=2))
        actor = await learners.actor(name)
        await bookings.cancel_booking(
            db, two_days_before, actor, booked[name], reason="Covering for a colleague"
        )
    if past.marked:
        after = FixedClock(min(end + timedelta(hours=1), clock.now()))
        trainer = await learners.actor(past.trainer)
        await roster.mark_all_attended(db, after, trainer, session.id)
        no_shows = [roster.Mark(booked[name], "no_show") for name in past.no_shows]
        if no_shows:
            await roster.mark_attendance(db, after, trainer, session.id, no_shows)
        for name in past.no_shows:
            await payments.waive_fee(db, after, admin, booked[name], reason=NO_SHOW_WAIVER)


async def _budget_holder_approves(
    db: Database, clock: Clock, learners: Learners, holder_name: str
) -> None:
    holder = await learners.actor(holder_name)
    for request in await approvals.list_waiting(db, clock, holder):
        await approvals.decide(db, clock, holder, request.id, decision="approve")


async def _mandatory_learning(
    db: Database, clock: Clock, admin: Actor, course_ids: dict[str, int]
) -> None:
    """Safeguarding Adults and the Data Protection Refresher are required of everyone;
    Safeguarding Adults awards a certificate for each completion."""
    for code, due_within in (("SAFA-L2", 90), ("GDPR-REF", 60)):
        await records.set_course_rules(
            db,
            clock,
            admin,
            course_ids[code],
            completion_mode=None,
            criteria=[],
            mandatory=True,
            due_within_days=due_within,
            certificate=code == "SAFA-L2",
        )


async def _elearning(db: Database, clock: Clock, admin: Actor, today: date) -> None:
    """Completions sent in by the e-learning system, as the records service sends them."""
    items = [
        CompletionInput(
            "SAFA-L2",
            _noon(_years_before(today + timedelta(days=before_expiry), CERTIFICATION_YEARS)),
            learner_email=email_of(name),
        )
        for name, before_expiry in CERTIFIED.items()
    ]
    items += [
        CompletionInput("GDPR-REF", _noon(today - timedelta(days=20 + 9 * n)), email_of(name))
        for n, name in enumerate(GDPR_ELEARNING)
    ]
    await records.record_completions(db, clock, admin, items)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LONDON).astimezone(UTC)
