"""The lean cancellation's statements for PostgreSQL (`bookings.lean_cancel`): once the session
is locked, what the cancellation reads in one statement, and each move with every row it writes
in one more — so the session's lock is held for three round trips, not eleven (on SQLite the
program runs in one hop to its thread, under the write lock, statement by statement).

Each write is a chain of data-modifying CTEs, as the booking's (`lean_statements.SEAT_AND_ROWS`):
the booking's conditional UPDATE feeds its history row, which feeds its emails (the learner's
first, then the trainers', as `write_history` writes them, the payload given the booking's new
sequence); nothing matches, nothing is written.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, literal_column, select, text

from booking.bookings.lean_statements import NEXT_IN_LINE
from booking.models import BookingHistory, SessionDate


def _all_rows(alias: str) -> ColumnElement[Any]:
    """Every row of `alias` as one JSON array (empty, not NULL, for none)."""
    return func.coalesce(func.json_agg(literal_column(alias)), literal_column("'[]'::json"))


_SD = cast(Table, SessionDate.__table__).alias("sd")
_H = cast(Table, BookingHistory.__table__).alias("h")
_L = NEXT_IN_LINE.subquery("l")
# The session's dates, the booking's history and the next in line with their other bookings
# (`lean_statements.SESSION_DATES`, `HISTORY`, `NEXT_IN_LINE`) as three JSON arrays, read after
# the lock in one snapshot; the caller puts each in order.
READS = select(
    select(_all_rows("sd"))
    .select_from(_SD)
    .where(_SD.c.session_id == bindparam("session_id"), _SD.c.removed_at.is_(None))
    .scalar_subquery()
    .label("dates"),
    select(_all_rows("h"))
    .select_from(_H)
    .where(_H.c.booking_id == bindparam("booking_id"))
    .scalar_subquery()
    .label("history"),
    select(_all_rows("l")).select_from(_L).scalar_subquery().label("line"),
)

# The move's history row and emails, fed by `b` (the booking as moved: id, sequence).
_HISTORY_AND_EMAILS = """
, h AS (
    INSERT INTO booking_history (booking_id, at, actor_id, actor, from_state, to_state, reason)
    SELECT b.id, CAST(:now AS TIMESTAMPTZ), CAST(:actor_id AS BIGINT), CAST(:actor AS VARCHAR),
           CAST(:from_state AS VARCHAR), CAST(:to_state AS VARCHAR), CAST(:reason AS VARCHAR)
    FROM b
    RETURNING id
), e AS (
    INSERT INTO outbox (channel, topic, recipient_id, booking_id, session_id, payload,
                        dedupe_key, created_at, available_at)
    SELECT 'email', r.topic, r.recipient_id, b.id, CAST(:session_id AS BIGINT),
           jsonb_set(CAST(:payload AS JSONB), '{sequence}', to_jsonb(b.sequence)),
           CASE WHEN r.n = 1 THEN r.topic || ':' || b.id || ':' || h.id
                ELSE r.topic || ':' || h.id || ':' || r.recipient_id END,
           CAST(:now AS TIMESTAMPTZ), CAST(:now AS TIMESTAMPTZ)
    FROM b CROSS JOIN h
    CROSS JOIN unnest(CAST(:topics AS VARCHAR[]), CAST(:recipients AS BIGINT[]))
        WITH ORDINALITY AS r(topic, recipient_id, n)
    ORDER BY r.n
)
"""
_IF_UNCHANGED = (
    "id = CAST(:booking_id AS BIGINT) AND state = CAST(:from_state AS VARCHAR)"
    " AND sequence = CAST(:read_sequence AS INTEGER)"
)
# The booking cancelled (if unchanged since read), its history and emails, and the seat it held
# given back (`held`).
CANCEL = text(
    "WITH b AS (UPDATE bookings SET state = CAST(:to_state AS VARCHAR),"
    " cancel_reason = CAST(:reason AS VARCHAR), cancel_details = CAST(:details AS VARCHAR),"
    " offer_expires_at = NULL, sequence = sequence + 1, updated_at = CAST(:now AS TIMESTAMPTZ)"
    f" WHERE {_IF_UNCHANGED} RETURNING id, sequence)"
    + _HISTORY_AND_EMAILS
    + ", s AS (UPDATE sessions SET seats_held = seats_held - 1"
    " WHERE id = CAST(:session_id AS BIGINT) AND CAST(:held AS BOOLEAN)"
    " AND EXISTS (SELECT 1 FROM b) RETURNING seats_held)"
    " SELECT b.sequence, h.id AS history_id FROM b CROSS JOIN h"
)
# A seat taken for the waiting booking (if one is free), and the booking booked or offered (if
# still waiting as read), with its history and emails.
PROMOTE = text(
    "WITH seat AS (UPDATE sessions SET seats_held = seats_held + 1"
    " WHERE id = CAST(:session_id AS BIGINT) AND seats_held < capacity RETURNING id),"
    " b AS (UPDATE bookings SET state = CAST(:to_state AS VARCHAR),"
    " offer_expires_at = CAST(:offer_expires_at AS TIMESTAMPTZ), waitlist_seq = NULL,"
    " sequence = sequence + 1, updated_at = CAST(:now AS TIMESTAMPTZ)"
    f" WHERE {_IF_UNCHANGED} AND EXISTS (SELECT 1 FROM seat) RETURNING id, sequence)"
    + _HISTORY_AND_EMAILS
    + " SELECT b.sequence, h.id AS history_id, (SELECT count(*) FROM seat) AS seats"
    " FROM b CROSS JOIN h"
)
