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
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast

from booking.domain.states import ACTIVE, BookingState
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

LEARNER = (
    select(*_PEOPLE.c, OrgUnit.code.label("unit_code"))
    .outerjoin(OrgUnit, OrgUnit.id == _PEOPLE.c.org_unit_id)
    .where(_PEOPLE.c.id == bindparam("person_id"))
    .with_for_update(of=_PEOPLE)
)
SESSION = (
    select(
        *[c.label(f"s_{c.key}") for c in _SESSIONS.c],
        *[c.label(f"c_{c.key}") for c in _COURSES.c],
        ANY_LISTENING,
        FACILITATORS_COLUMN,
    )
    .join(_COURSES, _COURSES.c.id == _SESSIONS.c.course_id)
    .where(_SESSIONS.c.id == bindparam("session_id"))
)
# The session's dates (kind "d") and the learner's active bookings with their dates ("b").
_OTHER_DATES = _DATES.alias("other_dates")
DATES_AND_BOOKINGS = union_all(
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
    .where(_BOOKINGS.c.learner_id == bindparam("learner_id"), _BOOKINGS.c.state.in_(_ACTIVE)),
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
