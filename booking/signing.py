"""Signed, expiring tokens for links in emails (HMAC-SHA256 over the secret key).

A token names what it is for (`purpose`), the data it carries and its expiry; anything else, or a
single changed byte, fails verification. Single use is the caller's business: an approval link
stops working once its request has been decided.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any


class BadSignature(Exception):
    """The token is forged, altered, for something else, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    key = hashlib.sha256(f"booking-links:{secret}".encode()).digest()
    return _b64(hmac.new(key, f"{purpose}.{body}".encode(), hashlib.sha256).digest())


def sign(secret: str, purpose: str, data: dict[str, Any], expires_at: datetime) -> str:
    body = _b64(
        json.dumps({"d": data, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode()
    )
    return f"{body}.{_mac(secret, purpose, body)}"


def verify(secret: str, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    body, _, mac = (token or "").partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(secret, purpose, body)):
        raise BadSignature("This link is not valid.")
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError) as exc:
        raise BadSignature("This link is not valid.") from exc
    if datetime.fromtimestamp(int(payload["exp"]), UTC) <= now:
        raise BadSignature("This link has expired.")
    data = payload["d"]
    if not isinstance(data, dict):
        raise BadSignature("This link is not valid.")
    return data
