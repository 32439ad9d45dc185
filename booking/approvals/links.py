"""One-click links in the approver's email: signed for one request, one decision, one person."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking import signing
from booking.config import Settings
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError

LINK_PURPOSE = "approval-decision"
LINK_LIFETIME = timedelta(days=14)


def decision_link(
    settings: Settings,
    request_id: int,
    approver_id: int,
    decision: str,
    now: datetime,
    until: datetime | None = None,
) -> str:
    """The link that answers `decision` to the request, valid until `until` (at most
    `LINK_LIFETIME`)."""
    expires = min(until, now + LINK_LIFETIME) if until else now + LINK_LIFETIME
    token = signing.sign(
        settings.secret_key,
        LINK_PURPOSE,
        {"r": request_id, "p": approver_id, "d": decision},
        expires,
    )
    return f"{settings.base_url}/approvals/{request_id}/{decision}?t={token}"


def check_link(
    settings: Settings, actor: Actor, request_id: int, decision: str, token: str, now: datetime
) -> None:
    """A link works only for the request and decision it was made for, before it expires, and
    only for the person it was issued to (who must be the one signed in)."""
    try:
        data = signing.verify(settings.secret_key, LINK_PURPOSE, token, now)
    except signing.BadSignature as exc:
        raise ForbiddenError(str(exc)) from exc
    if data.get("r") != request_id or data.get("d") != decision:
        raise ForbiddenError("This link is not valid.")
    if data.get("p") != actor.person_id:
        raise ForbiddenError(
            "This link was sent to someone else. Sign in as the person it was sent to."
        )
