"""Who may use which route: every API route and page, for every role, against a rule.

The routes come from the app's own route table, so a new route without a rule here fails the
test: authorisation is decided when a route is added, not discovered later. "Denied" means 401
or 403/404 from the API, and a redirect to the sign-in page (not signed in) or 403/404 from a
page; "allowed" is anything else (a 422 for an empty form still means the door was open).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from booking import approvals, bookings, catalogue, notifications, people, records, webhooks
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, RoomDetails
from tests import support
from tests.web.conftest import cached_app, person_id_of

ROLES = ("anonymous", "records", "stranger", "trainer", "manager", "owner", "admin")
EMAILS = {
    "stranger": "kim@example.org",
    "trainer": "trainer@example.org",
    "manager": "manager@example.org",
    "owner": "lee@example.org",
    "admin": "admin@example.org",
}
PEOPLE = {"stranger", "trainer", "manager", "owner", "admin"}
ADMIN = {"admin"}
RUN = {"trainer", "admin"}
BOOKING = {"owner", "manager", "trainer", "admin"}
ANY = "any"  # public, or guarded by something other than a role (a signed link, a signature)

# (method, path) → roles allowed. Paths as the route table writes them.
RULES: dict[tuple[str, str], Any] = {
    # public and sign-in
    ("GET", "/"): ANY,
    ("GET", "/health"): ANY,
    ("GET", "/favicon.ico"): ANY,
    ("GET", "/ready"): ANY,
    ("GET", "/login"): ANY,
    ("POST", "/login"): ANY,
    ("POST", "/logout"): ANY,
    ("GET", "/login/sso"): ANY,
    ("GET", "/login/sso/callback"): ANY,
    ("GET", "/password/forgot"): ANY,
    ("POST", "/password/forgot"): ANY,
    ("GET", "/password/reset"): ANY,
    ("POST", "/password/reset"): ANY,
    ("GET", "/calendar/{filename:str}"): ANY,
    ("GET", "/static/{file_path:path}"): ANY,
    ("POST", "/webhooks/stripe"): ANY,
    # learners' pages
    ("GET", "/courses"): PEOPLE,
    ("GET", "/courses/{course_id:int}"): PEOPLE,
    ("GET", "/sessions/{session_id:int}"): PEOPLE,
    ("GET", "/sessions/{session_id:int}/row"): PEOPLE,
    ("GET", "/sessions/{session_id:int}/book"): PEOPLE,
    ("POST", "/sessions/{session_id:int}/book"): PEOPLE,
    ("GET", "/me/bookings"): PEOPLE,
    ("GET", "/me/sessions"): PEOPLE,  # a trainer's own list; empty for anyone who runs none
    ("POST", "/me/calendar-feed/reset"): PEOPLE,
    ("GET", "/me/record"): PEOPLE,
    ("GET", "/me/record.csv"): PEOPLE,
    ("GET", "/me/record.xlsx"): PEOPLE,
    ("GET", "/me/required-learning"): PEOPLE,
    ("GET", "/team"): PEOPLE,
    ("GET", "/team.csv"): PEOPLE,
    ("GET", "/team.xlsx"): PEOPLE,
    ("GET", "/approvals"): PEOPLE,
    # An event stream never ends by itself: tests/web/test_live.py checks who may open one.
    ("GET", "/live"): ANY,
    ("GET", "/budget"): ADMIN,  # and budget holders (none of these roles holds a budget)
    # one booking
    ("GET", "/bookings/{booking_id:int}"): BOOKING,
    ("GET", "/bookings/{booking_id:int}/cancel"): BOOKING,
    ("POST", "/bookings/{booking_id:int}/cancel"): BOOKING,
    ("POST", "/bookings/{booking_id:int}/remove"): BOOKING,
    ("POST", "/bookings/{booking_id:int}/move"): RUN,
    ("POST", "/bookings/{booking_id:int}/accept"): {"owner", "admin"},
    ("POST", "/bookings/{booking_id:int}/decline"): {"owner", "admin"},
    # Only card-paid bookings have a payment (404 otherwise, for everyone): tests/billing checks
    # who may open one.
    ("GET", "/bookings/{booking_id:int}/pay"): ANY,
    # running a session
    ("GET", "/sessions/{session_id:int}/roster"): RUN,
    ("GET", "/sessions/{session_id:int}/roster/export.csv"): RUN,
    ("GET", "/sessions/{session_id:int}/roster/sign-in-sheet.pdf"): RUN,
    ("GET", "/sessions/{session_id:int}/message"): RUN,
    ("POST", "/sessions/{session_id:int}/message"): RUN,
    ("POST", "/sessions/{session_id:int}/attendance"): RUN,
    ("POST", "/sessions/{session_id:int}/attendance/all"): RUN,
    ("POST", "/sessions/{session_id:int}/add-learner"): RUN,
    # approvals
    ("POST", "/approvals/{request_id:int}/decide"): {"manager"},
    ("GET", "/approvals/{request_id:int}/{decision:str}"): {"manager"},
    # records of a person
    ("GET", "/people/{person_id:int}/record"): {"owner", "manager", "admin"},
    ("GET", "/people/{person_id:int}/record.csv"): {"owner", "manager", "admin"},
    ("GET", "/people/{person_id:int}/record.xlsx"): {"owner", "manager", "admin"},
    # administrators' pages
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/compliance"): ADMIN,
    ("GET", "/admin/compliance.csv"): ADMIN,
    ("GET", "/admin/compliance.xlsx"): ADMIN,
    ("GET", "/admin/cost-codes"): ADMIN,
    ("POST", "/admin/cost-codes"): ADMIN,
    ("POST", "/admin/cost-codes/import"): ADMIN,
    ("GET", "/admin/courses/{course_id:int}/demand"): ADMIN,
    ("GET", "/admin/courses/{course_id:int}/sessions/new"): ADMIN,
    ("POST", "/admin/courses/{course_id:int}/sessions/new"): ADMIN,
    ("GET", "/admin/finance/journal.csv"): ADMIN,
    ("GET", "/admin"): ADMIN,
    ("GET", "/admin/outbox"): ADMIN,
    ("GET", "/admin/people"): ADMIN,
    ("GET", "/admin/people/{person_id:int}"): ADMIN,
    ("POST", "/admin/people/{person_id:int}/roles"): ADMIN,
    ("POST", "/admin/people/{person_id:int}/deactivate"): ADMIN,
    ("POST", "/admin/people/{person_id:int}/reactivate"): ADMIN,
    ("GET", "/admin/units"): ADMIN,
    ("GET", "/admin/people/import"): ADMIN,
    ("POST", "/admin/people/import"): ADMIN,
    ("POST", "/admin/people/import/confirm"): ADMIN,
    ("GET", "/admin/units/import"): ADMIN,
    ("POST", "/admin/units/import"): ADMIN,
    ("POST", "/admin/units/import/confirm"): ADMIN,
    ("GET", "/admin/outbox/{outbox_id:int}"): ADMIN,
    ("POST", "/admin/outbox/{outbox_id:int}/requeue"): ADMIN,
    ("GET", "/admin/records/import"): ADMIN,
    ("GET", "/admin/tokens"): ADMIN,
    ("POST", "/admin/tokens"): ADMIN,
    ("GET", "/admin/tokens/{token_id:int}/revoke"): ADMIN,
    ("POST", "/admin/tokens/{token_id:int}/revoke"): ADMIN,
    ("GET", "/admin/rooms"): ADMIN,
    ("GET", "/admin/rooms/new"): ADMIN,
    ("POST", "/admin/rooms/new"): ADMIN,
    ("GET", "/admin/rooms/{room_id:int}"): ADMIN,
    ("GET", "/admin/rooms/{room_id:int}/edit"): ADMIN,
    ("POST", "/admin/rooms/{room_id:int}/edit"): ADMIN,
    ("POST", "/admin/records/import"): ADMIN,
    ("GET", "/sessions/{session_id:int}/edit"): ADMIN,
    ("POST", "/sessions/{session_id:int}/edit"): ADMIN,
    ("GET", "/sessions/{session_id:int}/copy"): ADMIN,
    ("POST", "/sessions/{session_id:int}/copy"): ADMIN,
    ("GET", "/sessions/{session_id:int}/cancel-session"): ADMIN,
    ("POST", "/sessions/{session_id:int}/cancel-session"): ADMIN,
    # the JSON API
    # A service token sees itself (its name, scope and last use), with no person.
    ("GET", "/api/v1/me"): PEOPLE | {"records"},
    ("GET", "/api/v1/me/bookings"): PEOPLE,
    ("GET", "/api/v1/me/record"): PEOPLE,
    ("GET", "/api/v1/me/team"): PEOPLE,
    ("GET", "/api/v1/courses"): PEOPLE,
    ("GET", "/api/v1/courses/{course_id:int}"): PEOPLE,
    ("GET", "/api/v1/courses/{course_id:int}/eligibility"): PEOPLE,
    ("GET", "/api/v1/sessions/{session_id:int}"): PEOPLE,
    ("POST", "/api/v1/sessions/{session_id:int}/bookings"): PEOPLE,
    ("GET", "/api/v1/approvals"): PEOPLE,
    ("GET", "/api/v1/bookings/{booking_id:int}"): BOOKING,
    ("POST", "/api/v1/bookings/{booking_id:int}/cancel"): BOOKING,
    ("GET", "/api/v1/bookings/{booking_id:int}/cancellation-quote"): BOOKING,
    ("GET", "/api/v1/bookings/{booking_id:int}/payment"): ANY,
    ("POST", "/api/v1/bookings/{booking_id:int}/accept"): {"owner", "admin"},
    ("POST", "/api/v1/bookings/{booking_id:int}/decline"): {"owner", "admin"},
    ("POST", "/api/v1/bookings/{booking_id:int}/move"): RUN,
    ("POST", "/api/v1/bookings/{booking_id:int}/waive-fee"): ADMIN,
    ("GET", "/api/v1/sessions/{session_id:int}/roster"): RUN,
    ("GET", "/api/v1/sessions/{session_id:int}/roster.csv"): RUN,
    ("GET", "/api/v1/sessions/{session_id:int}/sign-in-sheet.pdf"): RUN,
    ("POST", "/api/v1/sessions/{session_id:int}/attendance"): RUN,
    ("POST", "/api/v1/sessions/{session_id:int}/messages"): RUN,
    ("POST", "/api/v1/approvals/{request_id:int}/decision"): {"manager"},
    ("GET", "/api/v1/people/{person_id:int}/record"): {"owner", "manager", "admin"},
    ("GET", "/api/v1/records"): {"records", "admin"},
    ("POST", "/api/v1/records/completions"): {"records", "admin"},
    ("POST", "/api/v1/records/completions/import"): ADMIN,
    ("POST", "/api/v1/courses"): ADMIN,
    ("PUT", "/api/v1/courses/{course_id:int}"): ADMIN,
    # Issue 15: the rules are administrators' business, to read as to change.
    ("GET", "/api/v1/courses/{course_id:int}/record-rules"): ADMIN,
    ("PUT", "/api/v1/courses/{course_id:int}/record-rules"): ADMIN,
    ("POST", "/api/v1/courses/{course_id:int}/sessions"): ADMIN,
    ("GET", "/api/v1/courses/{course_id:int}/demand"): ADMIN,
    ("PATCH", "/api/v1/sessions/{session_id:int}"): ADMIN,
    ("POST", "/api/v1/sessions/{session_id:int}/cancel"): ADMIN,
    ("POST", "/api/v1/sessions/{session_id:int}/copy"): ADMIN,
    ("POST", "/api/v1/sessions/{session_id:int}/invite-waitlisted"): ADMIN,
    ("PUT", "/api/v1/org-units"): ADMIN,
    ("PUT", "/api/v1/people"): ADMIN,
    ("GET", "/api/v1/cost-codes"): ADMIN,
    ("POST", "/api/v1/cost-codes"): ADMIN,
    ("POST", "/api/v1/cost-codes/import"): ADMIN,
    ("GET", "/api/v1/finance/journal.csv"): ADMIN,
    ("GET", "/api/v1/reports/compliance"): ADMIN,
    # Catalogue administration (courses): the list, the form, copy, archive and restore.
    ("GET", "/admin/courses"): ADMIN,
    ("GET", "/admin/courses/new"): ADMIN,
    ("POST", "/admin/courses/new"): ADMIN,
    ("GET", "/admin/courses/{course_id:int}"): ADMIN,
    ("POST", "/admin/courses/{course_id:int}"): ADMIN,
    ("GET", "/admin/courses/{course_id:int}/copy"): ADMIN,
    ("GET", "/admin/courses/{course_id:int}/archive"): ADMIN,
    ("POST", "/admin/courses/{course_id:int}/archive"): ADMIN,
    ("POST", "/admin/courses/{course_id:int}/restore"): ADMIN,
    # Account requests: the public form and its link, the administrators' queue
    ("GET", "/account-request"): ANY,
    ("POST", "/account-request"): ANY,
    ("GET", "/account-request/confirm"): ANY,
    ("POST", "/account-request/confirm"): ANY,
    ("GET", "/admin/account-requests"): ADMIN,
    ("POST", "/admin/account-requests/{account_request_id:int}/approve"): ADMIN,
    ("POST", "/admin/account-requests/{account_request_id:int}/decline"): ADMIN,
    # The administrators' list of every session
    ("GET", "/admin/sessions"): ADMIN,
    # Reports (issue 17): administrators only, each report's page and its two downloads.
    ("GET", "/admin/reports"): ADMIN,
    **{
        ("GET", f"/admin/reports/{name}{ext}"): ADMIN
        for name in (
            "fill-rate",
            "waitlist-demand",
            "attendance",
            "cancellations",
            "fees",
            "trainer-utilisation",
            "compliance",
        )
        for ext in ("", ".csv", ".xlsx")
    },
    # Exemptions and extensions (issue 18). The seeded request is Lee's (the "owner" here) for
    # SAFE-1, which has no owner: only administrators decide; the line manager asks.
    ("POST", "/api/v1/exemptions"): {"manager", "admin"},
    ("GET", "/api/v1/exemptions"): PEOPLE,
    ("POST", "/api/v1/exemptions/{exemption_id:int}/decision"): ADMIN,
    ("GET", "/exemptions"): PEOPLE,
    # The signed link was made for the administrator.
    ("GET", "/exemptions/{exemption_id:int}/{decision:str}"): ADMIN,
    ("POST", "/exemptions/{exemption_id:int}/decide"): ADMIN,
    ("GET", "/team/{person_id:int}/exemptions/new"): {"manager", "admin"},
    ("POST", "/team/{person_id:int}/exemptions/new"): {"manager", "admin"},
    # Certificates and evidence (issue 18). The seeded evidence and certificate are the
    # owner's (Lee's); the manager is Lee's line manager. SAFE-1 has no course owner, so only
    # administrators decide its evidence.
    ("POST", "/me/evidence"): PEOPLE,
    ("GET", "/evidence"): ADMIN,
    ("POST", "/evidence/{evidence_id:int}/decision"): ADMIN,
    ("GET", "/evidence/{evidence_id:int}/file"): {"owner", "manager", "admin"},
    ("GET", "/certificates/{certificate_id:int}/pdf"): {"owner", "manager", "admin"},
    ("GET", "/certificates/{code:str}"): ANY,
    ("POST", "/api/v1/me/evidence"): PEOPLE,
    ("GET", "/api/v1/evidence"): ADMIN,
    ("GET", "/api/v1/evidence/{evidence_id:int}"): {"owner", "manager", "admin"},
    ("GET", "/api/v1/evidence/{evidence_id:int}/file"): {"owner", "manager", "admin"},
    ("POST", "/api/v1/evidence/{evidence_id:int}/decision"): ADMIN,
    ("GET", "/api/v1/certificates/{certificate_id:int}"): {"owner", "manager", "admin"},
    # Learning programs (issue 18): anyone with a token reads one (the records service too);
    # administrators write them; a learner's own pages.
    ("POST", "/api/v1/programs"): ADMIN,
    ("PUT", "/api/v1/programs/{program_id:int}"): ADMIN,
    ("GET", "/api/v1/programs/{program_id:int}"): PEOPLE | {"records"},
    ("GET", "/me/programs"): PEOPLE,
    ("GET", "/programs/{program_id:int}"): PEOPLE,
    ("GET", "/admin/programs"): ADMIN,
    ("GET", "/admin/programs/new"): ADMIN,
    ("POST", "/admin/programs/new"): ADMIN,
    ("GET", "/admin/programs/{program_id:int}/edit"): ADMIN,
    ("POST", "/admin/programs/{program_id:int}/edit"): ADMIN,
    # Outgoing webhooks (issue 19): administrators only, API and pages.
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id:int}"): ADMIN,
    ("PATCH", "/api/v1/webhooks/{webhook_id:int}"): ADMIN,
    ("DELETE", "/api/v1/webhooks/{webhook_id:int}"): ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id:int}/deliveries"): ADMIN,
    ("POST", "/api/v1/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/resend"): ADMIN,
    ("GET", "/admin/webhooks"): ADMIN,
    ("POST", "/admin/webhooks"): ADMIN,
    ("GET", "/admin/webhooks/{webhook_id:int}"): ADMIN,
    ("POST", "/admin/webhooks/{webhook_id:int}"): ADMIN,
    ("POST", "/admin/webhooks/{webhook_id:int}/activate"): ADMIN,
    ("POST", "/admin/webhooks/{webhook_id:int}/delete"): ADMIN,
    ("POST", "/admin/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/resend"): ADMIN,
}
# The OpenAPI document and its viewer are public by design.
SCHEMA_ROUTES = {"/api/v1", "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/{path:str}"}


@dataclass
class Ids:
    session: int
    other_session: int
    booking: int
    course: int
    request: int
    outbox: int
    person: int
    feed: str
    link_token: str
    room: int = 0
    token: int = 0
    account_request: int = 0
    exemption: int = 0
    exemption_token: str = ""
    evidence: int = 0
    certificate: int = 0
    program: int = 0
    webhook: int = 0
    delivery: int = 0


async def seed(world: support.World) -> Ids:
    db, clock = world.db, world.clock
    # A webhook endpoint first, so the booking below queues its deliveries.
    hook = await webhooks.create_webhook(
        db,
        clock,
        world.admin,
        webhooks.WebhookInput(url="https://93.184.215.14/hooks", event_types=[]),
        allow_private=False,
    )
    session = await support.make_session(world, capacity=5, facilitators=["trainer@example.org"])
    other = await support.make_session(world, capacity=5, start=clock.now() + timedelta(days=20))
    lee = await support.actor(db, "lee@example.org")
    booking = await bookings.book_place(db, clock, lee, BookingRequest(session))
    gated = await catalogue.create_course(
        db, clock, world.admin, CourseInput(code="GATED", title="Gated", approval=["manager"])
    )
    gated_session = await support.make_session(
        world, course_id=gated.id, start=clock.now() + timedelta(days=30)
    )
    await bookings.book_place(db, clock, lee, BookingRequest(gated_session))
    manager = await support.actor(db, "manager@example.org")
    request = (await approvals.list_waiting(db, clock, manager))[0]
    outbox = (await notifications.list_outbox(db, world.admin))[0]
    feed = await notifications.calendar_token(db, lee)
    link = approvals.decision_link(
        support.settings_for("sqlite://"),
        request.id,
        manager.person_id or 0,
        "approve",
        clock.now(),
    )
    room = await catalogue.create_room(db, clock, world.admin, RoomDetails(name="Matrix room"))
    token = await people.create_service_token(
        db, clock, world.admin, name="Matrix feed", scope="records"
    )
    account_request = await support.waiting_account_request(world)
    (exemption,) = await records.request_exemptions(
        db,
        clock,
        world.admin,
        records.ExemptionInput("lee@example.org", ["SAFE-1"], "exemption", "Matrix"),
    )
    exemption_link = notifications.exemption_link(
        support.settings_for("sqlite://"),
        exemption.id,
        world.admin.person_id or 0,
        "approve",
        clock.now(),
    )
    evidence, certificate = await _evidence_and_certificate(world, lee)
    program = await records.create_program(
        db, clock, world.admin, records.ProgramInput(code="MTX", title="Matrix program")
    )
    return Ids(
        session,
        other,
        booking.booking.id,
        world.course_id,
        request.id,
        outbox.id,
        lee.person_id or 0,
        feed,
        link.partition("?t=")[2],
        room.id,
        token.id,
        account_request,
        exemption.id,
        exemption_link.partition("?t=")[2],
        evidence,
        certificate,
        program.id,
        hook.id,
        (await webhooks.list_deliveries(db, world.admin, hook.id))[0][0].id,
    )


async def _evidence_and_certificate(world: support.World, lee: Any) -> tuple[int, int]:
    """Lee's evidence for SAFE-1 (pending), and Lee's certificate of a course that awards one."""
    db, clock = world.db, world.clock
    sent = await records.send_evidence(
        db,
        clock,
        lee,
        records.EvidenceUpload("SAFE-1", clock.now(), None, "cert.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    awarding = await catalogue.create_course(
        db, clock, world.admin, CourseInput(code="CERT-1", title="Certified")
    )
    await records.set_course_rules(
        db,
        clock,
        world.admin,
        awarding.id,
        completion_mode=None,
        criteria=[],
        mandatory=False,
        due_within_days=None,
        certificate=True,
    )
    await records.record_completions(
        db,
        clock,
        world.admin,
        [records.CompletionInput("CERT-1", clock.now(), learner_email="lee@example.org")],
    )
    record = await records.my_record(db, clock, lee)
    course = next(c for c in record.courses if c.course_code == "CERT-1")
    assert course.certificate_id is not None
    return sent.id, course.certificate_id


def concrete(path: str, ids: Ids) -> str:
    values = {
        "session_id": ids.session,
        "booking_id": ids.booking,
        "course_id": ids.course,
        "request_id": ids.request,
        "outbox_id": ids.outbox,
        "person_id": ids.person,
        "room_id": ids.room,
        "token_id": ids.token,
        "account_request_id": ids.account_request,
        "exemption_id": ids.exemption,
        "evidence_id": ids.evidence,
        "certificate_id": ids.certificate,
        "code": "not-a-certificate-code",
        "program_id": ids.program,
        "webhook_id": ids.webhook,
        "delivery_id": ids.delivery,
        "decision": "approve",
        "filename": f"{ids.feed}.ics",
        "file_path": "app.css",
    }
    out = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)
    if path == "/approvals/{request_id:int}/{decision:str}":
        out += f"?t={ids.link_token}"
    if path == "/exemptions/{exemption_id:int}/{decision:str}":
        out += f"?t={ids.exemption_token}"
    if path == "/live":
        out += f"?sessions={ids.session}"
    return out


def api_body(method: str, path: str, ids: Ids, clock_now: Any) -> Any:
    start = clock_now + timedelta(days=40)
    date = {
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/London",
    }
    bodies: dict[str, Any] = {
        "/api/v1/approvals/{request_id:int}/decision": {"decision": "approve"},
        "/api/v1/bookings/{booking_id:int}/cancel": {"reason": "Matrix"},
        "/api/v1/bookings/{booking_id:int}/move": {
            "session_id": ids.other_session,
            "reason": "Matrix",
        },
        "/api/v1/bookings/{booking_id:int}/waive-fee": {"reason": "Matrix"},
        "/api/v1/sessions/{session_id:int}/attendance": {
            "marks": [{"booking_id": ids.booking, "status": "attended"}]
        },
        "/api/v1/sessions/{session_id:int}/messages": {"subject": "Hi", "body": "Hello"},
        "/api/v1/sessions/{session_id:int}/cancel": {"reason": "Matrix"},
        "/api/v1/sessions/{session_id:int}/copy": {"dates": [date]},
        "/api/v1/sessions/{session_id:int}": {"capacity": 6},
        "/api/v1/courses": {"code": "NEW-1", "title": "New"},
        "/api/v1/courses/{course_id:int}": {"code": "SAFE-1", "title": "Safeguarding Adults"},
        "/api/v1/courses/{course_id:int}/record-rules": {"mandatory": False},
        "/api/v1/courses/{course_id:int}/sessions": {"dates": [date], "capacity": 3},
        "/api/v1/org-units": [],
        "/api/v1/people": [],
        "/api/v1/records/completions": [],
        "/api/v1/cost-codes": {
            "code": "CC-1",
            "description": "Training",
            "budget_holder_email": "manager@example.org",
            "active_from": "2027-01-01",
        },
        "/api/v1/sessions/{session_id:int}/bookings": {},
        "/api/v1/exemptions": {
            "learner_email": "lee@example.org",
            "course_code": "SAFE-1",
            "kind": "exemption",
            "reason": "Matrix",
        },
        "/api/v1/exemptions/{exemption_id:int}/decision": {"decision": "approve"},
        "/api/v1/evidence/{evidence_id:int}/decision": {"decision": "approve"},
        "/api/v1/programs": {"code": "NEW-P", "title": "New program"},
        "/api/v1/programs/{program_id:int}": {"code": "MTX", "title": "Matrix program"},
        "/api/v1/webhooks": {"url": "https://93.184.215.14/matrix"},
        "/api/v1/webhooks/{webhook_id:int}": {"description": "Matrix"},
    }
    return bodies.get(path)


def denied(status: int, location: str, *, page: bool, anonymous: bool) -> bool:
    if page and anonymous:
        return status == 303 and location.startswith("/login")
    return status in (401, 403, 404)


@pytest.fixture
async def clients(db_url: str, world: support.World) -> AsyncIterator[dict[str, Any]]:
    """One client per role, each signed in its own way (pages: demo sign-in; API: a token)."""
    app = cached_app(db_url, demo=True)
    service_token = await people.create_token(world.db, world.clock, service="lms", scope="records")
    tokens = {"records": service_token}
    for role, email in EMAILS.items():
        tokens[role] = await people.create_token(world.db, world.clock, email=email)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as base:
        browsers: dict[str, httpx.AsyncClient] = {}
        for role in ROLES:
            client = httpx.AsyncClient(transport=base._transport, base_url=base.base_url)  # type: ignore[attr-defined]
            page = await client.get("/login")
            assert page.status_code == 200
            if role in EMAILS:
                csrf = client.cookies.get("csrftoken")
                person = await person_id_of(world, EMAILS[role])
                r = await client.post(
                    "/login", data={"person_id": str(person), "_csrf_token": csrf}
                )
                assert r.status_code == 303
            browsers[role] = client
        # The clients share the test client's transport, which closes with it.
        yield {"browsers": browsers, "tokens": tokens}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_route_has_a_rule_and_keeps_to_it(
    db_url: str, world: support.World, clients: dict[str, Any]
) -> None:
    app = cached_app(db_url, demo=True)
    routes = sorted(
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS") and route.path not in SCHEMA_ROUTES
    )
    missing = [r for r in routes if r not in RULES]
    assert not missing, f"routes without an authorisation rule: {missing}"

    failures = []
    for method, path in routes:
        allowed = RULES[(method, path)]
        if allowed == ANY:
            continue
        # A fresh world for each route: an allowed call may change it (cancel, move, ...).
        support.empty_sqlite_url(db_url)
        fresh = await support.make_world(world.db, world.clock)
        ids = await seed(fresh)
        tokens: dict[str, str] = {
            "records": await people.create_token(
                world.db, world.clock, service="lms", scope="records"
            )
        }
        for role, email in EMAILS.items():
            tokens[role] = await people.create_token(world.db, world.clock, email=email)
        url = concrete(path, ids)
        is_api = path.startswith("/api/")
        for role in ROLES:
            browser: httpx.AsyncClient = clients["browsers"][role]
            if is_api:
                headers = {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}
                body = api_body(method, path, ids, world.clock.now())
                response = await browser.request(
                    method,
                    url,
                    headers=headers,
                    follow_redirects=False,
                    **({"json": body} if body is not None else {}),
                )
            else:
                if role == "records":
                    continue  # machine tokens do not use pages
                # Sign in again: the fresh world's people have new ids and sessions.
                await _sign_in(browser, fresh, role)
                data = {"_csrf_token": browser.cookies.get("csrftoken") or ""}
                response = await browser.request(
                    method,
                    url,
                    follow_redirects=False,
                    **({"data": data} if method != "GET" else {}),
                )
            is_denied = denied(
                response.status_code,
                response.headers.get("location", ""),
                page=not is_api,
                anonymous=role == "anonymous",
            )
            expected_denied = role not in allowed
            if response.status_code >= 500 or is_denied != expected_denied:
                failures.append(
                    f"{method} {path} as {role}: {response.status_code}"
                    f" (expected {'denied' if expected_denied else 'allowed'})"
                )
    assert not failures, "\n".join(failures)


async def _sign_in(client: httpx.AsyncClient, world: support.World, role: str) -> None:
    client.cookies.delete("booking_sid")
    if role not in EMAILS:
        return
    csrf = client.cookies.get("csrftoken")
    person = await person_id_of(world, EMAILS[role])
    r = await client.post(
        "/login", data={"person_id": str(person), "_csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
