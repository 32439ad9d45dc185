"""Group commit: when more plain bookings for one session arrive than run on their own at once
(three, as `turns` allowed), the rest wait in line (arrival order, no connection) and are taken
together — one transaction, one lock of the session's row, one decision each in arrival order,
one statement for all their rows, one COMMIT — each request answered with its own outcome.

Why: every booking ends by taking the session's row, so bookings for one session are written
one after another however many run at once, and each hand-over waits for the event loop to get
back to the holder (the write's answer, then its COMMIT): in a rush, with the loop busy, that
wait and not the CPU bounded the last answers (bench/README.md). A group hands it on once.

The decisions are the lean path's (`lean.facts_of`, `decide`), made one after another on the
session as the group's earlier bookings leave it: the first ones take the free seats, the rest
the waiting list, in arrival order — the outcome of the same bookings made one by one. The
write (`group_statements.PLACES_AND_ROWS`) checks that this still holds under the lock: the
session unchanged, exactly that many seats free and none after them when anyone waits, each
learner's other bookings as read. If it does not (another process booked meanwhile), nothing
is written and the group's bookings are made one by one, in the same order. A booking the
group does not decide (a refusal, an approval, a learner asking twice at once) is answered
None, and its request takes the full path, as a declined lean booking does.

On SQLite, where a booking is already one hop to aiosqlite's thread under the database's write
lock, a group is one hop for all its bookings: each made by the lean path's own function in
turn (seeing the ones before it), each in a savepoint, with one BEGIN and one COMMIT.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import text

from booking import payments
from booking.bookings import group_statements as sql
from booking.bookings import lean
from booking.bookings import lean_statements as lean_sql
from booking.bookings import lean_writes as writes
from booking.bookings.decision import decide
from booking.bookings.facts import BookingFacts
from booking.bookings.lean_writes import Declined
from booking.bookings.requests import BookingOutcome, BookingRequest
from booking.bookings.vouch import Unvouched
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel import driver, tx
from booking.kernel.actors import Actor, UnreadToken
from booking.kernel.admission import step_aside
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.outbox import session_channel

# At most this many bookings in one group; the rest wait for the next.
AT_MOST = 32
# Up to this many bookings for one session run on their own at once (as `turns` lets them).
ALONE_AT_ONCE = 3


@dataclass(slots=True)
class Asking:
    actor: Actor
    request: BookingRequest
    answer: asyncio.Future[BookingOutcome | None]


@dataclass(slots=True)
class _Decided:
    asking: Asking
    facts: BookingFacts
    state: BookingState
    listening: bool


# An answer of the group's attempt: the booking is to be made on its own (after the group).
_ALONE = object()


@dataclass(slots=True)
class _Line:
    waiting: deque[Asking]
    # Under way: bookings on their own; a task writing groups.
    alone: int = 0
    draining: bool = False


class Lines:
    """Per database, clock and session, while bookings for it are under way: up to
    `alone_at_once` on their own, at once (an uncontended booking, or churn's occasional two,
    pay nothing for groups), and beyond them a line for a task that writes one group after
    another, starting at once (its reads overlap the others' writes) until none wait."""

    def __init__(self, at_most: int = AT_MOST, alone_at_once: int = ALONE_AT_ONCE) -> None:
        self.at_most = at_most
        self.alone_at_once = alone_at_once
        self._lines: dict[tuple[int, int, int], _Line] = {}
        self._drains: set[asyncio.Task[None]] = set()
        # The sizes of the last groups written (for tests).
        self.sizes: deque[int] = deque(maxlen=64)

    async def book(
        self,
        db: Database,
        clock: Clock,
        actor: Actor | None,
        request: BookingRequest,
        *,
        billing: payments.BillingConfig,
        token_hash: str | None = None,
        unread: UnreadToken | None = None,
    ) -> BookingOutcome | None:
        """The lean booking (`lean.book_lean`), on its own or in a group; None: take the full
        path. A token is checked or read on its own only: `Unvouched` where it would wait."""
        key = (id(db), id(clock), request.session_id)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = _Line(deque())
        if line.alone < self.alone_at_once and not line.draining:
            line.alone += 1
            try:
                return await lean.book_lean(
                    db, clock, actor, request, billing=billing, token_hash=token_hash, unread=unread
                )
            finally:
                line.alone -= 1
                if not (line.alone or line.draining):
                    del self._lines[key]
        if actor is None or token_hash is not None:
            raise Unvouched
        asking = Asking(actor, request, asyncio.get_running_loop().create_future())
        line.waiting.append(asking)
        if not line.draining:
            line.draining = True
            # Its own context: it works for every request in its groups, none in particular.
            work = self._drain(key, line, db, clock, billing)
            drain = asyncio.create_task(work, context=contextvars.Context())
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        step_aside()  # enough under way: the group's task does the work, one more may come in
        return await asking.answer

    def waiting(self, session_id: int) -> int | None:
        """How many bookings for this session wait for a group; None when none is under way
        (for tests)."""
        lines = [line for key, line in self._lines.items() if key[2] == session_id]
        return sum(len(line.waiting) for line in lines) if lines else None

    async def _drain(
        self,
        key: tuple[int, int, int],
        line: _Line,
        db: Database,
        clock: Clock,
        billing: payments.BillingConfig,
    ) -> None:
        group: list[Asking] = []
        waiting = line.waiting
        try:
            while waiting:
                group = []
                while waiting and len(group) < self.at_most:
                    asking = waiting.popleft()
                    if not asking.answer.done():  # not given up on (cancelled)
                        group.append(asking)
                if group:
                    self.sizes.append(len(group))
                    await _serve(db, clock, billing, group)
        finally:
            line.draining = False
            if not line.alone:
                del self._lines[key]
            for asking in [*group, *waiting]:
                if not asking.answer.done():
                    asking.answer.cancel()


async def _serve(
    db: Database, clock: Clock, billing: payments.BillingConfig, group: list[Asking]
) -> None:
    """Write the group and answer each of its requests (the ones it does not decide, one by
    one after it, in order)."""
    answers: list[Any]
    try:
        answers = await tx.with_retry(partial(_attempt, db, clock, group, billing=billing))
    except Declined:
        answers = [_ALONE] * len(group)
    except Exception as exc:  # the transaction failed: every request of the group hears why
        answers = [exc] * len(group)
    for asking, answer in zip(group, answers, strict=True):
        if answer is _ALONE:
            try:
                answer = await lean.book_lean(
                    db, clock, asking.actor, asking.request, billing=billing
                )
            except Exception as exc:
                answer = exc
        if asking.answer.done():
            continue
        if isinstance(answer, Exception):
            asking.answer.set_exception(answer)
        else:
            asking.answer.set_result(answer)


async def _attempt(
    db: Database, clock: Clock, group: list[Asking], *, billing: payments.BillingConfig
) -> list[Any]:
    """One transaction for the group: each booking's outcome, or the error it answers with,
    None (the full path), or `_ALONE`."""
    session_id = group[0].request.session_id
    async with driver.transaction(db) as d:
        now = clock.now()
        if d.sqlite:
            work = partial(_in_thread, group, now=now, billing=billing)
            return await d.in_thread(work, commit=True)
        learners = sorted({asking.actor.person_id for asking in group if asking.actor.person_id})
        rows = {
            r["id"]: r
            for r in await d.rows(sql.READ_GROUP, person_ids=learners, session_id=session_id)
        }
        answers: list[Any] = []
        decided: list[_Decided] = []
        seen: set[int | None] = set()
        for asking in group:
            if asking.actor.person_id in seen:
                answers.append(_ALONE)  # the same learner twice: after the group, seeing it
                continue
            seen.add(asking.actor.person_id)
            seats = sum(1 for x in decided if x.state == BookingState.BOOKED)
            try:
                one = _decide(
                    asking,
                    rows.get(asking.actor.person_id),
                    seats,
                    len(decided) - seats,
                    now=now,
                    billing=billing,
                )
            except Declined:
                answers.append(None)
                continue
            except (NotFoundError, ForbiddenError) as exc:
                answers.append(exc)
                continue
            answers.append(one)
            decided.append(one)
        if decided:
            outcomes = iter(await _write(d, decided, now=now))
            answers = [next(outcomes) if isinstance(a, _Decided) else a for a in answers]
        return answers


def _in_thread(
    group: list[Asking],
    t: driver.InThread,
    *,
    now: datetime,
    billing: payments.BillingConfig,
) -> list[Any]:
    """SQLite: the group's bookings one after another in SQLite's thread, each the lean path's
    own (`lean.book_in_thread`, which sees the ones before it), each in a savepoint so one
    declined leaves nothing behind; one hop, one BEGIN and one COMMIT for all of them."""
    answers: list[Any] = []
    seen: set[int | None] = set()
    for asking in group:
        if asking.actor.person_id in seen:
            answers.append(_ALONE)
            continue
        seen.add(asking.actor.person_id)
        t.execute(_SAVEPOINT)
        try:
            answers.append(
                lean.book_in_thread(asking.actor, asking.request, t, now=now, billing=billing)
            )
        except (Declined, NotFoundError, ForbiddenError) as exc:
            t.execute(_BACK_TO_SAVEPOINT)
            answers.append(None if isinstance(exc, Declined) else exc)
        t.execute(_RELEASE_SAVEPOINT)
    return answers


_SAVEPOINT = text("SAVEPOINT booking_in_group")
_BACK_TO_SAVEPOINT = text("ROLLBACK TO SAVEPOINT booking_in_group")
_RELEASE_SAVEPOINT = text("RELEASE SAVEPOINT booking_in_group")


def _decide(
    asking: Asking,
    found: driver.Row | None,
    seats: int,
    tickets: int,
    *,
    now: datetime,
    billing: payments.BillingConfig,
) -> _Decided:
    """The lean path's decision for one booking of the group, on the session as the group's
    earlier bookings leave it (`seats` taken, `tickets` given); `Declined` for anything but a
    seat or a waiting-list place."""
    row: dict[str, Any] | None = None
    dates: list[driver.Row] = []
    if found is not None and found["s_id"] is not None:
        row = dict(found)
        row["s_seats_held"] += seats
        row["s_waitlist_seq"] += tickets
        value = found["dates_and_bookings"]
        dates = json.loads(value) if isinstance(value, str | bytes) else list(value)
    facts, listening = lean.facts_of(
        asking.actor, asking.request, found, row, dates, sqlite=False, billing=billing
    )
    state = decide(facts, facts.session_facts, now=now)
    lean.unchanged_for(facts, state)
    return _Decided(asking, facts, state, listening)


async def _write(
    d: driver.Driver, decided: list[_Decided], *, now: datetime
) -> list[BookingOutcome]:
    """Every seat, ticket and row of the group in one statement, then their webhook events and
    waiting-list positions; `Declined` (nothing written) if the session or a learner's other
    bookings changed since the read."""
    session = decided[0].facts.session
    written = await d.rows(sql.PLACES_AND_ROWS, **_values(decided, now=now))
    if not written:
        raise Declined  # the session or a learner changed since the read: one by one instead
    by_learner = {r["learner_id"]: r for r in written}
    d.events.add(session_channel(session.id))
    outcomes = []
    first_ticket: int | None = None
    position = 0
    for one in decided:
        r = by_learner[one.facts.learner.id]
        actor, request = one.asking.actor, one.asking.request
        booking = writes.as_written(
            request, one.facts, one.state, r["waitlist_seq"], r["id"], r["sequence"], now=now
        )
        if one.listening:
            stmt, params = writes.webhook_rows(actor, booking, now=now)
            await d.execute(stmt, **params)
        seq = booking.waitlist_seq
        if seq is not None and first_ticket is None:
            first_ticket = seq
            position = await d.value(lean_sql.POSITION, session_id=session.id, seq=seq)
        # The group's tickets follow each other: the later ones' places follow the first's.
        at = None if seq is None or first_ticket is None else position + seq - first_ticket
        outcomes.append(lean.answer(actor, one.facts, one.state, booking, now=now, position=at))
    return outcomes


def _values(decided: list[_Decided], *, now: datetime) -> dict[str, Any]:
    """`PLACES_AND_ROWS`'s values: the group's bookings, in arrival order, as arrays."""
    session = decided[0].facts.session
    tickets_before: list[int | None] = []
    tickets = 0
    for one in decided:
        tickets_before.append(None if one.state == BookingState.BOOKED else tickets)
        tickets += one.state == BookingState.WAITLISTED
    mails = [
        (one.facts.learner.id, topic, person, n)
        for one in decided
        for n, (topic, person) in enumerate(
            writes.recipients_of(one.state, one.facts.learner.id, one.facts.trainers), start=1
        )
    ]
    existing = sorted(
        (one.facts.learner.id, b.id, b.state) for one in decided for b in one.facts.existing
    )
    return {
        "session_id": session.id,
        "course_id": decided[0].facts.course.id,
        "read_status": session.status,
        "read_sequence": session.sequence,
        "read_mode": session.waitlist_mode,
        "seats": len(decided) - tickets,
        "tickets": tickets,
        "learner_ids": [one.facts.learner.id for one in decided],
        "learner_bookings": ",".join(f"{p}/{b}:{state}" for p, b, state in existing),
        "states": [one.state.value for one in decided],
        "tickets_before": tickets_before,
        "prices": [0 if one.facts.price is None else one.facts.price.amount for one in decided],
        "answers": [json.dumps(one.asking.request.answers) for one in decided],
        "actors": [one.asking.actor.label for one in decided],
        "payloads": [
            json.dumps(writes.payload_of(session.id, one.state.value, 0)) for one in decided
        ],
        "for_learners": [m[0] for m in mails],
        "topics": [m[1] for m in mails],
        "recipients": [m[2] for m in mails],
        "nth": [m[3] for m in mails],
        "now": now,
    }


LINES = Lines()
