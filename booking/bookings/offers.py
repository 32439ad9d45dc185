"""What the session table offers a learner on each session of a course: the booking decision
(`booking_rules.preview_booking`) over the same facts the booking reads, so a page never offers
what the booking would refuse. A fixed number of queries for any number of sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from booking import eligibility, payments, policy
from booking.bookings.facts import existing_bookings
from booking.clock import Clock
from booking.db import Database
from booking.domain.booking_rules import (
    ELIGIBILITY_CODES,
    BookingPreview,
    ExistingBooking,
    preview_booking,
)
from booking.domain.reasons import Reason
from booking.domain.schedule import DateSlot
from booking.domain.states import BookingState
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, slots
from booking.kernel.errors import NotFoundError
from booking.models import Course, Person
from booking.models import Session as SessionRow


@dataclass(frozen=True, slots=True)
class SessionOffer:
    """One row's options: `action` is `signup`, `waitlist`, `move` (with `move_from`, the
    learner's booking on another date) or None, when `reasons` say why not. `for_everyone`
    holds the reasons about who the learner is, which are the same on every date."""

    session_id: int
    starts_at: datetime | None
    timezone: str | None
    action: str | None
    reasons: list[str] = field(default_factory=list)
    for_everyone: list[str] = field(default_factory=list)
    move_from: int | None = None
    move_to: str | None = None
    # The date of the place that moving gives up.
    moving_starts_at: datetime | None = None
    moving_timezone: str | None = None
    # The cancellation policy with this session's dates (None: the course has no price).
    cancellation_terms: str | None = None


@dataclass(frozen=True, slots=True)
class CourseOffers:
    # Who the learner is, course-wide ("Before you can book"), shown once above the table.
    blockers: list[Reason]
    sessions: dict[int, SessionOffer]

    def free_elsewhere(self, session_id: int) -> list[SessionOffer]:
        """Other sessions with a free seat the learner could take (or move their place to)."""
        return [
            offer
            for sid, offer in self.sessions.items()
            if sid != session_id
            and (
                offer.action == "signup"
                or (offer.action == "move" and offer.move_to == BookingState.BOOKED)
            )
        ]


# Refusals the row already shows another way: the session's status badge (cancelled, started,
# over, draft) or the learner's own place on it.
SHOWN_ELSEWHERE = frozenset(
    {
        "session_cancelled",
        "session_not_published",
        "session_over",
        "session_started",
        "already_booked",
    }
)


def _offer(
    course: Course,
    session_id: int,
    slots_: Sequence[DateSlot],
    preview: BookingPreview,
    existing: Sequence[ExistingBooking],
) -> SessionOffer:
    reasons = [r for r in preview.decision.reasons if r.code not in SHOWN_ELSEWHERE]
    first = min(slots_, key=lambda d: d.start) if slots_ else None
    moving = next((b for b in existing if b.id == preview.move_from), None)
    moving_first = min(moving.dates, key=lambda d: d.start) if moving and moving.dates else None
    return SessionOffer(
        session_id=session_id,
        starts_at=first.start if first else None,
        timezone=first.timezone if first else None,
        action=preview.action,
        reasons=[r.message for r in reasons if r.code not in ELIGIBILITY_CODES],
        for_everyone=[r.message for r in reasons if r.code in ELIGIBILITY_CODES],
        move_from=preview.move_from,
        move_to=preview.move_to.value if preview.move_to is not None else None,
        moving_starts_at=moving_first.start if moving_first else None,
        moving_timezone=moving_first.timezone if moving_first else None,
        cancellation_terms=payments.cancellation_terms(
            course, start=first.start, timezone=first.timezone
        )
        if first
        else None,
    )


async def course_offers(
    db: Database,
    clock: Clock,
    actor: Actor,
    course_id: int,
    session_ids: Sequence[int] | None = None,
) -> CourseOffers:
    """The offer on each of these sessions of the course (every session not yet over, when
    None). Someone who books for nobody (a machine client) is offered nothing."""
    if not policy.is_person(actor):
        return CourseOffers([], {})
    async with db.reading() as s:
        now = clock.now()
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        stmt = select(SessionRow).where(SessionRow.course_id == course_id)
        if session_ids is None:
            stmt = stmt.where(SessionRow.ends_at > now, SessionRow.status != "draft")
        else:
            stmt = stmt.where(SessionRow.id.in_(list(session_ids)))
        sessions = list((await s.scalars(stmt.order_by(SessionRow.starts_at))).all())
        rules = await eligibility.course_rules(s, course)
        learner = await s.get_one(Person, actor.person_id)
        audience = rules[0]
        profile = await eligibility.learner_profile(
            s,
            learner,
            completions_of=eligibility.completions_needed_for(course.code, rules),
            # The units above the learner matter only to a course for some units.
            unit_path=None if audience and audience.org_units else [],
        )
        existing = await existing_bookings(s, learner.id)
        dates = await active_dates(s, [row.id for row in sessions])
        blockers = eligibility.eligibility_reasons_for(profile, course.code, rules, now=now)
        offers: dict[int, SessionOffer] = {}
        for row in sessions:
            row_slots = slots(dates[row.id])
            facts = eligibility.facts_of(row, course, row_slots, rules)
            preview = preview_booking(facts, profile, existing, now=now)
            offers[row.id] = _offer(course, row.id, row_slots, preview, existing)
        return CourseOffers(blockers, offers)
