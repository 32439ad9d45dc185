"""What a caller sends to book a place, and what every booking use case answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from booking import policy
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.kernel.views import BookingView


@dataclass(frozen=True, slots=True)
class BookingRequest:
    session_id: int
    learner_email: str | None = None
    cost_code: str | None = None
    special_requirements: str | None = None
    answers: dict[str, Any] | None = None
    accept_terms: bool = False
    # Administrators only: book past the sign-up window, audience or clash rules, with a reason;
    # `overbook` also past capacity.
    override_reason: str | None = None
    overbook: bool = False
    # The learner's own booking on another date of the same course, given up in the same
    # transaction when this one succeeds ("move my place to this date").
    move_from: int | None = None


@dataclass(slots=True)
class BookingOutcome:
    booking: BookingView
    status_code: int
    replayed: bool = False
    promoted: list[int] = field(default_factory=list)


def validate_request(actor: Actor, request: BookingRequest) -> None:
    """What can be refused before anything is read: lengths, and who may overbook."""
    if request.special_requirements is not None and len(request.special_requirements) > 2000:
        raise InvalidError(
            "Special requirements are limited to 2,000 characters.", "special_requirements"
        )
    if request.overbook and not policy.can_override(actor):
        raise ForbiddenError("Only an administrator can book past a session's capacity.")
    if request.override_reason is not None and not request.override_reason.strip():
        raise InvalidError("An override needs a reason.", "override_reason")
    if request.overbook and not (request.override_reason or "").strip():
        raise InvalidError("Overbooking needs a reason.", "override_reason")
