"""Webhook events, queued in the transaction of the change they tell of.

One event becomes one outbox row (channel `webhook`) for each endpoint that is active, not
paused and subscribed to its type, written by one `INSERT … SELECT` over the endpoints: no
endpoint, no row, and still one statement. The row's payload is the envelope
`{id, type, created_at, data}`; the worker (booking/webhooks/delivery.py) adds to `data` what it
can read from the ids (a learner's email, a session's course code) and sends it signed."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any, Literal, TypedDict, cast, get_args

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    Insert,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import JsonB, Outbox, WebhookEndpoint

EventType = Literal[
    "booking.created",
    "booking.state_changed",
    "session.changed",
    "session.cancelled",
    "completion.recorded",
    "approval.requested",
    "approval.decided",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)


class EventPerson(TypedDict, total=False):
    """A person an event names: `id` (null: any administrator), `email` filled in when sent."""

    id: int | None
    email: str | None


class EventData(TypedDict, total=False):
    """What an event tells, by type (docs/api.md, "Webhooks"): every key any type uses, each
    present only where the type has it. Emails and course codes are filled in when sent."""

    booking_id: int | None
    session_id: int | None
    course_id: int | None
    course_code: str | None
    learner: EventPerson
    from_state: str | None
    to_state: str
    reason: str | None
    actor: str
    changed: list[str]
    attendees_told: bool
    status: str
    capacity: int
    completion_id: int
    completed_at: str | None
    expires_at: str | None
    source: str | None
    approval_id: int
    kind: str
    step: int
    approver: EventPerson
    decision: str
    comment: str | None
    decided_by: EventPerson


class WebhookEvent(TypedDict):
    """The body of every delivery: the envelope."""

    id: str
    type: EventType
    created_at: str
    data: EventData


WEBHOOK_CHANNEL = "webhook"
# Events fanned out by one statement at most (a union of one SELECT each).
_PER_STATEMENT = 20

_OUTBOX = cast(Table, Outbox.__table__)
_COLUMNS = (
    "channel",
    "topic",
    "booking_id",
    "session_id",
    "payload",
    "dedupe_key",
    "created_at",
    "available_at",
    "webhook_endpoint_id",
)


# Whether any endpoint could hear of this transaction's changes, when the use case read it with
# its other facts (`ANY_LISTENING`, a column of a query it runs anyway): False skips the fan-out
# statement, so a busy path (a booking) costs nothing more where no webhook is registered. Not
# read: the fan-out runs and finds out for itself.
LISTENING = "webhooks_listening"
ANY_LISTENING = (
    select(WebhookEndpoint.id)
    .where(WebhookEndpoint.active.is_(True), WebhookEndpoint.paused_at.is_(None))
    .exists()
    .label(LISTENING)
)


def note_listening(s: AsyncSession, listening: bool) -> None:
    """Remember for this transaction whether any endpoint listens (read by `ANY_LISTENING`)."""
    s.info[LISTENING] = bool(listening)


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def envelope(event_id: str, event_type: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """What the receiver gets (before the worker fills in what the ids name)."""
    return {"id": event_id, "type": event_type, "created_at": now.isoformat(), "data": data}


def subscribed(event_type: str) -> Any:
    """Endpoints that hear of `event_type`: an empty list of types means all of them. The JSON
    list is matched as text (`"booking.created"` with its quotes), the same on SQLite and
    PostgreSQL."""
    types = sql_cast(WebhookEndpoint.event_types, Text)
    return or_(types == "[]", types.contains(f'"{event_type}"', autoescape=True))


def _fan_out(event_type: str, n: int) -> Any:
    """One event's rows, one per listening endpoint; the `n`th event of a statement."""
    now = bindparam(f"now{n}", type_=DateTimeUTC(timezone=True))
    return select(
        literal(WEBHOOK_CHANNEL, String),
        literal(event_type, String),
        bindparam(f"booking_id{n}", type_=Integer),
        bindparam(f"session_id{n}", type_=Integer),
        bindparam(f"payload{n}", type_=JsonB),
        bindparam(f"key{n}", type_=String) + sql_cast(WebhookEndpoint.id, String),
        now,
        now,
        WebhookEndpoint.id,
    ).where(
        WebhookEndpoint.active.is_(True),
        WebhookEndpoint.paused_at.is_(None),
        subscribed(event_type),
    )


@cache
def _statement(event_types: tuple[str, ...]) -> Insert:
    """Built once per combination: building costs more than running (see kernel/history.py)."""
    selects = [_fan_out(t, n) for n, t in enumerate(event_types)]
    if len(selects) == 1:
        return insert(_OUTBOX).from_select(_COLUMNS, selects[0])
    return insert(_OUTBOX).from_select(_COLUMNS, union_all(*selects))


async def queue_events(
    s: AsyncSession,
    events: list[tuple[EventType, dict[str, Any]]],
    *,
    now: datetime,
    booking_id: int | None = None,
    session_id: int | None = None,
) -> None:
    """Queue `events` (type, data) for every listening endpoint, in one statement (none when
    the transaction already knows that no endpoint listens)."""
    if s.info.get(LISTENING) is False:
        return
    for start in range(0, len(events), _PER_STATEMENT):
        chunk = events[start : start + _PER_STATEMENT]
        await _queue(s, chunk, now=now, booking_id=booking_id, session_id=session_id)


async def _queue(
    s: AsyncSession,
    events: list[tuple[EventType, dict[str, Any]]],
    *,
    now: datetime,
    booking_id: int | None,
    session_id: int | None,
) -> None:
    await s.execute(*fan_out(events, now=now, booking_id=booking_id, session_id=session_id))


def fan_out(
    events: list[tuple[EventType, dict[str, Any]]],
    *,
    now: datetime,
    booking_id: int | None,
    session_id: int | None,
) -> tuple[Insert, dict[str, Any]]:
    """The statement queueing these events (at most `_PER_STATEMENT`) and its values."""
    params: dict[str, Any] = {}
    for n, (event_type, data) in enumerate(events):
        event_id = new_event_id()
        params |= {
            f"now{n}": now,
            f"booking_id{n}": booking_id,
            f"session_id{n}": session_id,
            f"payload{n}": envelope(event_id, event_type, now, data),
            f"key{n}": f"webhook:{event_id}:",
        }
    return _statement(tuple(t for t, _ in events)), params


async def queue_event(
    s: AsyncSession,
    event_type: EventType,
    data: dict[str, Any],
    *,
    now: datetime,
    booking_id: int | None = None,
    session_id: int | None = None,
) -> None:
    await queue_events(
        s, [(event_type, data)], now=now, booking_id=booking_id, session_id=session_id
    )
