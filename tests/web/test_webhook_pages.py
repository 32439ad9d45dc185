"""The webhooks pages without JavaScript: add an endpoint (its secret on the answer), errors in
place with what was typed, the endpoint's page with its settings, its delivery log and
"Resend", a paused endpoint's warning here and on the administration page."""

from __future__ import annotations

from sqlalchemy import func, select, update

from booking.models import Outbox, WebhookEndpoint
from tests import support
from tests.web.conftest import Browser
from tests.webhooks.helpers import book

ADMIN = "admin@example.org"


def _secret(text: str) -> str:
    return text.split('<code id="new-webhook-secret" class="secret">')[1].split("</code>")[0]


async def _add(browser: Browser, url: str, **form: str) -> int:
    made = await browser.post("/admin/webhooks", {"url": url, "active": "yes", **form})
    assert made.status_code == 200, made.text
    assert _secret(made.text).startswith("whsec_")
    return int(made.text.split('href="/admin/webhooks/')[1].split('"')[0])


async def test_an_endpoint_is_added_changed_and_its_deliveries_resent(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    empty = await browser.get("/admin/webhooks")
    assert empty.status_code == 200 and "There are no webhook endpoints yet." in empty.text
    webhook_id = await _add(
        browser, "https://93.184.215.14/hooks", event_types="booking.created", description="LMS"
    )
    listed = await browser.get("/admin/webhooks")
    assert "https://93.184.215.14/hooks" in listed.text and "Active" in listed.text
    assert "whsec_" not in listed.text

    await book(browser.world, await support.make_session(browser.world))
    shown = await browser.get(f"/admin/webhooks/{webhook_id}")
    assert shown.status_code == 200
    assert "booking.created" in shown.text and "Waiting" in shown.text
    assert "Signing secret" in shown.text and "whsec_" in shown.text
    delivery_id = int(shown.text.split("/deliveries/")[1].split("/resend")[0])
    resent = await browser.post(f"/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/resend")
    assert resent.status_code == 303
    async with browser.world.db.reading() as s:
        rows = await s.scalar(select(func.count()).where(Outbox.webhook_endpoint_id == webhook_id))
    assert rows == 2
    assert "queued to be sent again" in (await browser.get(f"/admin/webhooks/{webhook_id}")).text

    saved = await browser.post(
        f"/admin/webhooks/{webhook_id}", {"url": "https://93.184.215.14/other", "description": ""}
    )
    assert saved.status_code == 303
    after = await browser.get(f"/admin/webhooks/{webhook_id}")
    assert "The endpoint is saved." in after.text and "Inactive" in after.text
    removed = await browser.post(f"/admin/webhooks/{webhook_id}/delete")
    assert removed.status_code == 303 and removed.headers["location"] == "/admin/webhooks"
    assert (await browser.get(f"/admin/webhooks/{webhook_id}")).status_code == 404


async def test_a_refused_form_keeps_what_was_typed(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    refused = await browser.post(
        "/admin/webhooks",
        {"url": "http://127.0.0.1/hooks", "description": "Typed", "event_types": "session.changed"},
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and "https://" in refused.text
    assert 'value="Typed"' in refused.text
    assert 'value="session.changed" checked' in refused.text
    async with browser.world.db.reading() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


async def test_a_paused_endpoint_is_flagged_and_can_be_activated(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    webhook_id = await _add(browser, "https://93.184.215.14/hooks")
    async with browser.world.db.transaction() as s:
        await s.execute(
            update(WebhookEndpoint).values(
                paused_at=browser.world.clock.now(),
                pause_reason="Paused after 10 failed deliveries in a row; the last: HTTP 500",
            )
        )
    hub = await browser.get("/admin")
    assert "Warning: 1 paused after failures" in hub.text
    listed = await browser.get("/admin/webhooks")
    assert "Paused" in listed.text and "Warning: Paused after 10 failed" in listed.text
    page = await browser.get(f"/admin/webhooks/{webhook_id}")
    assert "Warning: this endpoint is paused" in page.text
    activated = await browser.post(f"/admin/webhooks/{webhook_id}/activate")
    assert activated.status_code == 303
    again = await browser.get(f"/admin/webhooks/{webhook_id}")
    assert "this endpoint is paused" not in again.text and "active again" in again.text
    assert "Warning" not in (await browser.get("/admin")).text


async def test_only_administrators_open_the_webhooks_pages(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    assert (await browser.get("/admin/webhooks")).status_code == 403


async def test_webhook_deliveries_stay_out_of_the_email_outbox(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    webhook_id = await _add(browser, "https://93.184.215.14/hooks")
    await book(browser.world, await support.make_session(browser.world))
    async with browser.world.db.reading() as s:
        delivery = await s.scalar(select(Outbox.id).where(Outbox.webhook_endpoint_id == webhook_id))
    outbox = await browser.get("/admin/outbox")
    assert outbox.status_code == 200 and "booking.state_changed" not in outbox.text
    assert (await browser.get(f"/admin/outbox/{delivery}")).status_code == 404


async def test_the_webhooks_forms_need_their_csrf_token(browser: Browser) -> None:
    """The administrators' webhooks pages sit under /admin/webhooks/, not the receivers'
    /webhooks/ that go without CSRF: a form posted without its token changes nothing."""
    await browser.sign_in(ADMIN)
    webhook_id = await _add(browser, "https://93.184.215.14/hooks")
    for path in (f"/admin/webhooks/{webhook_id}/delete", "/admin/webhooks"):
        forged = await browser.post(path, {"url": "https://93.184.215.14/x"}, csrf=False)
        assert forged.status_code == 403, path
    async with browser.world.db.reading() as s:
        urls = (await s.scalars(select(WebhookEndpoint.url))).all()
    assert urls == ["https://93.184.215.14/hooks"]
