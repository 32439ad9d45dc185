"""Signed, expiring tokens for links in emails (itsdangerous, HMAC-SHA256 over the secret key).

A token names what it is for (`purpose`, the signer's salt), the data it carries and its expiry;
anything else, or a single changed byte, fails verification. The expiry travels in the token and
is checked against the caller's `now` (not itsdangerous' timestamp, which reads the system clock),
so each link keeps the lifetime it was given. Single use is the caller's business: an approval
link stops working once its request has been decided.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import itsdangerous
from itsdangerous.encoding import base64_decode, base64_encode


class BadSignature(Exception):
    """The token is forged, altered, for something else, or expired."""


def _serializer(secret: str, purpose: str) -> itsdangerous.URLSafeSerializer:
    return itsdangerous.URLSafeSerializer(
        secret,
        salt=f"booking-links:{purpose}",
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def sign(secret: str, purpose: str, data: dict[str, Any], expires_at: datetime) -> str:
    return _serializer(secret, purpose).dumps({"d": data, "exp": int(expires_at.timestamp())})


def verify(secret: str, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    payload = _loads(secret, purpose, token or "")
    if not isinstance(payload, dict) or "exp" not in payload:
        raise BadSignature("This link is not valid.")
    if datetime.fromtimestamp(int(payload["exp"]), UTC) <= now:
        raise BadSignature("This link has expired.")
    data = payload.get("d")
    if not isinstance(data, dict):
        raise BadSignature("This link is not valid.")
    return data


def _loads(secret: str, purpose: str, token: str) -> Any:
    try:
        return _serializer(secret, purpose).loads(token)
    except itsdangerous.BadData:
        pass
    # Links signed before itsdangerous (same payload, our own MAC) keep working until they
    # expire: approval links live at most 14 days, so this branch can go 14 days after release.
    try:
        return _legacy_loads(secret, purpose, token)
    except (ValueError, itsdangerous.BadData) as exc:
        raise BadSignature("This link is not valid.") from exc


def _legacy_loads(secret: str, purpose: str, token: str) -> Any:
    body, _, mac = token.partition(".")
    key = hashlib.sha256(f"booking-links:{secret}".encode()).digest()
    expected = hmac.new(key, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    if not body or not mac or not hmac.compare_digest(mac.encode(), base64_encode(expected)):
        raise ValueError("bad signature")
    return json.loads(base64_decode(body))
