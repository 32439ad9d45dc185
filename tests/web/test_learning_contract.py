"""The OpenAPI document is typed and true for money, records, evidence, exemptions and programs
(issue 19): no answer is an untyped object, closed sets are enums, files have their media type,
and real answers on both databases validate against the schemas the document gives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from billing.domain.money import Money
from booking import bookings, catalogue, people, records
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.records.exemption_world import make_ex_world
from tests.web.contract_check import BINARY, Contract, document, resolve, untyped

MONEY = {
    ("POST", "/api/v1/cost-codes"),
    ("POST", "/api/v1/cost-codes/import"),
    ("GET", "/api/v1/cost-codes"),
    ("GET", "/api/v1/bookings/{booking_id}/cancellation-quote"),
    ("POST", "/api/v1/bookings/{booking_id}/waive-fee"),
    ("GET", "/api/v1/finance/journal.csv"),
}
# The card payment's page needs a card gateway: tests/billing/test_card_payments.py reads it.
PAYMENT = {("GET", "/api/v1/bookings/{booking_id}/payment")}
LEARNING = {
    ("GET", "/api/v1/records"),
    ("POST", "/api/v1/records/completions"),
    ("POST", "/api/v1/records/completions/import"),
    ("GET", "/api/v1/people/{person_id}/record"),
    ("GET", "/api/v1/me/record"),
    ("GET", "/api/v1/me/team"),
    ("GET", "/api/v1/reports/compliance"),
    ("GET", "/api/v1/courses/{course_id}/record-rules"),
    ("PUT", "/api/v1/courses/{course_id}/record-rules"),
    ("POST", "/api/v1/me/evidence"),
    ("GET", "/api/v1/evidence"),
    ("GET", "/api/v1/evidence/{evidence_id}"),
    ("GET", "/api/v1/evidence/{evidence_id}/file"),
    ("POST", "/api/v1/evidence/{evidence_id}/decision"),
    ("GET", "/api/v1/certificates/{certificate_id}"),
    ("POST", "/api/v1/programs"),
    ("PUT", "/api/v1/programs/{program_id}"),
    ("GET", "/api/v1/programs/{program_id}"),
    ("POST", "/api/v1/exemptions"),
    ("GET", "/api/v1/exemptions"),
    ("POST", "/api/v1/exemptions/{exemption_id}/decision"),
}
OURS = MONEY | PAYMENT | LEARNING
# (component, field) → the values its enum must list (a closed set the document must name).
ENUMS = {
    ("FeedItem", "type"): {"completion", "attendance"},
    ("FeedItem", "status"): {"completed", "withdrawn", "attended", "partially_attended", "no_show"},
    ("CourseRecord", "status"): {
        "complete",
        "expired",
        "in_progress",
        "booked",
        "not_complete",
        "required",
    },
    ("CourseRecord", "completion_mode"): {"all", "any"},
    ("CertificationView", "status"): {"certified", "window_open", "due", "overdue", "expired"},
    ("RequiredView", "kind"): {"renewal", "mandatory"},
    ("RequiredView", "status"): {
        "window_open",
        "due",
        "overdue",
        "expired",
        "in_progress",
        "not_started",
    },
    ("RequiredView", "via"): {"course", "renewal"},
    ("BookingSummary", "state"): {"booked", "waitlisted", "attended"},
    ("RecordPerson", "staff_type"): {"payroll", "casual", "associate", "external"},
    ("ComplianceRow", "staff_type"): {"payroll", "casual", "associate", "external"},
    ("CourseRulesView", "completion_mode"): {"all", "any"},
    ("ProgramSetView", "rule"): {"all", "any", "optional"},
    ("ProgramProgressView", "status"): {"not_started", "in_progress", "complete"},
    ("ProgramCourseStatus", "status"): {"not_started", "in_progress", "complete"},
    ("EvidenceView", "state"): {"pending", "approved", "declined"},
    ("EvidenceView", "content_type"): {"application/pdf", "image/png", "image/jpeg"},
    ("ExemptionView", "kind"): {"exemption", "extension"},
    ("ExemptionView", "state"): {"pending", "approved", "declined"},
    ("PaymentPage", "status"): {"open", "succeeded", "canceled"},
    ("PaymentPage", "booking_state"): {"pending_payment", "booked"},
    ("CostCodeImportRow", "status"): {"created", "updated", "unchanged", "error"},
    ("CompletionResult", "status"): {"accepted", "duplicate", "error"},
    ("CompletionRowResult", "status"): {"accepted", "duplicate", "error"},
    # request bodies
    ("CompletionRuleIn", "mode"): {"all", "any"},
    ("ProgramSetIn", "rule"): {"all", "any", "optional"},
    ("ExemptionIn", "kind"): {"exemption", "extension"},
    ("ExemptionDecisionIn", "decision"): {"approve", "decline"},
    ("EvidenceDecisionIn", "decision"): {"approve", "decline"},
}
FILES = {
    "/api/v1/finance/journal.csv": {"text/csv"},
    "/api/v1/certificates/{certificate_id}": {"application/pdf"},
    "/api/v1/evidence/{evidence_id}/file": {"application/pdf", "image/png", "image/jpeg"},
}
FILE_DESCRIPTION = "A PDF, PNG or JPEG file, up to 10 MB"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
POLICY = {
    "tiers": [
        {"min_notice_hours": 336, "fee_percent": 0},
        {"min_notice_hours": 168, "fee_percent": 50},
        {"min_notice_hours": 0, "fee_percent": 100},
    ],
}


def app_for(world: support.World, url: str) -> Any:
    settings = support.settings_for(url, base_url="https://training.example.org")
    return create_app(settings, clock=world.clock, run_worker=False)


@pytest.fixture
async def client(
    world: support.World, db_url: str
) -> AsyncIterator[tuple[AsyncTestClient[Any], Contract]]:
    app = app_for(world, db_url)
    contract = Contract(app, OURS)
    async with AsyncTestClient(app=app, base_url="https://training.example.org") as http:
        http.event_hooks["response"] = [contract.hook]
        yield http, contract


async def bearer(world: support.World, email: str) -> dict[str, str]:
    if email == "admin@example.org":
        return {"Authorization": f"Bearer {world.admin_token}"}
    return {
        "Authorization": f"Bearer {await people.create_token(world.db, world.clock, email=email)}"
    }


def _enum(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = resolve(doc, schema)
    values = set(schema.get("enum", []))
    for branch in schema.get("oneOf", []):
        values |= _enum(doc, branch)
    return values


def test_no_answer_or_body_of_ours_is_an_untyped_object_and_files_have_media_types(
    tmp_path: Any,
) -> None:
    doc = document(create_app(support.settings_for(f"sqlite+aiosqlite:///{tmp_path}/d.db")))
    problems = []
    for method, template in OURS:
        operation = doc["paths"][template][method.lower()]
        for status, answer in operation["responses"].items():
            if not status.startswith("2"):
                continue
            for media, content in (answer.get("content") or {}).items():
                where = f"{method} {template} {status} {media}"
                problems += [f"{where}: {p}" for p in untyped(doc, content["schema"])]
                if template in FILES:
                    assert content["schema"] == BINARY, where
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            where = f"{method} {template} body {media}"
            problems += [f"{where}: {p}" for p in untyped(doc, content["schema"])]
        success = next(s for s in operation["responses"] if s.startswith("2"))
        media_types = set(operation["responses"][success].get("content") or {})
        assert media_types == FILES.get(template, {"application/json"}), (method, template)
    assert problems == []


def test_bodies_the_handlers_read_themselves_are_documented(tmp_path: Any) -> None:
    doc = document(create_app(support.settings_for(f"sqlite+aiosqlite:///{tmp_path}/d.db")))
    paths = doc["paths"]
    for template in ("/api/v1/cost-codes/import", "/api/v1/records/completions/import"):
        assert set(paths[template]["post"]["requestBody"]["content"]) == {"text/csv"}
    form = paths["/api/v1/me/evidence"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["properties"]["file"] == {**BINARY, "description": FILE_DESCRIPTION}
    assert set(form["schema"]["required"]) == {"course_code", "completed_at", "file"}


def test_closed_sets_are_enums_in_answers_and_request_bodies(tmp_path: Any) -> None:
    doc = document(create_app(support.settings_for(f"sqlite+aiosqlite:///{tmp_path}/d.db")))
    schemas = doc["components"]["schemas"]
    for (component, field), expected in ENUMS.items():
        listed = _enum(doc, schemas[component]["properties"][field])
        assert expected <= listed, f"{component}.{field}: {sorted(listed)}"


def test_the_examples_are_valid_answers_and_bodies(tmp_path: Any) -> None:
    app = create_app(support.settings_for(f"sqlite+aiosqlite:///{tmp_path}/d.db"))
    contract = Contract(app, OURS)
    checked = 0
    for method, template in OURS:
        operation = contract.doc["paths"][template][method.lower()]
        for answer in operation["responses"].values():
            for content in (answer.get("content") or {}).values():
                for example in (content.get("examples") or {}).values():
                    contract.validate(content["schema"], example["value"])
                    checked += 1
        for content in operation.get("requestBody", {}).get("content", {}).values():
            for value in content["schema"].get("examples", []):
                contract.validate(content["schema"], value)
                checked += 1
    assert checked >= 5


async def test_money_answers_are_what_the_document_says(
    world: support.World, client: tuple[AsyncTestClient[Any], Contract]
) -> None:
    http, contract = client
    admin = await bearer(world, "admin@example.org")
    code = {
        "code": "LEE-1",
        "description": "Lee's budget",
        "budget_holder_email": "lee@example.org",
        "active_from": "2027-01-01",
        "annual_limit": {"amount": 250000, "currency": "GBP"},
    }
    assert (await http.post("/api/v1/cost-codes", json=code, headers=admin)).status_code == 201
    csv_text = (
        "code,description,budget_holder_email,active_from,active_to,annual_limit\n"
        "CH-1,Children's Services,bud@example.org,2027-01-01,2027-12-31,\n"
        "CH-2,No date,bud@example.org,someday,,\n"
    )
    imported = await http.post(
        "/api/v1/cost-codes/import",
        content=csv_text.encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert [i["status"] for i in imported.json()["items"]] == ["created", "error"]
    # Found by schemathesis: a lone \r, a value past the header and an oversized field are
    # read or refused as a bad file, never a server error.
    head = "code,description,budget_holder_email,active_from\n"
    odd = {
        head + "CH-3,Lone\rreturn,bud@example.org,2027-01-01\n": 200,
        head + "CH-1,Children's Services,bud@example.org,2027-01-01,surplus\n": 200,
        head + "CH-4," + "x" * 200_000 + ",bud@example.org,2027-01-01\n": 422,
    }
    for text, status in odd.items():
        r = await http.post(
            "/api/v1/cost-codes/import",
            content=text.encode(),
            headers={**admin, "Content-Type": "text/csv"},
        )
        assert r.status_code == status, r.text
    listed = (await http.get("/api/v1/cost-codes", headers=admin)).json()
    assert {c["code"]: c["over_limit"] for c in listed["items"]} == {"CH-1": False, "LEE-1": False}
    assert (
        await http.post("/api/v1/cost-codes/import", content=head.encode(), headers=admin)
    ).is_success

    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="MHFA", title="First Aid", price=Money(6000), cancellation_policy=POLICY),
    )
    start = world.clock.now() + timedelta(days=10)
    session_id = await support.make_session(world, course_id=course.id, start=start)
    lee = await support.actor(world.db, "lee@example.org")
    booked = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="LEE-1")
    )
    lee_auth = await bearer(world, "lee@example.org")
    quote_url = f"/api/v1/bookings/{booked.booking.id}/cancellation-quote"
    quote = (await http.get(quote_url, headers=lee_auth)).json()
    assert quote["policy_tier"]["fee_percent"] == 50 and quote["fee"]["amount"] == 3000
    cancelled = await http.post(
        f"/api/v1/bookings/{booked.booking.id}/cancel",
        json={"reason": "Work", "quoted_fee": quote["fee"]},
        headers=lee_auth,
    )
    assert cancelled.status_code == 200, cancelled.text
    waived = await http.post(
        f"/api/v1/bookings/{booked.booking.id}/waive-fee", json={"reason": "Kind"}, headers=admin
    )
    assert waived.json() == {"booking_id": booked.booking.id, "waived": quote["fee"]}
    journal = await http.get("/api/v1/finance/journal.csv", headers=admin)
    assert journal.headers["content-type"].startswith("text/csv")
    assert contract.seen == MONEY


async def _learning_world(world: support.World, url: str) -> dict[str, int]:
    """SAFE-1 and FIRE-1 mandatory (exemption_world); FA-1 a certification Lee holds, with a
    certificate; DP-1 and DP-2 for a program and for evidence."""
    ex = await make_ex_world(world, url)
    ids = {"lee": ex.ids["lee"], "safe": ex.course_id}
    for code, months in (("FA-1", 36), ("DP-1", None), ("DP-2", None)):
        made = await catalogue.create_course(
            world.db,
            world.clock,
            world.admin,
            CourseInput(code=code, title=f"Course {code}", certification_months=months),
        )
        ids[code] = made.id
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        ids["FA-1"],
        completion_mode=None,
        criteria=[],
        mandatory=False,
        due_within_days=None,
        certificate=True,
    )
    done_at = world.clock.now() - timedelta(days=200)
    accepted, _ = await records.record_completions(
        world.db,
        world.clock,
        world.admin,
        [
            records.CompletionInput(
                "FA-1", done_at, learner_email="lee@example.org", source="import"
            )
        ],
    )
    assert accepted == 1
    return ids


async def test_learning_answers_are_what_the_document_says(
    world: support.World, db_url: str, client: tuple[AsyncTestClient[Any], Contract]
) -> None:
    http, contract = client
    ids = await _learning_world(world, db_url)
    admin = await bearer(world, "admin@example.org")
    lee = await bearer(world, "lee@example.org")
    manager = await bearer(world, "manager@example.org")
    owner = await bearer(world, "owner@example.org")
    await _programs(http, admin)
    await _exemptions(http, world, admin, manager, owner)
    await _evidence(http, admin, lee)
    await _rules_and_completions(http, world, admin, ids)

    record = (await http.get("/api/v1/me/record", headers=lee)).json()
    by_code = {c["course_code"]: c for c in record["courses"]}
    assert by_code["SAFE-1"]["exemption"] == {"until": None}
    required = {r["course_code"]: r for r in record["required"]}
    assert required["FIRE-1"]["extension"] is not None
    assert required["DP-1"]["via"] == {"program": "IND"}
    assert [p["code"] for p in record["programs"]] == ["IND"]
    assert [c["status"] for c in record["certifications"]] == ["certified"]
    certificate = await http.get(by_code["FA-1"]["certificate_url"], headers=lee)
    assert certificate.headers["content-type"] == "application/pdf"
    assert (await http.get(f"/api/v1/people/{ids['lee']}/record", headers=manager)).is_success
    team = (await http.get("/api/v1/me/team", headers=manager)).json()
    assert team["members"]
    report = (await http.get("/api/v1/reports/compliance", headers=admin)).json()
    assert report["items"] and report["next_cursor"] is None
    assert contract.seen == LEARNING


async def _programs(http: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    body: dict[str, Any] = {
        "code": "IND",
        "title": "Induction",
        "audience": {"org_units": ["ADULT"]},
        "due_within_days": 30,
        "sets": [{"title": "Core", "rule": "all", "course_codes": ["DP-1"]}],
    }
    made = (await http.post("/api/v1/programs", json=body, headers=admin)).json()
    body["sets"].append({"title": "Extra", "rule": "optional", "course_codes": ["DP-2"]})
    url = f"/api/v1/programs/{made['id']}"
    assert (await http.put(url, json=body, headers=admin)).json()["audience"] == {
        "org_units": ["ADULT"]
    }
    assert len((await http.get(url, headers=admin)).json()["sets"]) == 2


async def _exemptions(
    http: AsyncTestClient[Any],
    world: support.World,
    admin: dict[str, str],
    manager: dict[str, str],
    owner: dict[str, str],
) -> None:
    base = {"learner_email": "lee@example.org", "reason": "Done elsewhere"}
    exempt = await http.post(
        "/api/v1/exemptions",
        json={**base, "course_code": "SAFE-1", "kind": "exemption"},
        headers=manager,
    )
    assert exempt.status_code == 201, exempt.text
    due = (world.clock.now() + timedelta(days=60)).isoformat()
    extend = await http.post(
        "/api/v1/exemptions",
        json={**base, "course_code": "FIRE-1", "kind": "extension", "due_at": due},
        headers=manager,
    )
    assert extend.status_code == 201, extend.text
    listed = (await http.get("/api/v1/exemptions", headers=admin)).json()
    assert len(listed["items"]) == 2 and listed["next_cursor"] is None
    for made, who in ((exempt, owner), (extend, admin)):
        decided = await http.post(
            f"/api/v1/exemptions/{made.json()['id']}/decision",
            json={"decision": "approve"},
            headers=who,
        )
        assert decided.json()["state"] == "approved"


async def _evidence(http: AsyncTestClient[Any], admin: dict[str, str], lee: dict[str, str]) -> None:
    sent = await http.post(
        "/api/v1/me/evidence",
        headers=lee,
        data={"course_code": "DP-2", "completed_at": "2026-10-01T09:00:00Z", "note": "Elsewhere"},
        files={"file": ("done.pdf", PDF, "application/octet-stream")},
    )
    assert sent.status_code == 201, sent.text
    evidence_id = sent.json()["id"]
    assert [e["id"] for e in (await http.get("/api/v1/evidence", headers=admin)).json()["items"]]
    # A digit int() does not read (found by schemathesis) is a bad cursor, not a server error.
    odd = await http.get("/api/v1/evidence", params={"cursor": "\u00b2"}, headers=admin)
    assert odd.status_code == 422 and odd.json()["field"] == "cursor"
    assert (await http.get(f"/api/v1/evidence/{evidence_id}", headers=admin)).is_success
    decided = await http.post(
        f"/api/v1/evidence/{evidence_id}/decision", json={"decision": "approve"}, headers=admin
    )
    assert decided.json()["decided_by"]["email"] == "admin@example.org"
    got = await http.get(f"/api/v1/evidence/{evidence_id}/file", headers=admin)
    assert got.content == PDF and got.headers["content-type"] == "application/pdf"


async def _rules_and_completions(
    http: AsyncTestClient[Any], world: support.World, admin: dict[str, str], ids: dict[str, int]
) -> None:
    rules_url = f"/api/v1/courses/{ids['DP-2']}/record-rules"
    assert (await http.get(rules_url, headers=admin)).json()["completion_mode"] is None
    rules = {"completion_rule": {"mode": "any", "criteria": ["DP-1"]}, "reminder_days": [1]}
    assert (await http.put(rules_url, json=rules, headers=admin)).json()["completion_mode"] == "any"
    service = await people.create_token(world.db, world.clock, service="lms", scope="records")
    lms = {"Authorization": f"Bearer {service}"}
    at = datetime(2026, 11, 1, 9, tzinfo=UTC).isoformat()
    sent = await http.post(
        "/api/v1/records/completions",
        json=[
            {"course_code": "FA-1", "completed_at": at, "learner_email": "kim@example.org"},
            {"course_code": "NOPE", "completed_at": at, "learner_email": "kim@example.org"},
        ],
        headers=lms,
    )
    assert [r["status"] for r in sent.json()["results"]] == ["accepted", "error"]
    csv_text = f"learner_email,course_code,completed_at\nkim@example.org,FA-1,{at}\n"
    imported = await http.post(
        "/api/v1/records/completions/import",
        content=csv_text.encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert [r["status"] for r in imported.json()["results"]] == ["duplicate"]
    for text, status in {
        f"learner_email,course_code,completed_at\nkim@example.org,FA-1,{at}\rx\n": 200,
        "course_code,completed_at\n" + "x" * 200_000 + ",2026-11-01\n": 422,
    }.items():
        r = await http.post(
            "/api/v1/records/completions/import",
            content=text.encode(),
            headers={**admin, "Content-Type": "text/csv"},
        )
        assert r.status_code == status, r.text
    feed = (await http.get("/api/v1/records", headers=lms)).json()
    assert {i["type"] for i in feed["items"]} == {"completion"}
