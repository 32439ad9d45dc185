"""Issue 19, the typed contract (booking side): every answer of the booking operations is a
typed schema in the OpenAPI document (no untyped object, closed sets as enums, files with their
media type), and real answers validate against the document — so the document is true."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from booking import people
from booking.clock import FixedClock
from booking.web.api.examples_core import BOOK_REQUEST, COURSE_REQUEST
from tests import support
from tests.web import test_api
from tests.web.test_api import auth, new_session, session_body

pytestmark = pytest.mark.asyncio
api = test_api.api

V1 = "/api/v1"
# The operations this part types, with their success status.
OPERATIONS = {
    ("get", "/me"): 200,
    ("get", "/me/bookings"): 200,
    ("put", "/org-units"): 200,
    ("put", "/people"): 200,
    ("get", "/courses"): 200,
    ("post", "/courses"): 201,
    ("get", "/courses/{course_id}"): 200,
    ("put", "/courses/{course_id}"): 200,
    ("get", "/courses/{course_id}/eligibility"): 200,
    ("get", "/courses/{course_id}/demand"): 200,
    ("post", "/courses/{course_id}/sessions"): 201,
    ("get", "/sessions/{session_id}"): 200,
    ("patch", "/sessions/{session_id}"): 200,
    ("post", "/sessions/{session_id}/cancel"): 200,
    ("post", "/sessions/{session_id}/copy"): 201,
    ("post", "/sessions/{session_id}/messages"): 200,
    ("post", "/sessions/{session_id}/invite-waitlisted"): 200,
    ("get", "/sessions/{session_id}/roster"): 200,
    ("post", "/sessions/{session_id}/attendance"): 200,
    ("post", "/sessions/{session_id}/bookings"): 201,
    ("get", "/bookings/{booking_id}"): 200,
    ("post", "/bookings/{booking_id}/cancel"): 200,
    ("post", "/bookings/{booking_id}/accept"): 200,
    ("post", "/bookings/{booking_id}/decline"): 200,
    ("post", "/bookings/{booking_id}/move"): 200,
    ("get", "/approvals"): 200,
    ("post", "/approvals/{request_id}/decision"): 200,
}
FILES = {
    "/sessions/{session_id}/roster.csv": "text/csv",
    "/sessions/{session_id}/sign-in-sheet.pdf": "application/pdf",
}
STATES = {"booked", "waitlisted", "offered", "cancelled", "pending_approval", "attended"}
# (component, field): a value the enum must list. Answers, then request bodies.
ENUMS = [
    ("SessionView", "status", "open"),
    ("SessionView", "waitlist_mode", "offer"),
    ("BookingView", "state", "pending_payment"),
    ("HistoryView", "to_state", "no_show"),
    ("HistoryView", "from_state", "offered"),
    ("RosterRowView", "state", "waitlisted"),
    ("MeView", "staff_type", "external"),
    ("MeView", "roles", "budget_holder"),
    ("TokenView", "scope", "records"),
    ("CourseView", "approval", "self"),
    ("AudienceView", "staff_types", "associate"),
    ("QuestionView", "kind", "yes_no"),
    ("ApprovalItem", "kind", "budget_holder"),
    ("ApprovalItem", "status", "lapsed"),
    ("ApprovalItem", "booking_state", "pending_approval"),
    ("ApprovalDecision", "status", "approved"),
    ("ApprovalWaitView", "kind", "manager"),
    ("SessionDemand", "status", "full"),
    ("OrgUnitUpserted", "status", "unchanged"),
    ("PersonUpserted", "status", "created"),
    ("SessionIn", "waitlist_mode", "off"),
    ("SessionIn", "status", "draft"),
    ("SessionPatch", "status", "open"),
    ("SessionPatch", "waitlist_mode", "auto"),
    ("MarkIn", "status", "partially_attended"),
    ("DecisionIn", "decision", "decline"),
    ("PersonIn", "staff_type", "payroll"),
    ("PersonIn", "roles", "trainer"),
    ("CourseIn", "approval", "budget_holder"),
    ("QuestionIn", "kind", "choice"),
    ("AudienceIn", "staff_types", "external"),
]


def _walk(schema: Any, doc: dict[str, Any], seen: set[str]) -> list[dict[str, Any]]:
    """Every schema reachable from `schema`, following `$ref`s once each."""
    if not isinstance(schema, dict):
        return []
    found = [schema]
    ref = schema.get("$ref")
    if ref and ref not in seen:
        seen.add(ref)
        found += _walk(doc["components"]["schemas"][ref.rsplit("/", 1)[1]], doc, seen)
    for key in ("oneOf", "anyOf", "allOf", "prefixItems"):
        for sub in schema.get(key) or []:
            found += _walk(sub, doc, seen)
    for sub in (schema.get("properties") or {}).values():
        found += _walk(sub, doc, seen)
    for key in ("items", "additionalProperties"):
        found += _walk(schema.get(key), doc, seen)
    return found


def _untyped(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    typed_map = isinstance(schema.get("additionalProperties"), dict) and bool(
        schema["additionalProperties"]
    )
    return is_object and not (schema.get("properties") or schema.get("$ref") or typed_map)


def _enum_of(field: dict[str, Any]) -> list[Any]:
    """The enum of a field, an array's items, or the non-null branch of a nullable one."""
    if "enum" in field:
        return list(field["enum"])
    if "items" in field:
        return _enum_of(field["items"])
    for branch in field.get("oneOf") or []:
        if branch.get("type") != "null":
            return _enum_of(branch)
    return []


