"""The JSON API over HTTP: shapes, status codes, problem details, idempotency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from booking import people
from booking.clock import FixedClock
from booking.db import Database
from booking.models import Booking, BookingHistory, Outbox, Session
from tests import support
from tests.web.conftest import cached_app

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def api(db_url: str, clock: FixedClock) -> AsyncIterator[dict[str, Any]]:
    settings = support.settings_for(db_url)
    seed = Database(settings)
    world = await support.make_world(seed, clock)
    tokens = {
        "admin": world.admin_token,
        "lee": await people.create_token(seed, clock, email="lee@example.org"),
        "kim": await people.create_token(seed, clock, email="kim@example.org"),
        "manager": await people.create_token(seed, clock, email="manager@example.org"),
        "trainer": await people.create_token(seed, clock, email="trainer@example.org"),
    }
    app = cached_app(db_url, demo=False)
    async with AsyncTestClient(app=app) as http:
        yield {"http": http, "tokens": tokens, "world": world, "db": seed}
    await seed.dispose()


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def session_body(clock: FixedClock, **overrides: Any) -> dict[str, Any]:
    start = clock.now() + timedelta(days=10)
    body = {
        "dates": [
            {
                "start": start.isoformat(),
                "end": (start + timedelta(hours=3)).isoformat(),
                "timezone": "Europe/London",
            }
        ],
        "capacity": 2,
        "room": {"name": "Room 1", "address": "Town Hall"},
        "facilitators": ["trainer@example.org"],
    }
    body.update(overrides)
    return body


async def counts(db: Database) -> tuple[int, int, int, int]:
    async with db.reading() as s:
        return (
            await s.scalar(select(func.count()).select_from(Booking)) or 0,
            await s.scalar(select(func.count()).select_from(BookingHistory)) or 0,
            await s.scalar(select(func.count()).select_from(Outbox)) or 0,
            await s.scalar(select(func.count()).select_from(Session)) or 0,
        )


async def new_session(api: dict[str, Any], clock: FixedClock, **overrides: Any) -> int:
    http = api["http"]
    course_id = api["world"].course_id
    r = await http.post(
        f"/api/v1/courses/{course_id}/sessions",
        json=session_body(clock, **overrides),
        headers=auth(api["tokens"]["admin"]),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_health_and_openapi_need_no_token(api: dict[str, Any]) -> None:
    http = api["http"]
    assert (await http.get("/health")).json() == {"status": "ok"}
    schema = (await http.get("/api/v1/openapi.json")).json()
    assert "/api/v1/sessions/{session_id}/bookings" in schema["paths"]


async def test_no_or_bad_token_is_401_problem(api: dict[str, Any]) -> None:
    http = api["http"]
    r = await http.get("/api/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/api/v1/me", headers=auth("bk_nonsense"))).status_code == 401


async def test_me_shows_roles(api: dict[str, Any]) -> None:
    r = await api["http"].get("/api/v1/me", headers=auth(api["tokens"]["trainer"]))
    assert r.status_code == 200
    body = r.json()
    assert body["email"] == "trainer@example.org"
    assert set(body["roles"]) == {"learner", "trainer"}


async def test_book_waitlist_cancel_promotes_in_order(
    api: dict[str, Any], clock: FixedClock
) -> None:
    http, tokens = api["http"], api["tokens"]
    session_id = await new_session(api, clock, capacity=1)
    first = await http.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["lee"])
    )
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "booked"
    second = await http.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["kim"])
    )
    assert second.json()["state"] == "waitlisted"
    assert second.json()["waitlist_position"] == 1

    session = (await http.get(f"/api/v1/sessions/{session_id}", headers=auth(tokens["kim"]))).json()
    assert (session["capacity"], session["booked"], session["waitlisted"]) == (1, 1, 1)
    assert session["status"] == "full"
    assert session["dates"][0]["timezone"] == "Europe/London"

    cancel = await http.post(
        f"/api/v1/bookings/{first.json()['id']}/cancel",
        json={"reason": "Illness"},
        headers=auth(tokens["lee"]),
    )
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["state"] == "cancelled"
    assert cancel.json()["fee"] == {"amount": 0, "currency": "GBP"}
    promoted = await http.get(
        f"/api/v1/bookings/{second.json()['id']}", headers=auth(tokens["kim"])
    )
    assert promoted.json()["state"] == "booked"
    history = promoted.json()["history"]
    assert [(h["from_state"], h["to_state"]) for h in history] == [
        (None, "waitlisted"),
        ("waitlisted", "booked"),
    ]
    assert history[1]["actor"] == "system"


async def test_refusals_change_nothing(api: dict[str, Any], clock: FixedClock) -> None:
    http, tokens, db = api["http"], api["tokens"], api["db"]
    session_id = await new_session(api, clock, capacity=5)
    ok = await http.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["lee"])
    )
    assert ok.status_code == 201
    before = await counts(db)

    malformed = await http.post(
        f"/api/v1/sessions/{session_id}/bookings",
        content=b"{not json",
        headers=auth(tokens["kim"], **{"content-type": "application/json"}),
    )
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")

    unknown = await http.post(
        "/api/v1/sessions/999999/bookings", json={}, headers=auth(tokens["kim"])
    )
    assert unknown.status_code == 404
    assert (
        await http.get("/api/v1/bookings/999999", headers=auth(tokens["kim"]))
    ).status_code == 404

    twice = await http.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["lee"])
    )
    assert twice.status_code == 409
    reasons = twice.json()["reasons"]
    assert reasons[0]["code"] == "already_booked"
    assert reasons[0]["booking_id"] == ok.json()["id"]
    assert reasons[0]["message"]

    course = f"/api/v1/courses/{api['world'].course_id}/sessions"
    negative = await http.post(
        course, json=session_body(clock, capacity=-1), headers=auth(tokens["admin"])
    )
    assert negative.status_code == 422
    assert "negative" in negative.json()["detail"]
    body = session_body(clock)
    body["dates"][0]["end"] = body["dates"][0]["start"]
    backwards = await http.post(course, json=body, headers=auth(tokens["admin"]))
    assert backwards.status_code == 422
    assert "after its start" in backwards.json()["detail"]
    body = session_body(clock)
    body["dates"][0]["timezone"] = "Mars/Olympus_Mons"
    bad_zone = await http.post(course, json=body, headers=auth(tokens["admin"]))
    assert bad_zone.status_code == 422
    assert "time zone" in bad_zone.json()["detail"]
    wrong_type = await http.post(
        course, json=session_body(clock, capacity="lots"), headers=auth(tokens["admin"])
    )
    assert wrong_type.status_code == 422

    no_reason = await http.post(
        f"/api/v1/bookings/{ok.json()['id']}/cancel",
        json={"reason": "  "},
        headers=auth(tokens["lee"]),
    )
    assert no_reason.status_code == 422
    too_long = await http.post(
        f"/api/v1/bookings/{ok.json()['id']}/cancel",
        json={"reason": "x" * 501},
        headers=auth(tokens["lee"]),
    )
    assert too_long.status_code == 422
    not_admin = await http.post(course, json=session_body(clock), headers=auth(tokens["lee"]))
    assert not_admin.status_code == 403

    assert await counts(db) == before


async def test_idempotency_key_replays_and_rejects_other_body(
    api: dict[str, Any], clock: FixedClock
) -> None:
    http, tokens, db = api["http"], api["tokens"], api["db"]
    session_id = await new_session(api, clock, capacity=3)
    headers = auth(tokens["lee"], **{"Idempotency-Key": "abc-123"})
    url = f"/api/v1/sessions/{session_id}/bookings"
    first = await http.post(url, json={"special_requirements": "Step-free"}, headers=headers)
    again = await http.post(url, json={"special_requirements": "Step-free"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    before = await counts(db)
    other = await http.post(url, json={"special_requirements": "Other"}, headers=headers)
    assert other.status_code == 422
    assert await counts(db) == before


async def test_capacity_changes(api: dict[str, Any], clock: FixedClock) -> None:
    http, tokens = api["http"], api["tokens"]
    session_id = await new_session(api, clock, capacity=1)
    await http.post(f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["lee"]))
    waiting = await http.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["kim"])
    )
    assert waiting.json()["state"] == "waitlisted"
    lower = await http.patch(
        f"/api/v1/sessions/{session_id}", json={"capacity": 0}, headers=auth(tokens["admin"])
    )
    assert lower.status_code == 409
    assert "below" in lower.json()["detail"]
    raise_ = await http.patch(
        f"/api/v1/sessions/{session_id}", json={"capacity": 2}, headers=auth(tokens["admin"])
    )
    assert raise_.status_code == 200
    assert raise_.json()["booked"] == 2
    kim = await http.get(f"/api/v1/bookings/{waiting.json()['id']}", headers=auth(tokens["kim"]))
    assert kim.json()["state"] == "booked"


async def test_roster_visibility_and_order(api: dict[str, Any], clock: FixedClock) -> None:
    http, tokens = api["http"], api["tokens"]
    session_id = await new_session(api, clock, capacity=0)
    for who in ("kim", "lee"):
        r = await http.post(
            f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens[who])
        )
        assert r.json()["state"] == "waitlisted"
    learner = await http.get(f"/api/v1/sessions/{session_id}/roster", headers=auth(tokens["lee"]))
    assert learner.status_code == 403
    roster = await http.get(
        f"/api/v1/sessions/{session_id}/roster", headers=auth(tokens["trainer"])
    )
    assert roster.status_code == 200
    waitlisted = roster.json()["waitlisted"]
    assert [w["learner"]["email"] for w in waitlisted] == ["kim@example.org", "lee@example.org"]
    assert [w["waitlist_position"] for w in waitlisted] == [1, 2]


async def test_booking_hidden_from_other_learners(api: dict[str, Any], clock: FixedClock) -> None:
    http, tokens = api["http"], api["tokens"]
    session_id = await new_session(api, clock, capacity=3)
    lee = await http.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["lee"])
    )
    booking_url = f"/api/v1/bookings/{lee.json()['id']}"
    assert (await http.get(booking_url, headers=auth(tokens["kim"]))).status_code == 404
    assert (await http.get(booking_url, headers=auth(tokens["manager"]))).status_code == 200
    assert (await http.get(booking_url, headers=auth(tokens["trainer"]))).status_code == 200
    kim_cancels = await http.post(
        f"{booking_url}/cancel", json={"reason": "x"}, headers=auth(tokens["kim"])
    )
    assert kim_cancels.status_code == 404


async def test_cancel_session_cancels_everyone(api: dict[str, Any], clock: FixedClock) -> None:
    http, tokens = api["http"], api["tokens"]
    session_id = await new_session(api, clock, capacity=1)
    for who in ("lee", "kim"):
        await http.post(
            f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens[who])
        )
    r = await http.post(
        f"/api/v1/sessions/{session_id}/cancel",
        json={"reason": "Trainer ill"},
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert (r.json()["booked"], r.json()["waitlisted"]) == (0, 0)
    mine = await http.get("/api/v1/me/bookings", headers=auth(tokens["kim"]))
    assert [b["state"] for b in mine.json()["items"]] == ["cancelled"]
    again = await http.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=auth(tokens["kim"])
    )
    assert again.status_code == 409
    assert again.json()["reasons"][0]["code"] == "session_cancelled"


async def test_manager_books_for_a_report_but_not_for_others(
    api: dict[str, Any], clock: FixedClock
) -> None:
    http, tokens = api["http"], api["tokens"]
    session_id = await new_session(api, clock, capacity=3)
    url = f"/api/v1/sessions/{session_id}/bookings"
    for_report = await http.post(
        url, json={"learner_email": "lee@example.org"}, headers=auth(tokens["manager"])
    )
    assert for_report.status_code == 201, for_report.text
    assert for_report.json()["learner"]["email"] == "lee@example.org"
    assert for_report.json()["history"][0]["actor"] == "manager@example.org"
    not_mine = await http.post(
        url, json={"learner_email": "trainer@example.org"}, headers=auth(tokens["lee"])
    )
    assert not_mine.status_code == 403


async def test_records_token_cannot_use_the_catalogue(api: dict[str, Any]) -> None:
    token = await people.create_token(
        api["db"], FixedClock(support.T0), service="lms", scope="records"
    )
    r = await api["http"].get("/api/v1/courses", headers=auth(token))
    assert r.status_code == 403


async def test_course_create_update_and_search(api: dict[str, Any]) -> None:
    http, tokens = api["http"], api["tokens"]
    body = {
        "code": "MHFA",
        "title": "Mental Health First Aid",
        "price": {"amount": 15000, "currency": "GBP"},
        "approval": ["manager"],
        "audience": {"org_units": ["ADULT"]},
        "cancellation_policy": {
            "tiers": [
                {"min_notice_hours": 336, "fee_percent": 0},
                {"min_notice_hours": 0, "fee_percent": 100},
            ],
            "no_show_fee_percent": 100,
        },
    }
    created = await http.post("/api/v1/courses", json=body, headers=auth(tokens["admin"]))
    assert created.status_code == 201, created.text
    assert created.json()["price"] == {"amount": 15000, "currency": "GBP"}
    duplicate = await http.post("/api/v1/courses", json=body, headers=auth(tokens["admin"]))
    assert duplicate.status_code == 409
    bad_unit = await http.post(
        "/api/v1/courses",
        json={**body, "code": "X1", "audience": {"org_units": ["NOPE"]}},
        headers=auth(tokens["admin"]),
    )
    assert bad_unit.status_code == 422
    course_id = created.json()["id"]
    updated = await http.put(
        f"/api/v1/courses/{course_id}",
        json={**body, "title": "Mental Health First Aid (2 days)"},
        headers=auth(tokens["admin"]),
    )
    assert updated.status_code == 200
    found = await http.get("/api/v1/courses?q=mental+aid", headers=auth(tokens["lee"]))
    assert [c["code"] for c in found.json()["items"]] == ["MHFA"]
    assert found.json()["items"][0]["title"] == "Mental Health First Aid (2 days)"
    assert found.json()["next_cursor"] is None


async def test_audience_refusal_is_422_with_reasons(api: dict[str, Any], clock: FixedClock) -> None:
    http, tokens = api["http"], api["tokens"]
    created = await http.post(
        "/api/v1/courses",
        json={
            "code": "KIDS",
            "title": "Children's Services induction",
            "audience": {"org_units": ["CHILD"]},
        },
        headers=auth(tokens["admin"]),
    )
    start = clock.now() + timedelta(days=9)
    session = await http.post(
        f"/api/v1/courses/{created.json()['id']}/sessions",
        json={
            "dates": [
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=2)).isoformat(),
                    "timezone": "Europe/London",
                }
            ],
            "capacity": 5,
        },
        headers=auth(tokens["admin"]),
    )
    url = f"/api/v1/sessions/{session.json()['id']}/bookings"
    lee = await http.post(url, json={}, headers=auth(tokens["lee"]))
    assert lee.status_code == 422
    assert lee.json()["reasons"][0]["code"] == "audience_org_unit"
    kim = await http.post(url, json={}, headers=auth(tokens["kim"]))
    assert kim.status_code == 201


async def test_pagination_of_courses(api: dict[str, Any]) -> None:
    http, tokens = api["http"], api["tokens"]
    for i in range(3):
        r = await http.post(
            "/api/v1/courses",
            json={"code": f"C{i}", "title": f"Course {i}"},
            headers=auth(tokens["admin"]),
        )
        assert r.status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = (
            await http.get(f"/api/v1/courses?limit=2{suffix}", headers=auth(tokens["lee"]))
        ).json()
        seen += [c["code"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(["SAFE-1", "C0", "C1", "C2"])
    assert len(seen) == len(set(seen))
    bad = await http.get("/api/v1/courses?cursor=zzz", headers=auth(tokens["lee"]))
    assert bad.status_code == 422


async def test_approval_queue_and_decision_over_http(
    api: dict[str, Any], clock: FixedClock
) -> None:
    http, tokens = api["http"], api["tokens"]
    created = await http.post(
        "/api/v1/courses",
        json={"code": "LEAD", "title": "Leading Teams", "approval": ["manager"]},
        headers=auth(tokens["admin"]),
    )
    assert created.status_code == 201
    start = clock.now() + timedelta(days=9)
    session = await http.post(
        f"/api/v1/courses/{created.json()['id']}/sessions",
        json={
            "dates": [
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=2)).isoformat(),
                    "timezone": "Europe/London",
                }
            ],
            "capacity": 5,
        },
        headers=auth(tokens["admin"]),
    )
    booking = await http.post(
        f"/api/v1/sessions/{session.json()['id']}/bookings", json={}, headers=auth(tokens["lee"])
    )
    assert booking.status_code == 201
    assert booking.json()["state"] == "pending_approval"
    queue = await http.get("/api/v1/approvals", headers=auth(tokens["manager"]))
    items = queue.json()["items"]
    assert [(i["kind"], i["learner"]["email"], i["course"]["code"]) for i in items] == [
        ("manager", "lee@example.org", "LEAD")
    ]
    assert (await http.get("/api/v1/approvals", headers=auth(tokens["kim"]))).json()["items"] == []
    url = f"/api/v1/approvals/{items[0]['id']}/decision"
    not_yours = await http.post(url, json={"decision": "approve"}, headers=auth(tokens["kim"]))
    assert not_yours.status_code == 404
    nonsense = await http.post(url, json={"decision": "maybe"}, headers=auth(tokens["manager"]))
    assert nonsense.status_code == 422
    ok = await http.post(
        url, json={"decision": "approve", "comment": "Yes"}, headers=auth(tokens["manager"])
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved"
    assert ok.json()["booking"]["state"] == "booked"
    again = await http.post(url, json={"decision": "approve"}, headers=auth(tokens["manager"]))
    assert again.status_code == 409


async def test_inbound_completions_over_http(api: dict[str, Any]) -> None:
    http, tokens = api["http"], api["tokens"]
    service = await people.create_token(
        api["db"], FixedClock(support.T0), service="lms", scope="records"
    )
    body = [
        {
            "learner_email": "lee@example.org",
            "course_code": "SAFE-1",
            "completed_at": "2027-02-01T10:00:00+00:00",
            "source": "elearning",
        },
        {
            "personnel_number": "NOPE",
            "course_code": "SAFE-1",
            "completed_at": "2027-02-01T10:00:00+00:00",
        },
    ]
    r = await http.post("/api/v1/records/completions", json=body, headers=auth(service))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "error"]
    assert "NOPE" in r.json()["results"][1]["message"]
    again = await http.post("/api/v1/records/completions", json=body[:1], headers=auth(service))
    assert again.json()["results"][0]["status"] == "duplicate"
    learner = await http.post("/api/v1/records/completions", json=body, headers=auth(tokens["lee"]))
    assert learner.status_code == 403
    eligibility = await http.get(
        f"/api/v1/courses/{api['world'].course_id}/eligibility", headers=auth(tokens["lee"])
    )
    assert eligibility.json() == {"eligible": True, "reasons": []}
