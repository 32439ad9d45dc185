"""What a booking decides on, gathered in a fixed number of queries before the session is held.

Lock order everywhere: learner, then session. The learner's row is locked (`FOR UPDATE`) first:
it serialises one person's concurrent sign-ups, so "one place per course" and the clash checks
see each other. The session row is only read here; `claim` takes its lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.money import Money
from booking import eligibility, payments, policy
from booking.bookings.requests import BookingRequest
from booking.domain.booking_rules import ExistingBooking, Overrides, SessionFacts, SignUp
from booking.domain.eligibility import Audience, Certification, LearnerProfile, Prerequisite
from booking.domain.schedule import DateSlot
from booking.domain.states import ACTIVE
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, slots
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.kernel.history import FACILITATORS_COLUMN, facilitator_ids, note_facilitators
from booking.kernel.webhook_events import ANY_LISTENING, note_listening
from booking.models import Booking, Course, OrgUnit, Person, SessionDate
from booking.models import Session as SessionRow

# A course's audience (with its units' names), prerequisites and certification window.
CourseRules = tuple[Audience | None, dict[str, str], list[Prerequisite], Certification | None]

# The booking path's statements, built once (building one costs more CPU than running it).
_LEARNER = (
    select(Person, OrgUnit.code)
    .outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
    .with_for_update(of=Person)
    .execution_options(populate_existing=True)
)
_LEARNER_BY_ID = _LEARNER.where(Person.id == bindparam("person_id"))
_LEARNER_BY_EMAIL = _LEARNER.where(Person.email == bindparam("email"))
_SESSION_WITH_COURSE = (
    # With it, its trainers (`FACILITATORS_COLUMN`) and whether any webhook endpoint listens
    # (the booking's events are queued only then): one statement, not three.
    select(SessionRow, Course, ANY_LISTENING, FACILITATORS_COLUMN)
    .join(Course, Course.id == SessionRow.course_id)
    .where(SessionRow.id == bindparam("session_id"))
    .execution_options(populate_existing=True)
)
_EXISTING_BOOKINGS = (
    select(
        Booking.id,
        Booking.session_id,
        Booking.course_id,
        Booking.state,
        Course.title,
        SessionDate.start_at,
        SessionDate.end_at,
        SessionDate.timezone,
    )
    .join(Course, Course.id == Booking.course_id)
    .outerjoin(
        SessionDate,
        and_(SessionDate.session_id == Booking.session_id, SessionDate.removed_at.is_(None)),
    )
    .where(Booking.learner_id == bindparam("learner_id"), Booking.state.in_(ACTIVE))
    .order_by(Booking.id, SessionDate.start_at)
)


@dataclass(slots=True)
class BookingFacts:
    """Everything `decide_booking` and the steps after it need, as read."""

    learner: Person
    unit_code: str | None
    session: SessionRow
    course: Course
    trainers: frozenset[int]
    # The payer: a cost code that can pay today, or a card (`by_card`), or nobody.
    cost_code: str | None
    by_card: bool
    # What the place costs this learner (the discount price for its audience); None: nothing.
    price: Money | None
    dates: list[SessionDate]
    rules: CourseRules
    session_facts: SessionFacts
    profile: LearnerProfile
    existing: list[ExistingBooking]
    overrides: Overrides
    sign_up: SignUp


async def gather_facts(
    s: AsyncSession,
    actor: Actor,
    request: BookingRequest,
    *,
    now: datetime,
    billing: payments.BillingConfig,
) -> BookingFacts:
    """The learner (locked), the session and its course, who is asking and for whom, the payer,
    the session's rules and dates, and the learner's other bookings; 403, 404 or 422 first."""
    learner, unit_code, for_someone_else = await _resolve_learner(s, actor, request.learner_email)
    session, course = await _visible_session(s, actor, request.session_id)
    trainers = await facilitator_ids(s, session.id)
    _check_may_book(actor, request, learner, trainers, for_someone_else=for_someone_else)
    # A cost code that cannot pay today is a 422 with the reason.
    cost_code = await payments.check_cost_code(
        s, request.cost_code, pattern=billing.cost_code_pattern, now=now
    )
    dates = (await active_dates(s, [session.id]))[session.id]
    rules = await eligibility.course_rules(s, course)
    facts = eligibility.facts_of(session, course, slots(dates), rules)
    audience = facts.audience
    profile = await eligibility.learner_profile(
        s,
        learner,
        completions_of=eligibility.completions_needed(facts),
        # The units above the learner's matter only to a course for some units.
        unit_path=None
        if (audience and audience.org_units) or payments.discount_needs_units(course)
        else [unit_code]
        if unit_code
        else [],
    )
    price = payments.price_for(course, profile)
    by_card = cost_code is None and billing.card_payments and price is not None
    existing = _without_moving(await existing_bookings(s, learner.id), request, facts)
    return BookingFacts(
        learner=learner,
        unit_code=unit_code,
        session=session,
        course=course,
        trainers=trainers,
        cost_code=cost_code,
        by_card=by_card,
        price=price,
        dates=dates,
        rules=rules,
        session_facts=facts,
        profile=profile,
        existing=existing,
        overrides=_overrides(request),
        sign_up=SignUp(request.answers, request.accept_terms),
    )


async def existing_bookings(s: AsyncSession, learner_id: int) -> list[ExistingBooking]:
    """The learner's active bookings with their dates, in one query."""
    rows = (await s.execute(_EXISTING_BOOKINGS, {"learner_id": learner_id})).all()
    found: dict[int, tuple[Any, list[DateSlot]]] = {}
    for r in rows:
        _, dates = found.setdefault(r.id, (r, []))
        if r.start_at is not None:
            dates.append(DateSlot(r.start_at, r.end_at, r.timezone))
    return [
        ExistingBooking(r.id, r.session_id, r.course_id, r.title, r.state, dates)
        for r, dates in found.values()
    ]


