"""Signed links: tokens from itsdangerous, and links signed before it still honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking import signing

NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)
SECRET = "k" * 40
DATA = {"r": 5, "p": 7, "d": "approve"}
# Signed by the hand-written signer this module used before itsdangerous, expiring NOW + 14 days.
LEGACY = (
    "eyJkIjp7InIiOjUsInAiOjcsImQiOiJhcHByb3ZlIn0sImV4cCI6MTc5NzY3MDgwMH0"
    ".tDgmwHnO9cQtX2uvDmLVVGp_p7BJwdD4h5E4WFEzL30"
)


def test_a_link_signed_before_itsdangerous_still_verifies_until_it_expires() -> None:
    assert signing.verify(SECRET, "approval-decision", LEGACY, NOW) == DATA
    with pytest.raises(signing.BadSignature, match="expired"):
        signing.verify(SECRET, "approval-decision", LEGACY, NOW + timedelta(days=14))


def test_an_old_link_is_refused_for_another_purpose_secret_or_byte() -> None:
    for secret, purpose, token in [
        ("x" * 40, "approval-decision", LEGACY),
        (SECRET, "password-reset", LEGACY),
        (SECRET, "approval-decision", LEGACY[:-1] + "A"),
    ]:
        with pytest.raises(signing.BadSignature, match="not valid"):
            signing.verify(secret, purpose, token, NOW)


def test_a_new_link_carries_the_same_payload_under_a_new_signature() -> None:
    token = signing.sign(SECRET, "approval-decision", DATA, NOW + timedelta(days=14))
    assert token.partition(".")[0] == LEGACY.partition(".")[0]
    assert token != LEGACY
    assert signing.verify(SECRET, "approval-decision", token, NOW) == DATA


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "é.é"])
def test_malformed_tokens_are_not_valid(token: str) -> None:
    with pytest.raises(signing.BadSignature, match="not valid"):
        signing.verify(SECRET, "approval-decision", token, NOW)
