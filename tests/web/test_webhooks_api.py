"""The webhooks API (`/api/v1/webhooks`): administrators register, read, change and remove
endpoints, read the delivery log and resend; the secret is answered once; bad input is 422,
an unknown id 404, anyone else 403."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from booking import people
from booking.models import WebhookEndpoint
from tests import support
from tests.web.conftest import Browser
from tests.webhooks.helpers import book

PUBLIC = "https://93.184.215.14/hooks"  # a public address, given as such: nothing to resolve


def _admin(browser: Browser) -> dict[str, str]:
    return {"Authorization": f"Bearer {browser.world.admin_token}"}


async def _create(browser: Browser, **body: Any) -> dict[str, Any]:
    answer = await browser.client.post(
        "/api/v1/webhooks", json={"url": PUBLIC, **body}, headers=_admin(browser)
    )
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


async def test_an_endpoint_is_registered_read_changed_and_removed(browser: Browser) -> None:
    admin = _admin(browser)
    made = await _create(
        browser, event_types=["booking.created", "session.cancelled"], description="LMS"
    )
    assert made["secret"].startswith("whsec_")
    assert made["status"] == "active" and made["created_by"] == "Ada Admin"
    assert made["event_types"] == ["booking.created", "session.cancelled"]
    url = f"/api/v1/webhooks/{made['id']}"
    read = (await browser.client.get(url, headers=admin)).json()
    assert "secret" not in read and read["description"] == "LMS"
    listed = (await browser.client.get("/api/v1/webhooks", headers=admin)).json()
    assert [i["id"] for i in listed["items"]] == [made["id"]] and listed["next_cursor"] is None

    off = await browser.client.patch(url, json={"active": False, "event_types": []}, headers=admin)
    assert off.status_code == 200, off.text
    assert (off.json()["status"], off.json()["event_types"]) == ("inactive", [])
    async with browser.world.db.transaction() as s:
        await s.execute(
            update(WebhookEndpoint).values(
                paused_at=browser.world.clock.now(), pause_reason="x", active=True
            )
        )
    assert (await browser.client.get(url, headers=admin)).json()["status"] == "paused"
    on = await browser.client.patch(url, json={"active": True}, headers=admin)
    assert on.json()["status"] == "active" and on.json()["pause_reason"] is None

    gone = await browser.client.delete(url, headers=admin)
    assert gone.status_code == 204
    assert (await browser.client.get(url, headers=admin)).status_code == 404


async def test_the_list_pages_with_a_cursor(browser: Browser) -> None:
    ids = [(await _create(browser, description=f"n{i}"))["id"] for i in range(3)]
    admin = _admin(browser)
    first = (await browser.client.get("/api/v1/webhooks?limit=2", headers=admin)).json()
    assert [i["id"] for i in first["items"]] == ids[:2] and first["next_cursor"]
    rest = await browser.client.get(
        f"/api/v1/webhooks?limit=2&cursor={first['next_cursor']}", headers=admin
    )
    assert [i["id"] for i in rest.json()["items"]] == ids[2:]
    assert rest.json()["next_cursor"] is None


async def test_bad_input_is_refused_with_a_problem(browser: Browser) -> None:
    admin = _admin(browser)
    for body, says in (
        ({"url": "http://93.184.215.14/hooks"}, "https://"),
        ({"url": "https://127.0.0.1/hooks"}, "private, loopback or reserved"),
        ({"url": "https://10.0.0.8/hooks"}, "private, loopback or reserved"),
        ({"url": PUBLIC, "event_types": ["booking.exploded"]}, "event_types"),
        ({"url": PUBLIC, "secret": "mine"}, "secret"),
        ({"url": PUBLIC, "description": "x" * 501}, "description"),
    ):
        answer = await browser.client.post("/api/v1/webhooks", json=body, headers=admin)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert says in answer.text, (body, answer.text)
    made = await _create(browser)
    patched = await browser.client.patch(
        f"/api/v1/webhooks/{made['id']}", json={"url": "https://192.168.1.1/"}, headers=admin
    )
    assert patched.status_code == 422 and "private" in patched.text


async def test_unknown_ids_are_404_and_others_are_403(browser: Browser) -> None:
    admin = _admin(browser)
    for method, path in (
        ("GET", "/api/v1/webhooks/999"),
        ("PATCH", "/api/v1/webhooks/999"),
        ("DELETE", "/api/v1/webhooks/999"),
        ("GET", "/api/v1/webhooks/999/deliveries"),
        ("POST", "/api/v1/webhooks/999/deliveries/1/resend"),
    ):
        answer = await browser.client.request(
            method, path, headers=admin, json={} if method == "PATCH" else None
        )
        assert answer.status_code == 404, (method, path, answer.text)
    lee = await people.create_token(browser.world.db, browser.world.clock, email="lee@example.org")
    learner = {"Authorization": f"Bearer {lee}"}
    assert (await browser.client.get("/api/v1/webhooks", headers=learner)).status_code == 403
    post = await browser.client.post("/api/v1/webhooks", json={"url": PUBLIC}, headers=learner)
    assert post.status_code == 403


async def test_the_delivery_log_shows_queued_events_and_resend_queues_one_again(
    browser: Browser,
) -> None:
    admin = _admin(browser)
    made = await _create(browser, event_types=["booking.created"])
    await book(browser.world, await support.make_session(browser.world))
    log_url = f"/api/v1/webhooks/{made['id']}/deliveries"
    log = (await browser.client.get(log_url, headers=admin)).json()
    (delivery,) = log["items"]
    assert delivery["event_type"] == "booking.created" and delivery["status"] == "pending"
    assert delivery["payload"]["id"] == delivery["event_id"]
    resent = await browser.client.post(f"{log_url}/{delivery['id']}/resend", headers=admin)
    assert resent.status_code == 202, resent.text
    assert resent.json()["event_id"] == delivery["event_id"]
    log = (await browser.client.get(log_url, headers=admin)).json()
    assert [d["event_id"] for d in log["items"]] == [delivery["event_id"]] * 2
