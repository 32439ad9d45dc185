"""OpenID Connect sign-in (authorization code flow with PKCE, state and nonce).

The provider's configuration and keys come from its discovery document; the ID token is
verified against those keys (signature, issuer, audience, expiry, nonce) before any claim is
believed. This module talks to the provider; mapping claims to a person is the auth service's.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from booking.config import Settings

DISCOVERY_TTL = 3600


class SignOnError(Exception):
    """The sign-in could not be completed; the message is for the person."""


@dataclass(frozen=True, slots=True)
class Pending:
    """What the browser must bring back: kept in its (signed, encrypted) session cookie."""

    state: str
    nonce: str
    verifier: str
    next_path: str


@dataclass(slots=True)
class _Provider:
    config: dict[str, Any]
    keys: KeySet
    fetched: float


_cache: dict[str, _Provider] = {}


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


async def _provider(settings: Settings, *, refresh: bool = False) -> _Provider:
    issuer = settings.oidc_issuer or ""
    cached = _cache.get(issuer)
    if cached and not refresh and time.monotonic() - cached.fetched < DISCOVERY_TTL:
        return cached
    async with httpx.AsyncClient(timeout=10) as http:
        config = (await http.get(f"{issuer}/.well-known/openid-configuration")).raise_for_status()
        document = config.json()
        jwks = (await http.get(document["jwks_uri"])).raise_for_status().json()
    provider = _Provider(document, KeySet.import_key_set(jwks), time.monotonic())
    _cache[issuer] = provider
    return provider


def _redirect_uri(settings: Settings) -> str:
    return f"{settings.base_url}/login/sso/callback"


async def start(settings: Settings, next_path: str) -> tuple[str, Pending]:
    """The provider's authorisation URL, and what to remember until the browser returns."""
    provider = await _provider(settings)
    pending = Pending(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        next_path=next_path,
    )
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": _redirect_uri(settings),
            "scope": "openid email profile",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{provider.config['authorization_endpoint']}?{query}", pending


async def finish(
    settings: Settings, pending: Pending | None, *, code: str | None, state: str | None
) -> dict[str, Any]:
    """Check the state, exchange the code (with the PKCE verifier) and verify the ID token.
    Returns its claims."""
    if pending is None or not state or not secrets.compare_digest(state, pending.state):
        raise SignOnError("The sign-in could not be matched to this browser. Please try again.")
    if not code:
        raise SignOnError("The sign-in service did not return a code. Please try again.")
    provider = await _provider(settings)
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            provider.config["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": _redirect_uri(settings),
                "code_verifier": pending.verifier,
            },
            auth=(settings.oidc_client_id or "", settings.oidc_client_secret or ""),
        )
    if response.status_code != 200:
        raise SignOnError("The sign-in service refused the sign-in. Please try again.")
    id_token = response.json().get("id_token")
    if not id_token:
        raise SignOnError("The sign-in service sent no identity. Please try again.")
    return verify_id_token(
        settings,
        provider.keys,
        id_token,
        nonce=pending.nonce,
        issuer=provider.config.get("issuer", settings.oidc_issuer),
    )


def verify_id_token(
    settings: Settings, keys: KeySet, id_token: str, *, nonce: str, issuer: str | None
) -> dict[str, Any]:
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
    except (JoseError, ValueError) as exc:
        raise SignOnError("The identity from the sign-in service could not be verified.") from exc
    claims = dict(token.claims)
    registry = JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": issuer or ""},
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise SignOnError(
            "The identity from the sign-in service has expired or is not for "
            "this site. Please sign in again."
        ) from exc
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if settings.oidc_client_id not in audiences:
        raise SignOnError("The identity from the sign-in service is not for this site.")
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise SignOnError("The sign-in could not be matched to this browser. Please try again.")
    return claims
