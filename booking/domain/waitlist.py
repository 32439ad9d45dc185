"""Who gets a freed place: first in line who may still take it, FIFO by join order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.domain.states import BookingState


@dataclass(frozen=True, slots=True)
class WaitingLearner:
    booking_id: int
    waitlist_seq: int
    # Why this learner can no longer take the place (a clash since, another date booked), if so.
    blocked_by: str | None = None


@dataclass(frozen=True, slots=True)
class Promotion:
    booking_id: int
    to_state: BookingState
    offer_expires_at: datetime | None = None


def choose_promotions(
    waiting: Sequence[WaitingLearner],
    *,
    free_seats: int,
    mode: str,
    now: datetime,
    offer_hours: int,
    starts_at: datetime,
) -> list[Promotion]:
    """Fill `free_seats` from the front of the line, skipping learners who are blocked.

    `auto` books them at once; `offer` holds the seat for `offer_hours` (never past the start);
    `off` promotes nobody. Nobody is promoted once the session has started.
    """
    if mode == "off" or free_seats <= 0 or now >= starts_at:
        return []
    promotions: list[Promotion] = []
    for learner in sorted(waiting, key=lambda w: w.waitlist_seq):
        if len(promotions) == free_seats:
            break
        if learner.blocked_by is not None:
            continue
        if mode == "auto":
            promotions.append(Promotion(learner.booking_id, BookingState.BOOKED))
        else:
            promotions.append(
                Promotion(
                    learner.booking_id,
                    BookingState.OFFERED,
                    offer_expiry(now=now, offer_hours=offer_hours, starts_at=starts_at),
                )
            )
    return promotions


def offer_expiry(*, now: datetime, offer_hours: int, starts_at: datetime) -> datetime:
    return min(now + timedelta(hours=offer_hours), starts_at)
