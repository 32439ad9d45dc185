"""xAPI statements (Experience API 1.0.3) for the learning record store, built from plain data.

Statement ids are deterministic (UUIDv5 over the server's base URL and what the statement is
about: a booking's registration, a numbered record change, the statement a voiding statement
voids), so a statement
queued or sent twice is the same statement, and the LRS keeps one.

Verbs: `registered` (a place is booked), `attended` (attendance marked attended or partly
attended), `completed` (a completion written from a workshop or from a course's criteria),
`withdrew` (the learner's place was cancelled) and `voided` (a statement that no longer stands:
attendance changed to no-show, a completion withdrawn, a session the organiser cancelled).
ADL's vocabulary has no verb for leaving a booked activity, so `withdrew` is minted under the
server's own base URL, like the activity ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

VERSION = "1.0.3"
# Fixed forever: changing it would give every statement a new id.
NAMESPACE = uuid.UUID("6f1c1a52-3c1e-5d63-9a3c-0b6c2b0f7a11")
ADL = "http://adlnet.gov/expapi/verbs/"
VERB_IDS = {
    "registered": ADL + "registered",
    "attended": ADL + "attended",
    "completed": ADL + "completed",
    "voided": ADL + "voided",
}
MEETING = "http://adlnet.gov/expapi/activities/meeting"
COURSE = "http://adlnet.gov/expapi/activities/course"
PLATFORM = "Workshop booking"
LANG = "en-GB"


def statement_id(base_url: str, *parts: object) -> str:
    """The id of this server's statement about `parts` (e.g. "booking", 12, "registered").
    The server's base URL is part of the name: two servers (or a test and production) sending
    to one LRS never claim the same id for different statements."""
    return str(uuid.uuid5(NAMESPACE, "/".join([base_url, *(str(p) for p in parts)])))


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    email: str

    def as_json(self) -> dict[str, Any]:
        return {"objectType": "Agent", "name": self.name, "mbox": f"mailto:{self.email}"}


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    name: str
    type: str

    def as_json(self) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": self.id,
            "definition": {"name": {LANG: self.name}, "type": self.type},
        }


def course_activity(base_url: str, course_id: int, title: str) -> Activity:
    return Activity(f"{base_url}/courses/{course_id}", title, COURSE)


def session_activity(base_url: str, session_id: int, title: str) -> Activity:
    return Activity(f"{base_url}/sessions/{session_id}", title, MEETING)


def verb(name: str, base_url: str) -> dict[str, Any]:
    iri = VERB_IDS.get(name) or f"{base_url}/xapi/verbs/{name}"
    return {"id": iri, "display": {LANG: name}}


def timestamp(at: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: the same instant always gives the same text."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def duration(length: timedelta) -> str:
    """ISO 8601 duration in hours, minutes and seconds ("PT3H", "PT1H30M")."""
    seconds = max(0, int(length.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{seconds}S" if seconds or text == "PT" else "")


def _statement(
    sid: str,
    actor: Agent,
    verb_name: str,
    obj: dict[str, Any],
    at: datetime,
    base_url: str,
    *,
    parent: Activity | None = None,
    result: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {"platform": PLATFORM, "language": LANG}
    if parent is not None:
        context["contextActivities"] = {"parent": [parent.as_json()]}
    if extensions:
        context["extensions"] = {
            f"{base_url}/xapi/extensions/{k}": v for k, v in extensions.items()
        }
    statement: dict[str, Any] = {
        "id": sid,
        "actor": actor.as_json(),
        "verb": verb(verb_name, base_url),
        "object": obj,
        "context": context,
        "timestamp": timestamp(at),
    }
    if result is not None:
        statement["result"] = result
    return statement


def about_booking(
    base_url: str,
    verb_name: str,
    *,
    booking_id: int,
    learner: Agent,
    session: Activity,
    course: Activity,
    at: datetime,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A statement about a booking on a session ("registered", "withdrew" with the reason in
    `extensions`); its id from the booking and the verb."""
    return _statement(
        statement_id(base_url, "booking", booking_id, verb_name),
        learner,
        verb_name,
        session.as_json(),
        at,
        base_url,
        parent=course,
        extensions={"booking": booking_id, **(extensions or {})},
    )


def attended(
    base_url: str,
    *,
    change_seq: int,
    booking_id: int,
    learner: Agent,
    session: Activity,
    course: Activity,
    at: datetime,
    partly: bool,
    length: timedelta,
) -> dict[str, Any]:
    """Attendance: `result.completion` is false for partial attendance."""
    return _statement(
        statement_id(base_url, "record-change", change_seq),
        learner,
        "attended",
        session.as_json(),
        at,
        base_url,
        parent=course,
        result={"completion": not partly, "duration": duration(length)},
        extensions={"booking": booking_id, "attendance": "partly" if partly else "full"},
    )


def completed(
    base_url: str,
    *,
    change_seq: int,
    learner: Agent,
    course: Activity,
    completed_at: datetime,
    expires_at: datetime | None,
    source: str,
) -> dict[str, Any]:
    extensions: dict[str, Any] = {"source": source}
    if expires_at is not None:
        extensions["expires"] = timestamp(expires_at)
    return _statement(
        statement_id(base_url, "record-change", change_seq),
        learner,
        "completed",
        course.as_json(),
        completed_at,
        base_url,
        result={"completion": True, "success": True},
        extensions=extensions,
    )


def system_agent(base_url: str) -> dict[str, Any]:
    """The booking server itself, as an account on its own home page (not an email address:
    the sender address may be a local one that LRSs refuse as an mbox)."""
    return {
        "objectType": "Agent",
        "name": "Training team",
        "account": {"homePage": base_url, "name": "workshop-booking"},
    }


def voided(base_url: str, *, target_id: str, at: datetime) -> dict[str, Any]:
    """A statement that voids `target_id` (the xAPI way to say it no longer stands), made by
    the booking server."""
    return {
        "id": statement_id(base_url, "void", target_id),
        "actor": system_agent(base_url),
        "verb": verb("voided", base_url),
        "object": {"objectType": "StatementRef", "id": target_id},
        "timestamp": timestamp(at),
    }
