"""Issue 15: bad input from outside answers 4xx problem+json and changes nothing, on both
databases — ids beyond 64 bits, NUL characters, deep JSON, numbers and strings too large for
their columns, wrong types, and permission checked before the body."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from booking.db_values import check_value
from booking.kernel.errors import InvalidError
from booking.models import Booking, Course, Room, Session
from tests import support
from tests.web import test_api
from tests.web.conftest import Browser
from tests.web.test_api import auth, new_session, session_body

pytestmark = pytest.mark.asyncio

HUGE = "5987005986020995891200"
# The JSON API fixture: the small world, tokens per role, a client on the cached app.
api = test_api.api


def assert_problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    if field is not None:
        assert body.get("field") == field, body
    return body


async def rows(db: Any) -> tuple[int, int, int]:
    async with db.reading() as s:
        return (
            await s.scalar(select(func.count()).select_from(Course)) or 0,
            await s.scalar(select(func.count()).select_from(Session)) or 0,
            await s.scalar(select(func.count()).select_from(Room)) or 0,
        )


async def test_ids_beyond_64_bits_are_not_found_on_api_and_pages(
    api: dict[str, Any], clock: Any
) -> None:
    http, h = api["http"], auth(api["tokens"]["admin"])
    for path in (
        f"/api/v1/courses/{HUGE}",
        f"/api/v1/sessions/{10**30}",
        f"/api/v1/bookings/{HUGE}",
        f"/api/v1/sessions/{HUGE}/roster",
        f"/api/v1/sessions/{HUGE}/sign-in-sheet.pdf",
        f"/api/v1/bookings/{HUGE}/payment",
        f"/api/v1/courses/{HUGE}/record-rules",
        f"/api/v1/people/{HUGE}/record",
        f"/api/v1/courses/-{HUGE}",
    ):
        assert_problem(await http.get(path, headers=h), 404)
    for path in (f"/api/v1/bookings/{HUGE}/accept", f"/api/v1/bookings/{HUGE}/decline"):
        assert_problem(await http.post(path, headers=h), 404)
    r = await http.post(
        f"/api/v1/bookings/{HUGE}/move", json={"session_id": 1, "reason": "x"}, headers=h
    )
    assert_problem(r, 404)
    for page_path in (f"/courses/{HUGE}", f"/sessions/{HUGE}/edit", f"/bookings/{HUGE}/cancel"):
        page = await http.get(page_path, follow_redirects=False)
        assert page.status_code == 404, page.text[:200]
        assert page.headers["content-type"].startswith("text/html")


async def test_ids_in_bodies_and_cursors_beyond_64_bits_are_422(api: dict[str, Any]) -> None:
    http, h = api["http"], auth(api["tokens"]["admin"])
    r = await http.post(
        "/api/v1/bookings/1/move", json={"session_id": int(HUGE), "reason": "x"}, headers=h
    )
    assert_problem(r, 422, "session_id")
    assert_problem(await http.get(f"/api/v1/me/bookings?cursor={HUGE}", headers=h), 422, "cursor")
    assert_problem(await http.get(f"/api/v1/records?since={HUGE}", headers=h), 422, "since")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "X\x00", "title": "t"}, "code"),
        ({"code": "X1", "title": "t\x00"}, "title"),
        ({"code": "X1", "title": "t" * 301}, "title"),
        ({"code": "X1", "title": "t", "price": {"amount": 2**31}}, "price.amount"),
        ({"code": "X1", "title": "t", "price": {"amount": True}}, "price.amount"),
        ({"code": "X1", "title": "t", "allow_multiple_bookings": 1}, "allow_multiple_bookings"),
    ],
)
async def test_course_bodies_out_of_bounds_are_422_and_change_nothing(
    api: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    http, h = api["http"], auth(api["tokens"]["admin"])
    before = await rows(api["db"])
    assert_problem(await http.post("/api/v1/courses", json=body, headers=h), 422, field)
    assert await rows(api["db"]) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capacity": True}, "capacity"),
        ({"capacity": "3"}, "capacity"),
        ({"capacity": 2**31}, "capacity"),
        ({"room": {"name": "r" * 1_000_000}}, "room.name"),
        ({"room": {"name": "Room\x00"}}, "room.name"),
        ({"offer_hours": 2**40}, "offer_hours"),
    ],
)
async def test_session_bodies_out_of_bounds_are_422_and_change_nothing(
    api: dict[str, Any], clock: Any, overrides: dict[str, Any], field: str
) -> None:
    http, h = api["http"], auth(api["tokens"]["admin"])
    before = await rows(api["db"])
    course = api["world"].course_id
    r = await http.post(
        f"/api/v1/courses/{course}/sessions", json=session_body(clock, **overrides), headers=h
    )
    assert_problem(r, 422, field)
    assert await rows(api["db"]) == before


async def test_nul_in_booking_texts_and_search_is_422(api: dict[str, Any], clock: Any) -> None:
    http = api["http"]
    session_id = await new_session(api, clock)
    lee = auth(api["tokens"]["lee"])
    r = await http.post(
        f"/api/v1/sessions/{session_id}/bookings",
        json={"special_requirements": "ramp\x00"},
        headers=lee,
    )
    assert_problem(r, 422, "special_requirements")
    r = await http.post(
        f"/api/v1/sessions/{session_id}/bookings",
        json={"learner_email": "lee@example.org\x00"},
        headers=auth(api["tokens"]["admin"]),
    )
    assert_problem(r, 422, "learner_email")
    r = await http.post(f"/api/v1/sessions/{session_id}/bookings", json={}, headers=lee)
    booking_id = r.json()["id"]
    r = await http.post(
        f"/api/v1/bookings/{booking_id}/cancel", json={"reason": "\x00"}, headers=lee
    )
    assert_problem(r, 422, "reason")
    assert (await http.get(f"/api/v1/bookings/{booking_id}", headers=lee)).json()[
        "state"
    ] == "booked"
    assert_problem(await http.get("/api/v1/courses?q=a%00b", headers=lee), 422, "q")
    r = await http.put(
        "/api/v1/org-units",
        json=[{"code": "U1", "name": "Unit\x00"}],
        headers=auth(api["tokens"]["admin"]),
    )
    assert_problem(r, 422)


async def test_deeply_nested_json_is_400(api: dict[str, Any]) -> None:
    http, h = api["http"], auth(api["tokens"]["admin"])
    for body in (b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        for path in ("/api/v1/courses", "/api/v1/people"):
            method = "PUT" if path.endswith("people") else "POST"
            r = await http.request(
                method, path, content=body, headers={**h, "content-type": "application/json"}
            )
            assert_problem(r, 400)


async def test_record_rules_are_for_administrators_and_permission_comes_first(
    api: dict[str, Any],
) -> None:
    http = api["http"]
    course = api["world"].course_id
    lee = auth(api["tokens"]["lee"])
    assert_problem(await http.get(f"/api/v1/courses/{course}/record-rules", headers=lee), 403)
    r = await http.put(
        f"/api/v1/courses/{course}/record-rules", json={"mandatory": "perhaps"}, headers=lee
    )
    assert_problem(r, 403)
    r = await http.post("/api/v1/courses", json={"code": 5}, headers=lee)
    assert_problem(r, 403)
    admin = auth(api["tokens"]["admin"])
    assert (
        await http.get(f"/api/v1/courses/{course}/record-rules", headers=admin)
    ).status_code == 200


async def test_a_page_form_with_a_nul_or_an_overlong_text_shows_the_error_in_place(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    await browser.sign_in("lee@example.org")
    for special, message in (
        ("Ramp\x00", "NUL character"),
        ("r" * 100_000, "2,000 characters"),
    ):
        response = await browser.post(
            f"/sessions/{session_id}/book", {"special_requirements": special}
        )
        assert response.status_code in (200, 422), response.text[:300]
        assert response.headers["content-type"].startswith("text/html")
        assert message in response.text
        assert "<form" in response.text  # the form again, with the error on it
    async with world.db.reading() as s:
        assert await s.scalar(select(func.count()).select_from(Booking)) == 0


async def test_values_the_database_would_refuse_are_refused_first_naming_the_field() -> None:
    text200 = Room.__table__.c.name.type
    for name, value, type_, field in (
        ("name", "a\x00b", text200, "name"),
        ("name_1", "x" * 201, text200, "name"),
        ("capacity", 2**31, Session.__table__.c.capacity.type, "capacity"),
        ("id_1", 2**63, Session.__table__.c.id.type, "id"),
        ("answers", {"q": ["fine", "not\x00fine"]}, None, "answers"),
    ):
        with pytest.raises(InvalidError) as caught:
            check_value(name, value, type_)
        assert caught.value.field == field
    check_value("name", "x" * 201, text200, storing=False)  # a lookup just matches nothing
    check_value("capacity", 2**31 - 1, Session.__table__.c.capacity.type)


async def test_digits_that_are_not_ascii_are_refused_not_a_server_error(
    browser: Browser,
) -> None:
    """`"²".isdigit()` is true and `int("²")` fails: every number a page reads from a form or
    a query takes ASCII digits only (found by schemathesis on the API's cursors)."""
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    await browser.sign_in("lee@example.org")
    booked = await browser.post(f"/sessions/{session_id}/book", {"move_from": "²"})
    assert booked.status_code < 500, booked.text[:300]
    async with world.db.reading() as s:
        booking_id = await s.scalar(select(Booking.id))
    assert booking_id is not None
    cancel = await browser.post(
        f"/bookings/{booking_id}/cancel",
        {"reason": "Plans changed", "quoted_fee_amount": "²", "quoted_fee_currency": "GBP"},
    )
    assert cancel.status_code < 500, cancel.text[:300]
    await browser.sign_in("admin@example.org")
    listed = await browser.get("/admin/sessions?course=²&trainer=¹&room=³&page=²")
    assert listed.status_code == 200, listed.text[:300]
