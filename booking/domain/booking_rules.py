"""Whether a learner may take a place on a session, and what kind of place.

`decide_booking` is the whole decision for a sign-up, over plain data the service gathered under
the session's lock. It returns a place (`booked` / `waitlisted`) or every reason it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from booking.domain.eligibility import Audience, LearnerProfile, audience_reasons
from booking.domain.reasons import CONFLICT, UNPROCESSABLE, Reason
from booking.domain.schedule import DateSlot, SeatCounts
from booking.domain.states import BLOCKS_CALENDAR, BookingState


@dataclass(frozen=True, slots=True)
class SessionFacts:
    id: int
    course_id: int
    course_title: str
    stored_status: str
    dates: Sequence[DateSlot]
    signup_opens: datetime | None
    signup_closes: datetime | None
    waitlist_mode: str
    seats: SeatCounts
    allow_multiple_bookings: bool = False
    audience: Audience | None = None

    @property
    def starts_at(self) -> datetime:
        return min(d.start for d in self.dates)

    @property
    def ends_at(self) -> datetime:
        return max(d.end for d in self.dates)


@dataclass(frozen=True, slots=True)
class ExistingBooking:
    """One of the learner's active bookings, anywhere."""

    id: int
    session_id: int
    course_id: int
    course_title: str
    state: str
    dates: Sequence[DateSlot]


@dataclass(frozen=True, slots=True)
class Overrides:
    """What an administrator may override, with a reason the service records."""

    capacity: bool = False
    signup_window: bool = False
    eligibility: bool = False
    clash: bool = False


@dataclass(frozen=True, slots=True)
class BookingDecision:
    state: BookingState | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.state is None


def decide_booking(
    session: SessionFacts,
    learner: LearnerProfile,
    existing: Sequence[ExistingBooking],
    *,
    now: datetime,
    overrides: Overrides = Overrides(),
) -> BookingDecision:
    reasons: list[Reason] = []

    # The state of the session.
    if session.stored_status == "cancelled":
        return _refuse(Reason("session_cancelled", "This session has been cancelled."))
    if session.stored_status == "draft":
        return _refuse(Reason("session_not_published", "This session is not open for booking yet."))
    if now >= session.ends_at:
        return _refuse(Reason("session_over", "This session has already taken place."))
    if now >= session.starts_at and not overrides.signup_window:
        return _refuse(
            Reason("session_started", "This session has started; sign-up is no longer possible.")
        )
    if not overrides.signup_window:
        if session.signup_opens is not None and now < session.signup_opens:
            reasons.append(
                Reason(
                    "signup_not_open",
                    "Sign-up for this session has not opened yet; it opens on "
                    f"{_when(session.signup_opens, session)}.",
                    extra={"opens_at": session.signup_opens.isoformat()},
                )
            )
        elif session.signup_closes is not None and now >= session.signup_closes:
            reasons.append(
                Reason(
                    "signup_closed",
                    "Sign-up for this session has closed. Choose another date or ask the "
                    "training team to add you.",
                )
            )

    # The learner's other bookings.
    for other in existing:
        if other.session_id == session.id:
            reasons.append(
                Reason(
                    "already_booked",
                    "You already have a place on this session"
                    + (
                        " (on the waiting list)." if other.state == BookingState.WAITLISTED else "."
                    ),
                    extra={"booking_id": other.id},
                )
            )
        elif other.course_id == session.course_id and not session.allow_multiple_bookings:
            reasons.append(
                Reason(
                    "already_on_course",
                    f"You already hold a place on another date of {session.course_title}. "
                    "Move that booking to this date instead of booking twice.",
                    extra={"booking_id": other.id, "session_id": other.session_id},
                )
            )
        elif (
            not overrides.clash
            and other.state in BLOCKS_CALENDAR
            and _clashes(session.dates, other.dates)
        ):
            reasons.append(
                Reason(
                    "clash",
                    f"This session overlaps your booking on {other.course_title}. "
                    "Cancel or move that booking first, or choose another date.",
                    extra={"booking_id": other.id, "session_id": other.session_id},
                )
            )

    # Who the learner is.
    if not overrides.eligibility and session.audience is not None:
        reasons.extend(audience_reasons(session.audience, learner))

    if reasons:
        return BookingDecision(None, reasons)

    if session.seats.free > 0 or overrides.capacity:
        return BookingDecision(BookingState.BOOKED)
    if session.waitlist_mode == "off":
        return _refuse(
            Reason(
                "session_full",
                "This session is full and has no waiting list. Choose another date.",
                CONFLICT,
            )
        )
    return BookingDecision(BookingState.WAITLISTED)


def _refuse(reason: Reason) -> BookingDecision:
    return BookingDecision(None, [reason])


def _clashes(a: Sequence[DateSlot], b: Sequence[DateSlot]) -> bool:
    return any(x.overlaps(y) for x in a for y in b)


def _when(at: datetime, session: SessionFacts) -> str:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(session.dates[0].timezone) if session.dates else None
    local = at.astimezone(tz) if tz else at
    return local.strftime("%-d %B %Y at %H:%M %Z")


__all__ = [
    "UNPROCESSABLE",
    "BookingDecision",
    "ExistingBooking",
    "Overrides",
    "SessionFacts",
    "decide_booking",
]
