"""Loading the demo through the services, as an administrator and the learners would."""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from booking import bookings, catalogue, people, webhooks
from booking.bookings import BookingRequest
from booking.catalogue import DateInput, SessionInput
from booking.clock import Clock
from booking.db import Database
from booking.demo.courses import COURSES, ROOMS
from booking.demo.dates import LONDON, plan_dates
from booking.demo.history import Learners, load_history
from booking.demo.mandatory import load_mandatory_learning
from booking.demo.organisation import ADMIN_EMAIL, ADMIN_NAME, ORG_UNITS, PEOPLE, email_of
from booking.demo.requests import load_account_requests
from booking.demo.sessions import SESSIONS, PlannedSession
from booking.kernel.actors import Actor
from booking.models import Course

log = logging.getLogger(__name__)


async def load_demo(db: Database, clock: Clock) -> bool:
    """Load the demo organisation, catalogue and bookings; False (and nothing loaded) if the
    database already has a course."""
    if await catalogue.count_table(db, Course):
        return False
    # Whole days in London: the same clock gives the same catalogue, whatever the hour.
    today = clock.now().astimezone(LONDON).date()

    token = await people.create_admin(db, clock, email=ADMIN_EMAIL, name=ADMIN_NAME)
    admin = await people.actor_for_token(db, token)
    assert admin is not None
    await people.upsert_org_units(db, clock, admin, ORG_UNITS)
    results = await people.upsert_people(db, clock, admin, PEOPLE)
    learners = Learners(db, {p.email: r.id for p, r in zip(PEOPLE, results, strict=True)})

    course_ids = {c.code: (await catalogue.create_course(db, clock, admin, c)).id for c in COURSES}
    session_ids = [
        await _load_session(
            db, clock, admin, learners, course_ids[planned.course], planned, dates, today=today
        )
        for planned, dates in zip(SESSIONS, plan_dates(today, SESSIONS), strict=True)
    ]
    mhfa = next(i for p, i in zip(SESSIONS, session_ids, strict=True) if p.course == "MHFA")
    await load_history(db, clock, admin, learners, course_ids, mhfa)
    await load_mandatory_learning(db, clock, admin, learners)
    await load_account_requests(db, clock)
    await _load_webhook_example(db, clock, admin)
    log.info("demo data loaded: %d courses, %d sessions", len(COURSES), len(SESSIONS))
    return True


async def _load_webhook_example(db: Database, clock: Clock, admin: Actor) -> None:
    """One inactive webhook endpoint, so the webhooks page shows what one looks like (its
    address is an example: switched on, it would only fail and pause)."""
    await webhooks.create_webhook(
        db,
        clock,
        admin,
        webhooks.WebhookInput(
            url="https://lms.example.org/hooks/booking",
            event_types=["booking.created", "booking.state_changed", "completion.recorded"],
            description="Example: the e-learning system (switched off)",
            active=False,
        ),
        # Not resolved: the example's host does not exist.
        allow_private=True,
    )


async def _load_session(
    db: Database,
    clock: Clock,
    admin: Actor,
    learners: Learners,
    course_id: int,
    planned: PlannedSession,
    dates: list[DateInput],
    *,
    today: date,
) -> int:
    """Create the session, then play what happens to it: sign-ups, the training team's
    additions, cancellations, and the session's own cancellation."""
    session_input = _session_input(planned, dates, today=today)
    session = await catalogue.create_session(db, clock, admin, course_id, session_input)
    booking_ids: dict[str, int] = {}
    for name in planned.learners:
        request = BookingRequest(session.id)
        outcome = await bookings.book_place(db, clock, await learners.actor(name), request)
        booking_ids[name] = outcome.booking.id
    for name in planned.added_by_admin:
        request = BookingRequest(
            session.id, learner_email=email_of(name), override_reason=planned.admin_reason
        )
        booking_ids[name] = (await bookings.book_place(db, clock, admin, request)).booking.id
    for name, reason in planned.cancellations:
        learner = await learners.actor(name)
        await bookings.cancel_booking(db, clock, learner, booking_ids[name], reason=reason)
    if planned.cancel_reason:
        await catalogue.cancel_session(db, clock, admin, session.id, reason=planned.cancel_reason)
    return session.id


def _session_input(planned: PlannedSession, dates: list[DateInput], *, today: date) -> SessionInput:
    signup_closes = None
    if planned.closed_early:
        # Closed at the start of today: the session is still to come but takes no sign-ups.
        signup_closes = datetime.combine(today, time(0), tzinfo=LONDON)
    return SessionInput(
        dates=dates,
        capacity=planned.capacity,
        room=ROOMS[planned.room] if planned.room else None,
        virtual_link=planned.virtual_link,
        facilitators=list(planned.facilitators),
        waitlist_mode=planned.waitlist_mode,
        offer_hours=planned.offer_hours,
        signup_closes=signup_closes,
        status=planned.status,
    )