async def _resolve_learner(
    s: AsyncSession, actor: Actor, learner_email: str | None
) -> tuple[Person, str | None, bool]:
    """The learner, read and locked (`FOR UPDATE`), their unit's code, and whether the actor is
    booking for someone else (checked once the session's trainers are known)."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people can book places.")
    if learner_email is None or learner_email.strip().lower() == actor.email:
        row = (await s.execute(_LEARNER_BY_ID, {"person_id": actor.person_id})).first()
        if row is None:
            raise ForbiddenError("Your account no longer exists.")
        return row[0], row[1], False
    row = (await s.execute(_LEARNER_BY_EMAIL, {"email": learner_email.strip().lower()})).first()
    if row is None:
        raise InvalidError(
            f"There is nobody with the email address {learner_email}.", "learner_email"
        )
    if not row[0].active:
        # A deactivated person keeps their history but takes no new place (people/activation).
        raise InvalidError(
            f"{row[0].name}'s account is deactivated: reactivate it on their person page "
            "before booking them a place.",
            "learner_email",
        )
    return row[0], row[1], True


async def _visible_session(
    s: AsyncSession, actor: Actor, session_id: int
) -> tuple[SessionRow, Course]:
    found = (await s.execute(_SESSION_WITH_COURSE, {"session_id": session_id})).first()
    if found is None or (found[0].status == "draft" and not policy.can_see_drafts(actor)):
        raise NotFoundError(f"There is no session {session_id}.")
    note_listening(s, found[2])
    note_facilitators(s, found[0].id, found[3])
    return found[0], found[1]


def _check_may_book(
    actor: Actor,
    request: BookingRequest,
    learner: Person,
    trainers: frozenset[int],
    *,
    for_someone_else: bool,
) -> None:
    """Overrides are for administrators and the session's trainers; booking for someone else
    is for their manager, an administrator, or a trainer overriding with a reason."""
    if request.override_reason and not policy.can_override_on(actor, trainers):
        raise ForbiddenError(
            "Only an administrator or the session's trainer can override booking rules."
        )
    if for_someone_else and not (
        policy.can_book_for(actor, learner.id, learner.manager_id)
        or (request.override_reason and policy.can_override_on(actor, trainers))
    ):
        raise ForbiddenError(
            "You can book places for yourself and your direct reports only (a session's "
            "trainer can add learners to it with a reason)."
        )


def _without_moving(
    existing: list[ExistingBooking], request: BookingRequest, facts: SessionFacts
) -> list[ExistingBooking]:
    """The learner's other bookings, less the one this booking moves from (it is given up in
    the same transaction), which must be theirs, active, and on another date of this course."""
    if request.move_from is None:
        return existing
    moving = next((b for b in existing if b.id == request.move_from), None)
    if moving is None or moving.course_id != facts.course_id or moving.session_id == facts.id:
        raise InvalidError(
            "move_from must be your own active booking on another date of this course.",
            "move_from",
        )
    return [b for b in existing if b.id != request.move_from]


def _overrides(request: BookingRequest) -> Overrides:
    if not request.override_reason:
        return Overrides()
    return Overrides(capacity=request.overbook, signup_window=True, eligibility=True, clash=True)
