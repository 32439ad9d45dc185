"""Signing deliveries in the Standard Webhooks style (what Svix and Stripe do too).

The secret is `whsec_` and base64 of 32 random bytes; the key is those bytes. Each delivery has
`webhook-id` (the event id, the same on every attempt and resend: receivers drop repeats by it),
`webhook-timestamp` (unix seconds) and `webhook-signature`: `v1,` and base64 of
HMAC-SHA256(key, "{id}.{timestamp}.{body}")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "booking-webhooks/1",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, event_id, timestamp, body),
    }
