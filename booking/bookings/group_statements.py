"""The statements of a group of bookings for one session (`bookings.group`), PostgreSQL only:
every learner of the group locked and read with the session in one statement, then every seat,
ticket and row the group writes in one more — as `lean_statements.READ_ALL` and
`SEAT_AND_ROWS` do for one booking."""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Table, any_, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from booking.bookings import lean_statements as lean
from booking.domain.states import ACTIVE
from booking.models import Person

_PEOPLE = cast(Table, Person.__table__)

# The group's learners (locked, by id: two groups sharing learners lock them in the same order)
# each with the session, its course, trainers and listeners, and the session's dates with that
# learner's active bookings: `READ_ALL`'s row, one per learner.
_DAB = lean.dates_and_bookings(_PEOPLE.c.id).subquery("dab")
DATES_AND_BOOKINGS_OF_ROW = (
    select(func.coalesce(func.json_agg(literal_column("dab")), literal_column("'[]'::json")))
    .select_from(_DAB)
    .correlate(_PEOPLE)
    .scalar_subquery()
    .label("dates_and_bookings")
)
READ_GROUP = (
    lean.LEARNERS_WITH_SESSION.add_columns(DATES_AND_BOOKINGS_OF_ROW)
    .where(_PEOPLE.c.id == any_(bindparam("person_ids", type_=ARRAY(BigInteger))))
    .order_by(_PEOPLE.c.id)
    .with_for_update(of=_PEOPLE)
)

_STATES = ", ".join(f"'{state}'" for state in sorted(ACTIVE))
# The group's learners' active bookings (learner/id:state, by learner and id) as `READ_GROUP`
# read them, in a snapshot taken under their locks, or nothing is written.
_SAME_BOOKINGS = (
    "(SELECT coalesce(string_agg(CAST(learner_id AS VARCHAR) || '/' || CAST(id AS VARCHAR)"
    " || ':' || state, ',' ORDER BY learner_id, id), '') FROM bookings"
    " WHERE learner_id = ANY(CAST(:learner_ids AS BIGINT[]))"
    f" AND state IN ({_STATES})) = CAST(:learner_bookings AS VARCHAR)"
)
# The seats and the tickets together, if the session is as read and they are exactly what
# deciding one booking after another in arrival order gives: every seat free (`seats` of them),
# and, when anyone waits, none left after them, with the waiting list on as read. Then each
# booking (in arrival order, so ids and tickets follow it), its history and its emails — the
# rows `SEAT_AND_ROWS` writes for one. `tickets_before`: how many of the group's tickets come
# before each booking's (NULL for a seat).
PLACES_AND_ROWS = text(
    f"""
WITH place AS (
    UPDATE sessions SET seats_held = seats_held + CAST(:seats AS INTEGER),
                        waitlist_seq = waitlist_seq + CAST(:tickets AS INTEGER)
    WHERE id = CAST(:session_id AS BIGINT) AND status = CAST(:read_status AS VARCHAR)
      AND sequence = CAST(:read_sequence AS INTEGER)
      AND seats_held + CAST(:seats AS INTEGER) <= capacity
      AND (CAST(:tickets AS INTEGER) = 0
           OR (seats_held + CAST(:seats AS INTEGER) >= capacity
               AND waitlist_mode = CAST(:read_mode AS VARCHAR)))
      AND {_SAME_BOOKINGS}
    RETURNING id, waitlist_seq - CAST(:tickets AS INTEGER) AS tickets_from
), i AS (
    SELECT * FROM unnest(CAST(:learner_ids AS BIGINT[]), CAST(:states AS VARCHAR[]),
                         CAST(:tickets_before AS INTEGER[]), CAST(:prices AS INTEGER[]),
                         CAST(:answers AS VARCHAR[]), CAST(:actors AS VARCHAR[]),
                         CAST(:payloads AS VARCHAR[]))
        WITH ORDINALITY AS i(learner_id, state, ticket, price, answers, actor, payload, n)
), b AS (
    INSERT INTO bookings (session_id, course_id, learner_id, state, waitlist_seq, answers,
                          price_amount, created_at, updated_at)
    SELECT place.id, CAST(:course_id AS BIGINT), i.learner_id, i.state,
           place.tickets_from + i.ticket + 1, CAST(i.answers AS JSONB), i.price,
           CAST(:now AS TIMESTAMPTZ), CAST(:now AS TIMESTAMPTZ)
    FROM place CROSS JOIN i ORDER BY i.n
    RETURNING id, sequence, waitlist_seq, learner_id, state
), h AS (
    INSERT INTO booking_history (booking_id, at, actor_id, actor, to_state)
    SELECT b.id, CAST(:now AS TIMESTAMPTZ), b.learner_id, i.actor, b.state
    FROM b JOIN i ON i.learner_id = b.learner_id ORDER BY i.n
    RETURNING id, booking_id
), e AS (
    INSERT INTO outbox (channel, topic, recipient_id, booking_id, session_id, payload,
                        dedupe_key, created_at, available_at)
    SELECT 'email', r.topic, r.recipient_id, b.id, CAST(:session_id AS BIGINT),
           jsonb_set(jsonb_set(CAST(i.payload AS JSONB), '{{booking_id}}', to_jsonb(b.id)),
                     '{{sequence}}', to_jsonb(b.sequence)),
           CASE WHEN r.n = 1 THEN r.topic || ':' || b.id || ':' || h.id
                ELSE r.topic || ':' || h.id || ':' || r.recipient_id END,
           CAST(:now AS TIMESTAMPTZ), CAST(:now AS TIMESTAMPTZ)
    FROM b JOIN h ON h.booking_id = b.id JOIN i ON i.learner_id = b.learner_id
    JOIN unnest(CAST(:for_learners AS BIGINT[]), CAST(:topics AS VARCHAR[]),
                CAST(:recipients AS BIGINT[]), CAST(:nth AS INTEGER[]))
        AS r(learner_id, topic, recipient_id, n) ON r.learner_id = b.learner_id
    ORDER BY i.n, r.n
)
SELECT b.id, b.sequence, b.waitlist_seq, b.learner_id, h.id AS history_id
FROM b JOIN h ON h.booking_id = b.id
"""
)
