"""The service tokens page through the browser's eyes (no JavaScript): make a token (its secret
on the answer only), errors in place with what was typed, the list with its last use, and
revoking after a confirmation page (the API refuses the token at once)."""

from __future__ import annotations

from sqlalchemy import func, select

from booking import people
from booking.models import ApiToken
from tests.web.conftest import Browser

ADMIN = "admin@example.org"


async def _count(browser: Browser) -> int:
    async with browser.world.db.reading() as s:
        return await s.scalar(select(func.count()).select_from(ApiToken)) or 0


def _secret(text: str) -> str:
    return text.split('<code id="new-token-secret" class="secret">')[1].split("</code>")[0]


async def test_a_token_is_made_shown_once_used_and_revoked(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    empty = await browser.get("/admin/tokens")
    assert empty.status_code == 200 and "There are no service tokens yet." in empty.text
    made = await browser.post("/admin/tokens", {"name": "Learning records", "scope": "records"})
    assert made.status_code == 200
    secret = _secret(made.text)
    assert secret.startswith("bk_") and "only time it is shown" in made.text
    assert made.headers["cache-control"] == "no-store"

    again = await browser.get("/admin/tokens")
    assert secret not in again.text and "Learning records" in again.text
    assert "Never" in again.text and "Active" in again.text

    api = {"Authorization": f"Bearer {secret}"}
    assert (await browser.client.get("/api/v1/records", headers=api)).status_code == 200
    used = await browser.get("/admin/tokens")
    assert "Never" not in used.text

    token_id = int(used.text.split('href="/admin/tokens/')[1].split("/revoke")[0])
    confirm = await browser.get(f"/admin/tokens/{token_id}/revoke")
    assert confirm.status_code == 200 and "Revoke the token “Learning records”" in confirm.text
    assert secret not in confirm.text
    revoked = await browser.post(f"/admin/tokens/{token_id}/revoke")
    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/tokens"
    listed = await browser.get("/admin/tokens")
    assert "The token is revoked" in listed.text and "Revoked" in listed.text
    assert (await browser.client.get("/api/v1/records", headers=api)).status_code == 401

    twice = await browser.post(f"/admin/tokens/{token_id}/revoke")
    assert twice.status_code == 409 and "already revoked" in twice.text


async def test_a_refused_form_keeps_what_was_typed_and_makes_nothing(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    before = await _count(browser)
    nameless = await browser.post("/admin/tokens", {"name": "  ", "scope": "records"})
    assert nameless.status_code == 422
    assert "<title>Error: Service tokens" in nameless.text
    assert 'href="#name">Name the service' in nameless.text
    long_name = "x" * 150
    too_long = await browser.post("/admin/tokens", {"name": long_name, "scope": "records"})
    assert too_long.status_code == 422 and f'value="{long_name}"' in too_long.text
    bad_scope = await browser.post("/admin/tokens", {"name": "HR feed", "scope": "person"})
    assert bad_scope.status_code == 422 and 'value="HR feed"' in bad_scope.text
    assert 'href="#scope">' in bad_scope.text
    assert 'id="new-token-secret"' not in bad_scope.text
    assert await _count(browser) == before


async def test_people_who_are_not_administrators_are_refused(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    assert (await browser.get("/admin/tokens")).status_code == 403
    refused = await browser.post("/admin/tokens", {"name": "Mine", "scope": "records"})
    assert refused.status_code == 403


async def test_an_unknown_token_answers_404(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    assert (await browser.get("/admin/tokens/999999/revoke")).status_code == 404
    assert (await browser.post("/admin/tokens/999999/revoke")).status_code == 404


async def test_a_token_made_on_the_command_line_is_listed_without_a_creator(
    browser: Browser,
) -> None:
    world = browser.world
    await people.create_token(world.db, world.clock, service="Old feed", scope="records")
    await browser.sign_in(ADMIN)
    listed = await browser.get("/admin/tokens")
    assert "Old feed" in listed.text and "on the command line" in listed.text


async def test_the_administration_page_links_the_tokens(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    hub = await browser.get("/admin")
    assert 'href="/admin/tokens"' in hub.text and "Service tokens" in hub.text
