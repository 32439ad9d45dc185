"""Single sign-on against a real OpenID Connect provider (oidc-provider-mock on loopback)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from booking import oidc
from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from booking.models import AuditEvent
from tests import support

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")


@pytest.fixture(scope="session")
def provider() -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
async def site(
    provider: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "sso.db")
    db = Database(support.settings_for(url))
    await support.make_world(db, FixedClock(support.T0))
    port = support.free_port()
    base = f"http://127.0.0.1:{port}"
    settings = replace(
        support.settings_for(url),
        base_url=base,
        oidc_issuer=provider,
        oidc_client_id="booking-app",
        oidc_client_secret="s3cret",
    )
    oidc._cache.clear()
    app = create_app(settings, clock=FixedClock(support.T0), run_worker=False)
    async with (
        support.live_server(app, port=port),
        httpx.AsyncClient(base_url=base, timeout=10) as browser,
    ):
        yield {"base": base, "provider": provider, "browser": browser, "db": db}
    await db.dispose()


async def _authorize(site: dict[str, Any], sub: str, claims: dict[str, Any]) -> str:
    """Go to the provider as the browser would; return our callback URL it sends back."""
    browser: httpx.AsyncClient = site["browser"]
    start = await browser.get("/login/sso?next=/me/bookings")
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    async with httpx.AsyncClient(timeout=10) as provider:
        assert (
            await provider.put(f"{site['provider']}/users/{sub}", json=claims)
        ).status_code < 300
        answer = await provider.post(authorize, data={"sub": sub})
    assert answer.status_code == 302
    return answer.headers["location"]


async def test_sign_in_with_the_provider(site: dict[str, Any]) -> None:
    callback = await _authorize(site, "lee-sub", {"email": "lee@example.org"})
    assert callback.startswith(f"{site['base']}/login/sso/callback?")
    done = await site["browser"].get(callback.removeprefix(site["base"]))
    assert done.status_code == 303
    assert done.headers["location"] == "/me/bookings"
    page = await site["browser"].get("/me/bookings")
    assert page.status_code == 200
    assert "Signed in as <strong>Lee Learner</strong>" in page.text
    # The callback cannot be replayed: the pending sign-in was spent.
    again = await site["browser"].get(callback.removeprefix(site["base"]))
    assert again.status_code == 400


async def test_wrong_state_is_refused(site: dict[str, Any]) -> None:
    callback = await _authorize(site, "lee-sub", {"email": "lee@example.org"})
    forged = callback.removeprefix(site["base"]).replace("state=", "state=x")
    refused = await site["browser"].get(forged)
    assert refused.status_code == 400
    assert "could not be matched" in refused.text
    assert (await site["browser"].get("/me/bookings")).status_code == 303


async def test_unknown_user_is_refused_and_audited(site: dict[str, Any]) -> None:
    callback = await _authorize(site, "stranger", {"email": "stranger@elsewhere.org"})
    refused = await site["browser"].get(callback.removeprefix(site["base"]))
    assert refused.status_code == 403
    assert "there is no account here for stranger@elsewhere.org" in refused.text
    async with site["db"].reading() as s:
        from sqlalchemy import select

        actions = (await s.scalars(select(AuditEvent.action))).all()
    assert "login.failed" in actions


def _token(key: RSAKey, **claims: Any) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def test_id_token_checks_nonce_expiry_audience_and_signature() -> None:
    settings = replace(
        support.settings_for("sqlite://"), oidc_issuer="https://idp", oidc_client_id="booking-app"
    )
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    keys = KeySet([key])
    now = int(time.time())
    good = {
        "iss": "https://idp",
        "aud": ["booking-app"],
        "sub": "u",
        "nonce": "n1",
        "exp": now + 300,
        "iat": now,
    }
    claims = oidc.verify_id_token(
        settings, keys, _token(key, **good), nonce="n1", issuer="https://idp"
    )
    assert claims["sub"] == "u"
    cases = {
        "wrong nonce": (good, "n2"),
        "expired": ({**good, "exp": now - 3600, "iat": now - 7200}, "n1"),
        "other audience": ({**good, "aud": "someone-else"}, "n1"),
        "other issuer": ({**good, "iss": "https://evil"}, "n1"),
    }
    for label, (payload, nonce) in cases.items():
        with pytest.raises(oidc.SignOnError):
            oidc.verify_id_token(
                settings, keys, _token(key, **payload), nonce=nonce, issuer="https://idp"
            )
            pytest.fail(label)
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(oidc.SignOnError):
        oidc.verify_id_token(
            settings, keys, _token(stranger, **good), nonce="n1", issuer="https://idp"
        )
