"""Whether a learner may take a place on a session, and what kind of place.

`decide_booking` is the whole decision for a sign-up, over plain data the service gathered under
the session's lock. It returns a place (`booked` / `waitlisted`) or every reason it cannot.
`preview_booking` is the same decision before the learner has sent anything: what the session
table may offer (sign up, join the waiting list, move a place held on another date) or why not,
so the page and the booking cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from booking.domain.approvals import terms_reasons
from booking.domain.eligibility import (
    Audience,
    Certification,
    LearnerProfile,
    Prerequisite,
    Question,
    answer_reasons,
    audience_reasons,
    certification_reasons,
    prerequisite_reasons,
)
from booking.domain.reasons import CONFLICT, UNPROCESSABLE, Reason
from booking.domain.schedule import DateSlot, SeatCounts
from booking.domain.states import BLOCKS_CALENDAR, HOLDS_SEAT, BookingState


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
    course_code: str = ""
    unit_names: Mapping[str, str] = field(default_factory=dict)
    prerequisites: Sequence[Prerequisite] = ()
    certification: Certification | None = None
    questions: Sequence[Question] = ()
    approval_steps: Sequence[str] = ()
    terms_version: int = 1

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


@dataclass(frozen=True, slots=True)
class SignUp:
    """What the learner sent with the sign-up."""

    answers: Mapping[str, object] | None = None
    accept_terms: bool = False


def decide_booking(
    session: SessionFacts,
    learner: LearnerProfile,
    existing: Sequence[ExistingBooking],
    *,
    now: datetime,
    overrides: Overrides = Overrides(),
    sign_up: SignUp | None = SignUp(accept_terms=True),
) -> BookingDecision:
    """`sign_up=None`: the learner has sent nothing yet, so answers and terms are not judged."""
    closed = _session_closed(session, now=now, overrides=overrides)
    if closed is not None:
        return _refuse(closed)
    reasons = [
        *_signup_window_reasons(session, now=now, overrides=overrides),
        *_other_booking_reasons(session, existing, overrides=overrides),
    ]
    if not overrides.eligibility:
        reasons.extend(
            eligibility_reasons(
                learner,
                now=now,
                course_code=session.course_code,
                audience=session.audience,
                unit_names=session.unit_names,
                prerequisites=session.prerequisites,
                certification=session.certification,
            )
        )
    if sign_up is not None:
        reasons.extend(_sign_up_reasons(session, sign_up))
    if reasons:
        return BookingDecision(None, reasons)
    return _place(session, overrides=overrides)


def booking_conflict(
    other: ExistingBooking,
    *,
    session_id: int,
    course_id: int,
    allow_multiple_bookings: bool,
    dates: Sequence[DateSlot],
    clash_overridden: bool = False,
) -> str | None:
    """Why the learner's `other` booking stands in the way of a place on this session, if it
    does: `already_booked` (this very session), `already_on_course` (another date of a course
    taken once), `clash` (overlapping dates of a booking that holds or awaits a seat). The same
    rule refuses a sign-up and skips a waiting learner at promotion."""
    if other.session_id == session_id:
        return "already_booked"
    if other.course_id == course_id and not allow_multiple_bookings:
        return "already_on_course"
    if not clash_overridden and other.state in BLOCKS_CALENDAR and _clashes(dates, other.dates):
        return "clash"
    return None


def _session_closed(session: SessionFacts, *, now: datetime, overrides: Overrides) -> Reason | None:
    """The state of the session, when it rules out any place on it."""
    if session.stored_status == "cancelled":
        return Reason("session_cancelled", "This session has been cancelled.")
    if session.stored_status == "draft":
        return Reason("session_not_published", "This session is not open for booking yet.")
    if now >= session.ends_at:
        return Reason("session_over", "This session has already taken place.")
    if now >= session.starts_at and not overrides.signup_window:
        return Reason("session_started", "This session has started; sign-up is no longer possible.")
    return None


def _signup_window_reasons(
    session: SessionFacts, *, now: datetime, overrides: Overrides
) -> list[Reason]:
    if overrides.signup_window:
        return []
    if session.signup_opens is not None and now < session.signup_opens:
        return [
            Reason(
                "signup_not_open",
                "Sign-up for this session has not opened yet; it opens on "
                f"{_when(session.signup_opens, session)}.",
                extra={"opens_at": session.signup_opens.isoformat()},
            )
        ]
    if session.signup_closes is not None and now >= session.signup_closes:
        return [
            Reason(
                "signup_closed",
                "Sign-up for this session has closed. Choose another date or ask the "
                "training team to add you.",
            )
        ]
    return []


def _other_booking_reasons(
    session: SessionFacts, existing: Sequence[ExistingBooking], *, overrides: Overrides
) -> list[Reason]:
    """The learner's other bookings: this session already, the course already, or a clash."""
    reasons = []
    for other in existing:
        code = booking_conflict(
            other,
            session_id=session.id,
            course_id=session.course_id,
            allow_multiple_bookings=session.allow_multiple_bookings,
            dates=session.dates,
            clash_overridden=overrides.clash,
        )
        if code is not None:
            reasons.append(_conflict_reason(code, session, other))
    return reasons


