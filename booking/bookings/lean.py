"""The lean booking path: a learner taking a seat, or a place in the waiting list, for themselves,
through the driver (`kernel.driver`), no ORM unit of work: on PostgreSQL two statements (the
learner, locked, with the session, its dates and the learner's other bookings; then the place
with every row it writes, those bookings checked again under the lock), on SQLite six.

It is the booking every learner makes (`POST …/bookings` with no cost code, answers, override,
move or idempotency key), on a course whose rules need nothing more read (no audience of units,
prerequisites, certification, approval chain or card payment). Anything else — or a session
changed between the read and the seat — is *declined* before anything is written: the
transaction rolls back and `book_place` takes the full path, which decides the same way (tests:
tests/integration/test_lean_booking.py, and the suite's bookings, most of which come this way).

The decision is the domain's own (`decide`), on the same facts as `gather_facts` reads, and
the rows written are the full path's (`lean_writes`): the booking, its history, the learner's
and the trainers' emails, and the webhook events when an endpoint listens. Lock order as
everywhere: the learner's row (`FOR UPDATE`), then the session's, taken by the conditional
UPDATE that takes the seat or the ticket:

    learner (locked), with the session, course, trainers, listeners → dates and the learner's
    other bookings → seat or ticket (conditional UPDATE) → booking → history → emails [→ webhooks]
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any, cast

from booking import eligibility, payments, policy
from booking.bookings import lean_statements as sql
from booking.bookings import lean_writes as writes
from booking.bookings import turns, vouch
from booking.bookings.decision import decide
from booking.bookings.facts import BookingFacts
from booking.bookings.lean_writes import Declined
from booking.bookings.requests import BookingOutcome, BookingRequest
from booking.clock import Clock
from booking.db import Database
from booking.domain.booking_rules import ExistingBooking, Overrides, SignUp
from booking.domain.eligibility import LearnerProfile
from booking.domain.schedule import DateSlot
from booking.domain.states import BookingState
from booking.domain.vocabulary import BookingStateName
from booking.kernel import driver, tx
from booking.kernel.actors import Actor, UnreadToken
from booking.kernel.dates import slots
from booking.kernel.driver import Row
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.history import facilitators_of
from booking.kernel.outbox import session_channel
from booking.kernel.views import HistoryView
from booking.kernel.webhook_events import LISTENING
from booking.models import Booking, Course, Person, SessionDate
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_answer


def is_plain(db: Database, actor: Actor, request: BookingRequest) -> bool:
    """A learner booking for themselves with nothing but the session named."""
    return (
        driver.speaks(db)
        and policy.is_person(actor)
        and actor.person_id is not None
        and (request.learner_email is None or request.learner_email.strip().lower() == actor.email)
        and names_only_the_session(request)
    )


def names_only_the_session(request: BookingRequest) -> bool:
    """Nothing asked for but a place: no cost code, requirements, answers, override or move."""
    return (
        request.cost_code is None
        and request.special_requirements is None
        and not request.answers
        and not request.override_reason
        and not request.overbook
        and request.move_from is None
    )


async def book_lean(
    db: Database,
    clock: Clock,
    actor: Actor | None,
    request: BookingRequest,
    *,
    billing: payments.BillingConfig,
    token_hash: str | None = None,
    unread: UnreadToken | None = None,
) -> BookingOutcome | None:
    """The booking on the lean path, or None when it is not one for it (nothing written).
    Given a remembered token's hash, the actor is checked in the read; given a token not read
    yet (and no actor), the learner is found by it (`vouch`)."""
    work: Any
    if actor is None:
        assert unread is not None, "a booking with no actor has its token to read"
        work = partial(_attempt_on_token, db, clock, unread, request=request, billing=billing)
    else:
        work = partial(
            _attempt,
            db,
            clock,
            actor=actor,
            request=request,
            billing=billing,
            token_hash=token_hash,
        )
    try:
        async with turns.SESSIONS.turn(request.session_id):
            return await tx.with_retry(work)
    except Declined:
        return None


async def _attempt(
    db: Database,
    clock: Clock,
    *,
    actor: Actor,
    request: BookingRequest,
    billing: payments.BillingConfig,
    token_hash: str | None,
) -> BookingOutcome:
    async with driver.transaction(db) as d:
        now = clock.now()
        if d.sqlite:
            # The whole booking — reads, decision, writes, COMMIT — in one hop to SQLite's
            # thread, under the write lock the transaction holds.
            work = partial(book_in_thread, actor, request, now=now, billing=billing)
            return await d.in_thread(partial(work, token_hash=token_hash), commit=True)
        facts, listening = await _facts(d, actor, request, billing=billing, token_hash=token_hash)
        state = decide(facts, facts.session_facts, now=now)
        return await _record(d, actor, request, facts, state, now=now, listening=listening)


async def _attempt_on_token(
    db: Database,
    clock: Clock,
    unread: UnreadToken,
    *,
    request: BookingRequest,
    billing: payments.BillingConfig,
) -> BookingOutcome:
    """PostgreSQL, a token not read yet: the learner found by it (`vouch.READ_BY_TOKEN`),
    locked, with all `_read` reads; the actor made of that row goes to `unread.on_read` before
    anything is decided (`Unvouched`: no active person by that token)."""
    async with driver.transaction(db) as d:
        assert not d.sqlite, "SQLite reads the token first (on the loop's thread)"
        now = clock.now()
        found = await d.row(
            vouch.READ_BY_TOKEN, token_hash=unread.token_hash, session_id=request.session_id
        )
        actor = unread.actor = vouch.actor_read(found)
        await unread.on_read(actor)
        row, rows = _session_of(found)
        facts, listening = facts_of(actor, request, found, row, rows, sqlite=False, billing=billing)
        state = decide(facts, facts.session_facts, now=now)
        return await _record(d, actor, request, facts, state, now=now, listening=listening)


def book_in_thread(
    actor: Actor,
    request: BookingRequest,
    t: driver.InThread,
    *,
    now: datetime,
    billing: payments.BillingConfig,
    token_hash: str | None = None,
) -> BookingOutcome:
    """SQLite: `_facts`, `decide` and `_record`, statement by statement in SQLite's thread."""
    found = t.row(
        sql.LEARNER_AND_SESSION,
        person_id=actor.person_id,
        session_id=request.session_id,
        token_hash=token_hash,
    )
    vouch.check(actor, found, token_hash)
    rows = t.rows(sql.DATES_AND_BOOKINGS, session_id=request.session_id, learner_id=actor.person_id)
    row = found if found is not None and found["s_id"] is not None else None
    facts, listening = facts_of(actor, request, found, row, rows, sqlite=True, billing=billing)
    state = decide(facts, facts.session_facts, now=now)
    unchanged = unchanged_for(facts, state)
    booking = writes.place_and_rows_in_thread(t, actor, request, facts, state, unchanged, now=now)
    t.events.add(session_channel(booking.session_id))
    if listening:
        stmt, params = writes.webhook_rows(actor, booking, now=now)
        t.execute(stmt, **params)
    seq = booking.waitlist_seq
    position = (
        None if seq is None else t.value(sql.POSITION, session_id=booking.session_id, seq=seq)
    )
    return answer(actor, facts, state, booking, now=now, position=position)


