"""One row of a session table (`booking/_session_row.html`): the session, the learner's place
in it, and what the booking would do if they asked (offer previewed, or why not)."""

from __future__ import annotations

from typing import Any

from booking import bookings, catalogue, policy
from booking.bookings import ACTIVE_STATES
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import BookingView, SessionView


def session_row(
    s: SessionView,
    mine: BookingView | None,
    actor: Actor,
    offer: bookings.SessionOffer | None,
    *,
    form_open: bool = False,
    focus: bool = False,
    blockers_shown: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """What one row of the session table shows: the session, the learner's place and options.
    The options are what the booking would accept (`offer`, the booking decision previewed);
    where it would refuse, the row says why instead of offering a button."""
    active = mine if mine is not None and mine.state in ACTIVE_STATES else None
    action = offer.action if active is None and offer is not None else None
    return {
        "session": s,
        "mine": mine,
        "active": active,
        "action": action,
        "offer": offer,
        # Who the learner is is said once above the table on the course page.
        "blockers_shown": blockers_shown,
        "can_roster": policy.can_open_roster(actor, s.facilitators),
        "form_open": form_open and action is not None,
        "focus": focus,
        "form": extra.pop("form", {}),
        "reasons": extra.pop("reasons", []),
        "field_errors": extra.pop("field_errors", {}),
        **extra,
    }


async def row_for(
    db: Database, clock: Clock, actor: Actor, session_id: int, **kw: Any
) -> dict[str, Any]:
    """The row of one session, read afresh."""
    s = await catalogue.get_session(db, clock, actor, session_id)
    mine = (await bookings.own_bookings_on(db, clock, actor, [s.id])).get(s.id)
    signup = await catalogue.sign_up_form(db, s.course_id)
    # Every upcoming date of the course: the row's own offer, and the dates with a free seat
    # that the waiting-list form points to.
    offered = await bookings.course_offers(db, clock, actor, s.course_id)
    if s.id not in offered.sessions:  # a draft, or a session already over
        offered = await bookings.course_offers(db, clock, actor, s.course_id, [s.id])
    offer = offered.sessions.get(s.id)
    return session_row(
        s, mine, actor, offer, signup=signup, free_elsewhere=offered.free_elsewhere(s.id), **kw
    )


async def free_elsewhere(
    db: Database, clock: Clock, actor: Actor, booking: BookingView
) -> list[bookings.SessionOffer]:
    """After joining a waiting list: the course's other dates where the learner could have a
    seat now (by moving their place there), to say so with a link."""
    if booking.state != "waitlisted" or booking.learner.id != actor.person_id:
        return []
    offered = await bookings.course_offers(db, clock, actor, booking.course_id)
    return offered.free_elsewhere(booking.session_id)