def _conflict_reason(code: str, session: SessionFacts, other: ExistingBooking) -> Reason:
    if code == "already_booked":
        waiting = " (on the waiting list)." if other.state == BookingState.WAITLISTED else "."
        return Reason(
            "already_booked",
            "You already have a place on this session" + waiting,
            extra={"booking_id": other.id},
        )
    if code == "already_on_course":
        return Reason(
            "already_on_course",
            f"You already hold a place on another date of {session.course_title}. "
            "Move that booking to this date instead of booking twice.",
            extra={"booking_id": other.id, "session_id": other.session_id},
        )
    return Reason(
        "clash",
        f"This session overlaps your booking on {other.course_title}. "
        "Cancel or move that booking first, or choose another date.",
        extra={"booking_id": other.id, "session_id": other.session_id},
    )


def _sign_up_reasons(session: SessionFacts, sign_up: SignUp) -> list[Reason]:
    """What the learner sent: the course's questions answered, its terms accepted."""
    return [
        *answer_reasons(session.questions, dict(sign_up.answers or {})),
        *terms_reasons(session.approval_steps, sign_up.accept_terms, session.terms_version),
    ]


def _place(session: SessionFacts, *, overrides: Overrides) -> BookingDecision:
    """Nothing stands in the way: a seat if one is free, else the waiting list if it has one."""
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


# Who the learner is: the same for every session of the course (the course page says these once).
ELIGIBILITY_CODES = frozenset(
    {
        "audience_org_unit",
        "audience_job_role",
        "audience_staff_type",
        "prerequisite_missing",
        "certification_current",
    }
)


@dataclass(frozen=True, slots=True)
class BookingPreview:
    """What the session table may offer a learner who has sent nothing yet.

    `decision` is what signing up would give (or every reason it would be refused). When the
    only reason is a place already held on another date of the course, and moving that place
    here would be accepted, `move_from` names that booking and `move_to` is what moving gives.
    """

    decision: BookingDecision
    move_from: int | None = None
    move_to: BookingState | None = None

    @property
    def action(self) -> str | None:
        """`signup`, `waitlist`, `move`, or None (refused: show the reasons instead)."""
        if self.move_from is not None:
            return "move"
        if self.decision.state == BookingState.BOOKED:
            return "signup"
        if self.decision.state == BookingState.WAITLISTED:
            return "waitlist"
        return None


def preview_booking(
    session: SessionFacts,
    learner: LearnerProfile,
    existing: Sequence[ExistingBooking],
    *,
    now: datetime,
) -> BookingPreview:
    """`decide_booking` before the learner sends the form.

    Moving is offered when it would not leave the learner worse off: the move books a seat,
    or the place given up holds none (a waiting-list place or a request awaiting approval).
    Giving up a seat for a place on a waiting list is not offered from the table."""
    decision = decide_booking(session, learner, existing, now=now, sign_up=None)
    if not decision.refused:
        return BookingPreview(decision)
    (only, *more) = decision.reasons
    if more or only.code != "already_on_course":
        return BookingPreview(decision)
    moving = next((b for b in existing if b.id == only.extra.get("booking_id")), None)
    if moving is None:
        return BookingPreview(decision)
    rest = [b for b in existing if b.id != moving.id]
    moved = decide_booking(session, learner, rest, now=now, sign_up=None)
    if moved.state is None:
        return BookingPreview(decision)
    if moved.state == BookingState.BOOKED or moving.state not in HOLDS_SEAT:
        return BookingPreview(decision, move_from=moving.id, move_to=moved.state)
    return BookingPreview(decision)


def eligibility_reasons(
    learner: LearnerProfile,
    *,
    now: datetime,
    course_code: str,
    audience: Audience | None,
    unit_names: Mapping[str, str],
    prerequisites: Sequence[Prerequisite],
    certification: Certification | None,
) -> list[Reason]:
    """Audience, prerequisites and certification window: shown on the course page before the
    learner tries, and checked again when they do."""
    reasons: list[Reason] = []
    if audience is not None:
        reasons.extend(audience_reasons(audience, learner, unit_names))
    reasons.extend(prerequisite_reasons(prerequisites, learner.completions, now))
    reasons.extend(certification_reasons(course_code, certification, learner.completions, now))
    return reasons


def _refuse(reason: Reason) -> BookingDecision:
    return BookingDecision(None, [reason])


def _clashes(a: Sequence[DateSlot], b: Sequence[DateSlot]) -> bool:
    return any(x.overlaps(y) for x in a for y in b)


def _when(at: datetime, session: SessionFacts) -> str:
    tz = ZoneInfo(session.dates[0].timezone) if session.dates else None
    local = at.astimezone(tz) if tz else at
    return local.strftime("%-d %B %Y at %H:%M %Z")


__all__ = [
    "ELIGIBILITY_CODES",
    "UNPROCESSABLE",
    "BookingDecision",
    "BookingPreview",
    "ExistingBooking",
    "Overrides",
    "SessionFacts",
    "booking_conflict",
    "decide_booking",
    "preview_booking",
]