async def _facts(
    d: driver.Driver,
    actor: Actor,
    request: BookingRequest,
    *,
    billing: payments.BillingConfig,
    token_hash: str | None,
) -> tuple[BookingFacts, bool]:
    """`gather_facts` for a plain booking, and whether any webhook endpoint listens; `Declined`
    where it would read more (or a payment or an approval would follow)."""
    found, row, date_rows = await _read(d, actor, request, token_hash)
    vouch.check(actor, found, token_hash)
    return facts_of(actor, request, found, row, date_rows, sqlite=d.sqlite, billing=billing)


def facts_of(
    actor: Actor,
    request: BookingRequest,
    found: Row | None,
    row: Row | None,
    date_rows: list[Row],
    *,
    sqlite: bool,
    billing: payments.BillingConfig,
) -> tuple[BookingFacts, bool]:
    if found is None:
        raise ForbiddenError("Your account no longer exists.")
    learner = driver.entity(Person, found, "", sqlite=sqlite)
    unit_code = found["unit_code"]
    if row is None or (row["s_status"] == "draft" and not policy.can_see_drafts(actor)):
        raise NotFoundError(f"There is no session {request.session_id}.")
    session = driver.entity(SessionRow, row, "s_", sqlite=sqlite)
    course = driver.entity(Course, row, "c_", sqlite=sqlite)
    rules = eligibility.rules_without_reads(course)
    if rules is None or payments.discount_needs_units(course):
        raise Declined
    profile = LearnerProfile(
        id=learner.id,
        job_role=learner.job_role,
        staff_type=learner.staff_type,
        org_unit_path=(unit_code,) if unit_code else (),
    )
    price = payments.price_for(course, profile)
    dates, existing = _dates_and_bookings(date_rows, session.id)
    facts = eligibility.facts_of(session, course, slots(dates), rules)
    if facts.approval_steps or (billing.card_payments and price is not None):
        raise Declined
    return BookingFacts(
        learner=learner,
        unit_code=unit_code,
        session=session,
        course=course,
        trainers=facilitators_of(row["facilitator_ids"]),
        cost_code=None,
        by_card=False,
        price=price,
        dates=dates,
        rules=rules,
        session_facts=facts,
        profile=profile,
        existing=existing,
        overrides=Overrides(),
        sign_up=SignUp(request.answers, request.accept_terms),
    ), bool(row[LISTENING])


