"""One-click links in the email that asks a course's owner (or an administrator) to decide an
exemption or extension: signed for one request, one decision and one person, as approvals'
links are (`booking.approvals.links`). The link opens a confirmation page for the signed-in
person; it never decides on a GET."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking import signing
from booking.config import Settings
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError

LINK_PURPOSE = "exemption-decision"
LINK_LIFETIME = timedelta(days=30)
DECISIONS = ("approve", "decline")


def exemption_link(
    settings: Settings, request_id: int, person_id: int, decision: str, now: datetime
) -> str:
    """The link that answers `decision` to the request, for `person_id`, valid for
    `LINK_LIFETIME` from `now`."""
    token = signing.sign(
        settings.secret_key,
        LINK_PURPOSE,
        {"r": request_id, "p": person_id, "d": decision},
        now + LINK_LIFETIME,
    )
    return f"{settings.base_url}/exemptions/{request_id}/{decision}?t={token}"


def check_exemption_link(
    settings: Settings, actor: Actor, request_id: int, decision: str, token: str, now: datetime
) -> None:
    """A link works only for its request and decision, before it expires, and only for the
    person it was sent to, signed in."""
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
