"""The lean booking path's statements (`bookings.lean`), built once as SQLAlchemy Core and
compiled once per dialect by `kernel.driver`: the learner, the session with what a booking
decides on, the seat or the ticket, and the rows a new booking writes."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnClause,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast

from billing import services as billing
from booking.bookings.token_statements import TOKEN_STANDS
from booking.domain.states import ACTIVE, BLOCKS_CALENDAR, BookingState
from booking.kernel.history import FACILITATORS_COLUMN
from booking.kernel.webhook_events import ANY_LISTENING
from booking.models import Booking, BookingHistory, Course, OrgUnit, Outbox, Person, SessionDate
from booking.models import Session as SessionRow

_ACTIVE: list[ColumnClause[Any]] = [literal_column(f"'{state}'") for state in sorted(ACTIVE)]
_PEOPLE = cast(Table, Person.__table__)
_SESSIONS = cast(Table, SessionRow.__table__)
_COURSES = cast(Table, Course.__table__)
_DATES = cast(Table, SessionDate.__table__)
_BOOKINGS = cast(Table, Booking.__table__)
_OUTBOX = cast(Table, Outbox.__table__)

# The learner (locked: the lock every booking of theirs takes first) with their unit, and the
# session with its course, trainers and whether any webhook endpoint listens (NULLs for no such
# session) — one statement. The session's columns may be a moment older than the lock when it
# had to wait; the seat's conditional UPDATE checks them again (`_UNCHANGED`).
_SESSION_AND_COURSE = _SESSIONS.join(_COURSES, _COURSES.c.id == _SESSIONS.c.course_id)
LEARNERS_WITH_SESSION = select(
    *_PEOPLE.c,
    OrgUnit.code.label("unit_code"),
    *[c.label(f"s_{c.key}") for c in _SESSIONS.c],
    *[c.label(f"c_{c.key}") for c in _COURSES.c],
    ANY_LISTENING,
    FACILITATORS_COLUMN,
).select_from(
    _PEOPLE.outerjoin(OrgUnit, OrgUnit.id == _PEOPLE.c.org_unit_id).outerjoin(
        _SESSION_AND_COURSE, _SESSIONS.c.id == bindparam("session_id")
    )
)
LEARNER_AND_SESSION = (
    LEARNERS_WITH_SESSION.add_columns(TOKEN_STANDS)
    .where(_PEOPLE.c.id == bindparam("person_id"))
    .with_for_update(of=_PEOPLE)
)
# The session's dates (kind "d") and the learner's active bookings with their dates ("b"); the
# learner by id (`bindparam`) or, in a group's read (`bookings.group`), by its row's column.
_OTHER_DATES = _DATES.alias("other_dates")


def dates_and_bookings(learner_id: Any) -> Any:
    return union_all(
        select(
            literal_column("'d'").label("kind"),
            _DATES.c.id,
            _DATES.c.session_id,
            sql_cast(null(), BigInteger).label("course_id"),
            null().label("state"),
            null().label("title"),
            _DATES.c.start_at,
            _DATES.c.end_at,
            _DATES.c.timezone,
        ).where(_DATES.c.session_id == bindparam("session_id"), _DATES.c.removed_at.is_(None)),
        select(
            literal_column("'b'"),
            _BOOKINGS.c.id,
            _BOOKINGS.c.session_id,
            _BOOKINGS.c.course_id,
            _BOOKINGS.c.state,
            _COURSES.c.title,
            _OTHER_DATES.c.start_at,
            _OTHER_DATES.c.end_at,
            _OTHER_DATES.c.timezone,
        )
        .join(_COURSES, _COURSES.c.id == _BOOKINGS.c.course_id)
        .outerjoin(
            _OTHER_DATES,
            and_(
                _OTHER_DATES.c.session_id == _BOOKINGS.c.session_id,
                _OTHER_DATES.c.removed_at.is_(None),
            ),
        )
        .where(_BOOKINGS.c.learner_id == learner_id, _BOOKINGS.c.state.in_(_ACTIVE))
        .correlate(_PEOPLE),
    )


DATES_AND_BOOKINGS = dates_and_bookings(bindparam("learner_id"))
# PostgreSQL: the learner (locked) with the session, and the session's dates with the learner's
# other bookings as one JSON array, in one statement. Those bookings are read in the snapshot
# the statement began with, which may be older than the learner's lock if it had to wait for
# it; the write checks them again (`_SAME_BOOKINGS`, in a snapshot taken under the lock).
_DAB = DATES_AND_BOOKINGS.subquery("dab")
READ_ALL = LEARNER_AND_SESSION.add_columns(
    select(func.coalesce(func.json_agg(literal_column("dab")), literal_column("'[]'::json")))
    .select_from(_DAB)
    .scalar_subquery()
    .label("dates_and_bookings")
)
_UNCHANGED = and_(
    _SESSIONS.c.id == bindparam("session_id"),
    _SESSIONS.c.status == bindparam("read_status"),
    _SESSIONS.c.sequence == bindparam("read_sequence"),
)
# The seat, if one is free and the session is as read (the UPDATE takes the session's lock).
TAKE_SEAT = (
    update(_SESSIONS)
    .where(_UNCHANGED, _SESSIONS.c.seats_held < _SESSIONS.c.capacity)
    .values(seats_held=_SESSIONS.c.seats_held + 1)
    .returning(_SESSIONS.c.seats_held)
)
# A waiting-list ticket, if the session is still full, as read, with its waiting list on.
TAKE_TICKET = (
    update(_SESSIONS)
    .where(
        _UNCHANGED,
        _SESSIONS.c.seats_held >= _SESSIONS.c.capacity,
        _SESSIONS.c.waitlist_mode == bindparam("read_mode"),
    )
    .values(waitlist_seq=_SESSIONS.c.waitlist_seq + 1)
    .returning(_SESSIONS.c.waitlist_seq)
)
INSERT_BOOKING = (
    insert(_BOOKINGS)
    .values(
        {
            c: bindparam(c)
            for c in (
                "session_id",
                "course_id",
                "learner_id",
                "state",
                "waitlist_seq",
                "price_amount",
                "answers",
                "created_at",
                "updated_at",
            )
        }
    )
    .returning(_BOOKINGS.c.id, _BOOKINGS.c.sequence)
)
INSERT_HISTORY = (
    insert(cast(Table, BookingHistory.__table__))
    .values({c: bindparam(c) for c in ("booking_id", "at", "actor_id", "actor", "to_state")})
    .returning(cast(Table, BookingHistory.__table__).c.id)
)
_OUTBOX_COLUMNS = ("topic", "recipient_id", "booking_id", "session_id", "payload", "dedupe_key")
INSERT_EMAIL = (
    insert(_OUTBOX)
    .inline()
    .values(
        {
            "channel": literal_column("'email'"),
            **{c: bindparam(c) for c in _OUTBOX_COLUMNS},
            "created_at": bindparam("now"),
            "available_at": bindparam("now"),
        }
    )
)
POSITION = select(func.count()).where(
    _BOOKINGS.c.session_id == bindparam("session_id"),
    _BOOKINGS.c.state == BookingState.WAITLISTED.value,
    _BOOKINGS.c.waitlist_seq <= bindparam("seq"),
)

# PostgreSQL: the place, the booking, its history and its emails in one statement (a chain of
# data-modifying CTEs, each fed by the one before: no seat, no rows). The learner's email comes
# first, then the trainers' (`recipients`), as `write_history` writes them; the payload gets the
# booking's id and sequence as written.
_WRITE_ROWS = """
, b AS (
    INSERT INTO bookings (session_id, course_id, learner_id, state, waitlist_seq, answers,
                          price_amount, created_at, updated_at)
    SELECT place.id, CAST(:course_id AS BIGINT), CAST(:learner_id AS BIGINT),
           CAST(:state AS VARCHAR), place.seq, CAST(:answers AS JSONB),
           CAST(:price_amount AS INTEGER), CAST(:now AS TIMESTAMPTZ), CAST(:now AS TIMESTAMPTZ)
    FROM place
    RETURNING id, sequence, waitlist_seq
), h AS (
    INSERT INTO booking_history (booking_id, at, actor_id, actor, to_state)
    SELECT b.id, CAST(:now AS TIMESTAMPTZ), CAST(:actor_id AS BIGINT), CAST(:actor AS VARCHAR),
           CAST(:state AS VARCHAR)
    FROM b
    RETURNING id, booking_id
), e AS (
    INSERT INTO outbox (channel, topic, recipient_id, booking_id, session_id, payload,
                        dedupe_key, created_at, available_at)
    SELECT 'email', r.topic, r.recipient_id, b.id, CAST(:session_id AS BIGINT),
           jsonb_set(jsonb_set(CAST(:payload AS JSONB), '{booking_id}', to_jsonb(b.id)),
                     '{sequence}', to_jsonb(b.sequence)),
           CASE WHEN r.n = 1 THEN r.topic || ':' || b.id || ':' || h.id
                ELSE r.topic || ':' || h.id || ':' || r.recipient_id END,
           CAST(:now AS TIMESTAMPTZ), CAST(:now AS TIMESTAMPTZ)
    FROM b JOIN h ON h.booking_id = b.id
    CROSS JOIN unnest(CAST(:topics AS VARCHAR[]), CAST(:recipients AS BIGINT[]))
        WITH ORDINALITY AS r(topic, recipient_id, n)
    ORDER BY r.n
)
SELECT b.id, b.sequence, b.waitlist_seq, h.id AS history_id FROM b JOIN h ON h.booking_id = b.id
"""
# The learner's active bookings (id:state, by id) as `READ_ALL` read them, or nothing is written.
_SAME_BOOKINGS = (
    "(SELECT coalesce(string_agg(CAST(id AS VARCHAR) || ':' || state, ',' ORDER BY id), '')"
    " FROM bookings WHERE learner_id = CAST(:learner_id AS BIGINT) AND state IN ("
    + ", ".join(f"'{state}'" for state in sorted(ACTIVE))
    + ")) = CAST(:learner_bookings AS VARCHAR)"
)
_UNCHANGED_SQL = (
    "id = CAST(:session_id AS BIGINT) AND status = CAST(:read_status AS VARCHAR)"
    " AND sequence = CAST(:read_sequence AS INTEGER) AND " + _SAME_BOOKINGS
)
SEAT_AND_ROWS = text(
    "WITH place AS (UPDATE sessions SET seats_held = seats_held + 1"
    f" WHERE {_UNCHANGED_SQL} AND seats_held < capacity"
    " RETURNING id, CAST(NULL AS INTEGER) AS seq)" + _WRITE_ROWS
)
TICKET_AND_ROWS = text(
    "WITH place AS (UPDATE sessions SET waitlist_seq = waitlist_seq + 1"
    f" WHERE {_UNCHANGED_SQL} AND seats_held >= capacity"
    " AND waitlist_mode = CAST(:read_mode AS VARCHAR)"
    " RETURNING id, waitlist_seq AS seq)" + _WRITE_ROWS
)


# Cancelling (`bookings.lean_cancel`): the booking with its session (locked, as `lock_session`
# locks it: the session first, by the id the booking names), course, learner, trainers,
# listeners, and whether billing holds anything for it — one statement.
_TARGET = _BOOKINGS.alias("target")
CANCEL_LOCK = (
    select(
        *[c.label(f"s_{c.key}") for c in _SESSIONS.c],
        *[c.label(f"c_{c.key}") for c in _COURSES.c],
        *[c.label(f"b_{c.key}") for c in _BOOKINGS.c],
        *[c.label(f"p_{c.key}") for c in _PEOPLE.c],
        OrgUnit.code.label("unit_code"),
        ANY_LISTENING,
        FACILITATORS_COLUMN,
        billing.anything_recorded(bindparam("reference")).label("billed"),
    )
    .select_from(
        _SESSIONS.join(_COURSES, _COURSES.c.id == _SESSIONS.c.course_id)
        .join(_BOOKINGS, _BOOKINGS.c.session_id == _SESSIONS.c.id)
        .join(_PEOPLE, _PEOPLE.c.id == _BOOKINGS.c.learner_id)
        .outerjoin(OrgUnit, OrgUnit.id == _PEOPLE.c.org_unit_id)
    )
    .where(
        _SESSIONS.c.id
        == select(_TARGET.c.session_id)
        .where(_TARGET.c.id == bindparam("booking_id"))
        .scalar_subquery(),
        _BOOKINGS.c.id == bindparam("booking_id"),
    )
    .with_for_update(of=_SESSIONS)
)
SESSION_DATES = (
    select(_DATES.c.id, _DATES.c.start_at, _DATES.c.end_at, _DATES.c.timezone)
    .where(_DATES.c.session_id == bindparam("session_id"), _DATES.c.removed_at.is_(None))
    .order_by(_DATES.c.start_at, _DATES.c.id)
)
_HISTORY_TABLE = cast(Table, BookingHistory.__table__)
HISTORY = (
    select(
        _HISTORY_TABLE.c.at,
        _HISTORY_TABLE.c.actor,
        _HISTORY_TABLE.c.from_state,
        _HISTORY_TABLE.c.to_state,
        _HISTORY_TABLE.c.reason,
    )
    .where(_HISTORY_TABLE.c.booking_id == bindparam("booking_id"))
    .order_by(_HISTORY_TABLE.c.id)
)
CANCEL_BOOKING = (
    update(_BOOKINGS)
    .where(
        _BOOKINGS.c.id == bindparam("booking_id"),
        _BOOKINGS.c.state == bindparam("read_state"),
        _BOOKINGS.c.sequence == bindparam("read_sequence"),
    )
    .values(
        state=BookingState.CANCELLED.value,
        cancel_reason=bindparam("reason"),
        cancel_details=bindparam("details"),
        offer_expires_at=None,
        sequence=_BOOKINGS.c.sequence + 1,
        updated_at=bindparam("now"),
    )
    .returning(_BOOKINGS.c.sequence)
)
INSERT_MOVE = (
    insert(_HISTORY_TABLE)
    .values(
        {
            c: bindparam(c)
            for c in ("booking_id", "at", "actor_id", "actor", "from_state", "to_state", "reason")
        }
    )
    .returning(_HISTORY_TABLE.c.id)
)
RELEASE_SEAT = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"))
    .values(seats_held=_SESSIONS.c.seats_held - 1)
    .returning(_SESSIONS.c.seats_held)
)
TAKE_FREED_SEAT = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.seats_held < _SESSIONS.c.capacity)
    .values(seats_held=_SESSIONS.c.seats_held + 1)
    .returning(_SESSIONS.c.seats_held)
)
# The next 50 in line (active learners, in the order they joined: `seats.places._next_in_line`),
# each with every booking of theirs that holds or awaits a seat and that booking's dates (what
# `_blocked_learners` checks them against): one row per waiting booking, other booking and date.
_LINE = (
    select(
        _BOOKINGS.c.id,
        _BOOKINGS.c.learner_id,
        _BOOKINGS.c.waitlist_seq,
        _BOOKINGS.c.sequence,
    )
    .join(_PEOPLE, _PEOPLE.c.id == _BOOKINGS.c.learner_id)
    .where(
        _BOOKINGS.c.session_id == bindparam("session_id"),
        _BOOKINGS.c.state == BookingState.WAITLISTED.value,
        _BOOKINGS.c.waitlist_seq > 0,
        _PEOPLE.c.active.is_(True),
    )
    .order_by(_BOOKINGS.c.waitlist_seq)
    .limit(50)
    .subquery("line")
)
_OTHER = _BOOKINGS.alias("other")
_BLOCKING: list[ColumnClause[Any]] = [
    literal_column(f"'{state}'") for state in sorted(BLOCKS_CALENDAR)
]
NEXT_IN_LINE = (
    select(
        _LINE.c.id,
        _LINE.c.learner_id,
        _LINE.c.waitlist_seq,
        _LINE.c.sequence,
        _OTHER.c.id.label("other_id"),
        _OTHER.c.session_id.label("other_session_id"),
        _OTHER.c.course_id.label("other_course_id"),
        _OTHER.c.state.label("other_state"),
        _OTHER_DATES.c.start_at,
        _OTHER_DATES.c.end_at,
        _OTHER_DATES.c.timezone,
    )
    .select_from(
        _LINE.outerjoin(
            _OTHER,
            and_(_OTHER.c.learner_id == _LINE.c.learner_id, _OTHER.c.state.in_(_BLOCKING)),
        ).outerjoin(
            _OTHER_DATES,
            and_(
                _OTHER_DATES.c.session_id == _OTHER.c.session_id,
                _OTHER_DATES.c.removed_at.is_(None),
            ),
        )
    )
    .order_by(_LINE.c.waitlist_seq, _OTHER.c.id, _OTHER_DATES.c.start_at)
)
PROMOTE = (
    update(_BOOKINGS)
    .where(
        _BOOKINGS.c.id == bindparam("booking_id"),
        _BOOKINGS.c.state == BookingState.WAITLISTED.value,
        _BOOKINGS.c.sequence == bindparam("read_sequence"),
    )
    .values(
        state=bindparam("to_state"),
        offer_expires_at=bindparam("offer_expires_at"),
        waitlist_seq=None,
        sequence=_BOOKINGS.c.sequence + 1,
        updated_at=bindparam("now"),
    )
    .returning(_BOOKINGS.c.sequence)
)