async def _read(
    d: driver.Driver, actor: Actor, request: BookingRequest, token_hash: str | None
) -> tuple[Row | None, Row | None, list[Row]]:
    """PostgreSQL: the learner (locked) with the session and its course, and the session's
    dates with the learner's other bookings, in one statement (`READ_ALL`); the bookings are
    checked again by the write, under the lock."""
    found = await d.row(
        sql.READ_ALL,
        person_id=actor.person_id,
        session_id=request.session_id,
        learner_id=actor.person_id,
        token_hash=token_hash,
    )
    return (found, *_session_of(found))


def _session_of(found: Row | None) -> tuple[Row | None, list[Row]]:
    """The row again where it has a session (else None), and its dates and bookings."""
    if found is None or found["s_id"] is None:
        return None, []
    value = found["dates_and_bookings"]
    return found, json.loads(value) if isinstance(value, str | bytes) else list(value)


def _dates_and_bookings(
    rows: list[Row], session_id: int
) -> tuple[list[SessionDate], list[ExistingBooking]]:
    """The session's active dates (by start) and the learner's active bookings with their
    dates (by booking, then start), as `active_dates` and `existing_bookings` read them."""
    timed = [(r, driver.read_time(r["start_at"]), driver.read_time(r["end_at"])) for r in rows]
    dates = [
        driver.transient(
            SessionDate,
            {
                "id": r["id"],
                "session_id": session_id,
                "start_at": start,
                "end_at": end,
                "timezone": r["timezone"],
                "removed_at": None,
            },
        )
        for r, start, end in sorted(
            (t for t in timed if t[0]["kind"] == "d"), key=lambda t: (t[1], t[0]["id"])
        )
    ]
    found: dict[int, tuple[Any, list[DateSlot]]] = {}
    for r, start, end in sorted(
        (t for t in timed if t[0]["kind"] == "b"),
        key=lambda t: (t[0]["id"], t[1] is None, t[1] or datetime.min),
    ):
        _, booked_dates = found.setdefault(r["id"], (r, []))
        if start is not None and end is not None:
            booked_dates.append(DateSlot(start, end, r["timezone"]))
    existing = [
        ExistingBooking(r["id"], r["session_id"], r["course_id"], r["title"], r["state"], ds)
        for r, ds in found.values()
    ]
    return dates, existing


def unchanged_for(facts: BookingFacts, state: BookingState) -> dict[str, Any]:
    """What the seat's conditional UPDATE checks is as read; `Declined` for a decision the
    lean path does not write (anything but a seat or a waiting-list place)."""
    session = facts.session
    unchanged: dict[str, Any] = {
        "session_id": session.id,
        "read_status": session.status,
        "read_sequence": session.sequence,
    }
    if state not in (BookingState.BOOKED, BookingState.WAITLISTED):
        raise Declined
    if state == BookingState.WAITLISTED:
        unchanged["read_mode"] = session.waitlist_mode
    return unchanged


async def _record(
    d: driver.Driver,
    actor: Actor,
    request: BookingRequest,
    facts: BookingFacts,
    state: BookingState,
    *,
    now: datetime,
    listening: bool,
) -> BookingOutcome:
    """PostgreSQL: take the seat or the ticket decided on, then write what `record_booking`
    writes, the learner's other bookings checked again under the lock."""
    unchanged = unchanged_for(facts, state)
    unchanged["learner_bookings"] = ",".join(
        f"{b.id}:{b.state}" for b in sorted(facts.existing, key=lambda b: b.id)
    )
    booking = await writes.place_and_rows_at_once(
        d, actor, request, facts, state, unchanged, now=now
    )
    d.events.add(session_channel(booking.session_id))
    if listening:
        stmt, params = writes.webhook_rows(actor, booking, now=now)
        await d.execute(stmt, **params)
    seq = booking.waitlist_seq
    position = None
    if seq is not None:
        position = await d.value(sql.POSITION, session_id=booking.session_id, seq=seq)
    return answer(actor, facts, state, booking, now=now, position=position)


def answer(
    actor: Actor,
    facts: BookingFacts,
    state: BookingState,
    booking: Booking,
    *,
    now: datetime,
    position: int | None,
) -> BookingOutcome:
    view = booking_answer(
        booking,
        facts.course,
        facts.learner,
        unit_code=facts.unit_code,
        dates=facts.dates,
        history=HistoryView(now, actor.label, None, cast(BookingStateName, state.value), None),
        now=now,
        position=position,
    )
    return BookingOutcome(view, 201)