async def _document(api: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = (await api["http"].get(f"{V1}/openapi.json")).json()
    return doc


async def test_the_booking_operations_answer_typed_schemas_with_enums(api: dict[str, Any]) -> None:
    doc = await _document(api)
    untyped = []
    for (method, path), status in OPERATIONS.items():
        content = doc["paths"][V1 + path][method]["responses"][str(status)]["content"]
        assert list(content) == ["application/json"], (method, path, content)
        for schema in _walk(content["application/json"]["schema"], doc, set()):
            if _untyped(schema):
                untyped.append(f"{method.upper()} {path}: {schema}")
    assert untyped == []
    schemas = doc["components"]["schemas"]
    missing = [
        (name, field)
        for name, field, value in ENUMS
        if value not in _enum_of(schemas[name]["properties"][field])
    ]
    assert missing == []
    # A patch's fields are plain (nullable) types: no single-entry oneOf for generators to trip on.
    for name, schema in schemas.items():
        for field, prop in (schema.get("properties") or {}).items():
            assert len(prop.get("oneOf", [None, None])) > 1, (name, field, prop)


async def test_files_are_documented_with_their_media_type(api: dict[str, Any]) -> None:
    doc = await _document(api)
    for path, media_type in FILES.items():
        content = doc["paths"][V1 + path]["get"]["responses"]["200"]["content"]
        assert list(content) == [media_type]
        assert content[media_type]["schema"]["type"] == "string"


class Checker:
    """Sends requests and holds each answer to the document's schema for its operation."""

    def __init__(self, api: dict[str, Any], doc: dict[str, Any]) -> None:
        self.http, self.tokens, self.doc = api["http"], api["tokens"], doc

    async def call(
        self, who: str, method: str, path: str, url: str, body: Any = None, status: int = 0
    ) -> Any:
        headers = auth(self.tokens[who])
        r = await self.http.request(method, V1 + url, json=body, headers=headers)
        expected = status or OPERATIONS.get((method, path), 200)
        assert r.status_code == expected, (method, url, r.text)
        content = self.doc["paths"][V1 + path][method]["responses"][str(expected)]["content"]
        if path in FILES:
            assert r.headers["content-type"].split(";")[0] == FILES[path]
            return r.content
        schema = {**content["application/json"]["schema"], "components": self.doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(r.json())
        return r.json()


def course_body(code: str, **overrides: Any) -> dict[str, Any]:
    """A course with every setting the view reads back: policy, audience, prerequisite,
    questions, terms, certification and a discount."""
    body = {
        "code": code,
        "title": "Moving and Handling",
        "summary": "Safe lifting",
        "price": {"amount": 6000, "currency": "GBP"},
        "approval": ["self"],
        "cancellation_policy": {
            "tiers": [{"min_notice_hours": 72, "fee_percent": 50}],
            "no_show_fee_percent": 100,
        },
        "audience": {"org_units": ["ADULT"], "staff_types": ["payroll"]},
        "prerequisites": [{"course_code": "SAFE-1", "within_months": 24}],
        "questions": [
            {"id": "diet", "label": "Dietary needs?"},
            {"id": "lunch", "label": "Lunch?", "kind": "choice", "choices": ["Veg", "Meat"]},
            {"id": "first", "label": "First time?", "kind": "yes_no", "required": True},
        ],
        "terms": {"text": "I will attend."},
        "certification": {"months": 12, "window_days": 30},
        "discount": {"amount": 3000, "audience": {"job_roles": ["Social Worker"]}},
    }
    body.update(overrides)
    return body


async def test_a_course_and_its_sessions_answer_what_the_document_says(
    api: dict[str, Any], clock: FixedClock
) -> None:
    c = Checker(api, await _document(api))
    course = await c.call("admin", "post", "/courses", "/courses", course_body("MH-1"))
    assert course["questions"][0] == {
        "id": "diet",
        "label": "Dietary needs?",
        "kind": "text",
        "required": False,
    }
    assert course["discount"]["price"] == {"amount": 3000, "currency": "GBP"}
    one = f"/courses/{course['id']}"
    await c.call("admin", "put", "/courses/{course_id}", one, course_body("MH-1", summary="New"))
    await c.call("lee", "get", "/courses/{course_id}", one)
    listed = await c.call("lee", "get", "/courses", "/courses")
    assert {i["code"] for i in listed["items"]} >= {"MH-1", "SAFE-1"}
    why = await c.call("kim", "get", "/courses/{course_id}/eligibility", f"{one}/eligibility")
    assert why["eligible"] is False and why["reasons"][0]["code"]
    sessions = "/courses/{course_id}/sessions"
    made = await c.call("admin", "post", sessions, f"{one}/sessions", session_body(clock))
    assert made["status"] == "open" and made["waitlist_mode"] == "auto"
    url = f"/sessions/{made['id']}"
    patch = {"capacity": None, "waitlist_mode": "offer", "virtual_link": None}
    patched = await c.call("admin", "patch", "/sessions/{session_id}", url, patch)
    assert (patched["capacity"], patched["waitlist_mode"]) == (2, "offer")
    await c.call("trainer", "get", "/sessions/{session_id}", url)
    dates = _dates(clock, days=30)
    await c.call("admin", "post", "/sessions/{session_id}/copy", f"{url}/copy", {"dates": dates})
    await c.call("admin", "get", "/courses/{course_id}/demand", f"{one}/demand")
    invite = "/sessions/{session_id}/invite-waitlisted"
    assert (await c.call("admin", "post", invite, f"{url}/invite-waitlisted")) == {"invited": 0}
    message = {"subject": "Parking", "body": "Use the back gate."}
    await c.call("admin", "post", "/sessions/{session_id}/messages", f"{url}/messages", message)
    cancel = {"reason": "Trainer unwell"}
    gone = await c.call("admin", "post", "/sessions/{session_id}/cancel", f"{url}/cancel", cancel)
    assert gone["status"] == "cancelled"
    # A closed set in a body: anything else is refused before the handler.
    bad = await api["http"].post(
        f"{V1}/courses/{course['id']}/sessions",
        json=session_body(clock, waitlist_mode="sometimes"),
        headers=auth(api["tokens"]["admin"]),
    )
    assert bad.status_code == 422


async def test_bookings_offers_and_the_roster_answer_what_the_document_says(
    api: dict[str, Any], clock: FixedClock
) -> None:
    c = Checker(api, await _document(api))
    session_id = await new_session(api, clock, capacity=1, waitlist_mode="offer")
    other_id = await new_session(api, clock, capacity=5, dates=_dates(clock, days=12))
    book = "/sessions/{session_id}/bookings"
    url = f"/sessions/{session_id}"
    lee = await c.call("lee", "post", book, f"{url}/bookings", {})
    kim = await c.call("kim", "post", book, f"{url}/bookings", {})
    tia = await c.call("trainer", "post", book, f"{url}/bookings", {})
    assert [lee["state"], kim["state"], tia["state"]] == ["booked", "waitlisted", "waitlisted"]
    got = await c.call("lee", "get", "/bookings/{booking_id}", f"/bookings/{lee['id']}")
    assert got["cancellation_quote"]["fee"]["amount"] == 0
    mine = await c.call("lee", "get", "/me/bookings", "/me/bookings")
    assert [b["id"] for b in mine["items"]] == [lee["id"]]
    roster = await c.call("trainer", "get", "/sessions/{session_id}/roster", f"{url}/roster")
    assert [r["booking_id"] for r in roster["waitlisted"]] == [kim["id"], tia["id"]]
    csv = await c.call("trainer", "get", "/sessions/{session_id}/roster.csv", f"{url}/roster.csv")
    assert b"Lee Learner" in csv
    pdf = "/sessions/{session_id}/sign-in-sheet.pdf"
    assert (await c.call("trainer", "get", pdf, f"{url}/sign-in-sheet.pdf")).startswith(b"%PDF")
    cancel = "/bookings/{booking_id}/cancel"
    gone = await c.call("lee", "post", cancel, f"/bookings/{lee['id']}/cancel", {"reason": "Ill"})
    assert gone["state"] == "cancelled"
    accepted = await c.call("kim", "post", "/bookings/{booking_id}/accept", _b(kim, "accept"))
    assert accepted["state"] == "booked"
    moved = await c.call(
        "admin", "post", "/bookings/{booking_id}/move", _b(kim, "move"), _move(other_id)
    )
    assert moved["session_id"] == other_id
    declined = await c.call("trainer", "post", "/bookings/{booking_id}/decline", _b(tia, "decline"))
    assert declined["history"][-1]["from_state"] == "offered"
    assert declined["state"] == "cancelled"
    await _attendance(c, api, other_id, moved["id"])


def _dates(clock: FixedClock, *, days: int) -> list[dict[str, str]]:
    start = clock.now() + timedelta(days=days)
    end = start + timedelta(hours=2)
    return [{"start": start.isoformat(), "end": end.isoformat(), "timezone": "Europe/London"}]


def _b(booking: dict[str, Any], action: str) -> str:
    return f"/bookings/{booking['id']}/{action}"


def _move(session_id: int) -> dict[str, Any]:
    return {"session_id": session_id, "reason": "A clash"}


async def _attendance(c: Checker, api: dict[str, Any], session_id: int, booking_id: int) -> None:
    app_clock = api["http"].app.state.clock
    view = await api["http"].get(f"{V1}/sessions/{session_id}", headers=auth(c.tokens["admin"]))
    start = view.json()["dates"][0]["start"]
    from_start = support.T0.fromisoformat(start) + timedelta(hours=1)
    app_clock.set(from_start)
    try:
        marks = {"marks": [{"booking_id": booking_id, "status": "attended"}]}
        path = "/sessions/{session_id}/attendance"
        roster = await c.call("admin", "post", path, f"/sessions/{session_id}/attendance", marks)
    finally:
        app_clock.set(support.T0)
    assert [r["state"] for r in roster["attended"]] == ["attended"]


async def test_approvals_answer_what_the_document_says(
    api: dict[str, Any], clock: FixedClock
) -> None:
    c = Checker(api, await _document(api))
    course = await c.call(
        "admin",
        "post",
        "/courses",
        "/courses",
        {"code": "LEAD", "title": "Leading", "approval": ["manager"]},
    )
    sessions = "/courses/{course_id}/sessions"
    url = f"/courses/{course['id']}/sessions"
    session = await c.call("admin", "post", sessions, url, session_body(clock))
    book = f"/sessions/{session['id']}/bookings"
    pending = await c.call("lee", "post", "/sessions/{session_id}/bookings", book, {})
    assert pending["state"] == "pending_approval"
    assert pending["approval"]["kind"] == "manager"
    await c.call("lee", "get", "/bookings/{booking_id}", f"/bookings/{pending['id']}")
    queue = await c.call("manager", "get", "/approvals", "/approvals")
    assert queue["next_cursor"] is None and len(queue["items"]) == 1
    decide = "/approvals/{request_id}/decision"
    done = await c.call(
        "manager",
        "post",
        decide,
        f"/approvals/{queue['items'][0]['id']}/decision",
        {"decision": "approve"},
    )
    assert (done["status"], done["booking"]["state"]) == ("approved", "booked")


async def test_me_and_the_hr_feed_answer_what_the_document_says(
    api: dict[str, Any], clock: FixedClock
) -> None:
    c = Checker(api, await _document(api))
    me = await c.call("lee", "get", "/me", "/me")
    assert (me["email"], me["staff_type"], me["token"]["scope"]) == (
        "lee@example.org",
        "payroll",
        "person",
    )
    c.tokens["lms"] = await people.create_token(api["db"], clock, service="lms", scope="records")
    service = await c.call("lms", "get", "/me", "/me")
    assert (service["id"], service["token"]["name"], service["token"]["scope"]) == (
        None,
        "lms",
        "records",
    )
    # Its last use is noted as it is used (the app's own clock).
    assert service["token"]["last_used_at"] is not None
    units = [{"code": "ADULT", "name": "Adult Services", "parent_code": "ORG"}]
    units.append({"code": "OT", "name": "Occupational Therapy", "parent_code": "ADULT"})
    done = await c.call("admin", "put", "/org-units", "/org-units", units)
    assert [(u["code"], u["status"]) for u in done["items"]] == [
        ("ADULT", "unchanged"),
        ("OT", "created"),
    ]
    person = {"email": "new@example.org", "name": "New Starter", "staff_type": "casual"}
    added = await c.call("admin", "put", "/people", "/people", [person])
    assert [(p["email"], p["status"]) for p in added["items"]] == [("new@example.org", "created")]
    bad = await api["http"].put(
        f"{V1}/people", json=[{**person, "staff_type": "boss"}], headers=auth(c.tokens["admin"])
    )
    assert bad.status_code == 422


async def test_the_examples_keep_to_the_document(api: dict[str, Any]) -> None:
    doc = await _document(api)
    for path, example in (
        ("/sessions/{session_id}/bookings", BOOK_REQUEST),
        ("/courses", COURSE_REQUEST),
    ):
        schema = doc["paths"][V1 + path]["post"]["requestBody"]["content"]["application/json"]
        schema = schema["schema"]
        # The example as the document serves it.
        assert schema["examples"] == [example.value]
        whole = {**schema, "components": doc["components"]}
        jsonschema.Draft202012Validator(whole).validate(schema["examples"][0])
