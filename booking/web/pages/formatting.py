"""How pages write dates, money, places and states: the Jinja globals every template may use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from litestar import Request

from billing.domain.money import Money
from booking.bookings import ACTIVE_STATES
from booking.config import Settings
from booking.domain.eligibility import Audience, audience_phrase
from booking.domain.states import state_name
from booking.kernel.actors import Actor
from booking.kernel.views import (
    BookingView,
    CourseView,
    MoneyView,
    SessionDateView,
    SessionView,
)
from booking.web.pages.navigation import navigation
from booking.web.pages.rich_text import rich_text

CANCEL_REASONS = (
    "Work commitments",
    "Illness",
    "No longer needed",
    "Booked another date",
    "Other",
)

_STATUS_LABELS = {
    "open": "Open",
    "full": "Full",
    "closed": "Closed",
    "in_progress": "In progress",
    "over": "Over",
    "cancelled": "Cancelled",
    "draft": "Draft",
}


def _day(dt: datetime) -> str:
    return f"{dt:%a} {dt.day} {dt:%b %Y}"


def date_range(d: SessionDateView) -> str:
    """One session date in its own time zone: "Tue 16 Mar 2027, 09:30–12:30 GMT"."""
    start, end = d.start, d.end
    start_zone, end_zone = start.strftime("%Z"), end.strftime("%Z")
    if start.date() == end.date():
        if start_zone == end_zone:
            return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} {start_zone}"
        # The clocks change during the session.
        return f"{_day(start)}, {start:%H:%M} {start_zone} – {end:%H:%M} {end_zone}"
    if start_zone == end_zone:
        return f"{_day(start)}, {start:%H:%M} – {_day(end)}, {end:%H:%M} {end_zone}"
    return f"{_day(start)}, {start:%H:%M} {start_zone} – {_day(end)}, {end:%H:%M} {end_zone}"


def first_day(dates: Sequence[SessionDateView]) -> str:
    """The first date's day, for link labels that need telling apart: "Tue 16 Mar 2027"."""
    return _day(dates[0].start) if dates else "date to be confirmed"


def when(dt: datetime | None, timezone: str | None = None) -> str:
    """An instant, in the given zone (a session's) when known: "Tue 16 Mar 2027, 09:30 GMT"."""
    if dt is None:
        return ""
    local = dt.astimezone(ZoneInfo(timezone)) if timezone else dt
    return f"{_day(local)}, {local:%H:%M %Z}"


def zone_of(dates: Sequence[SessionDateView]) -> str | None:
    return dates[0].timezone if dates else None


def money(value: MoneyView | Mapping[str, Any] | None) -> str:
    """A price for people ("£60.00", "Free"), from a money view or its JSON shape."""
    if value is None:
        return "Free"
    if isinstance(value, Mapping):
        return Money(value["amount"], value["currency"]).display()
    return Money(value.amount, value.currency).display()


def price_text(course: CourseView) -> str:
    """The course's price, and its discount price with who pays it: "£120.00 (£80.00 for
    staff in NURS)"."""
    text = money(course.price)
    if course.discount:
        who = audience_phrase(
            Audience.from_json(cast(dict[str, Any] | None, course.discount["audience"]))
        )
        text += f" ({money(course.discount['price'])} for {who})"
    return text


def places(s: SessionView) -> str:
    """Seats held of capacity, and the waiting list: "17 / 17 (7 wait-listed)"."""
    text = f"{s.seats_held} / {s.capacity}"
    if s.waitlisted:
        text += f" ({s.waitlisted} wait-listed)"
    return text


def location(s: SessionView) -> str:
    if s.room is not None:
        return f"{s.room.name} (and online)" if s.virtual else s.room.name
    return "Online" if s.virtual else "To be confirmed"


def status_label(status: str) -> str:
    return _STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def state_label(b: BookingView) -> str:
    """A booking's state as learners read it: "Booked", "Waitlisted #3", "Offer — accept by …"."""
    if b.state == "waitlisted":
        return f"Waitlisted #{b.waitlist_position}" if b.waitlist_position else "Waitlisted"
    if b.state == "offered":
        if b.offer_expires_at is None:
            return "Offer — accept now"
        return f"Offer — accept by {when(b.offer_expires_at, zone_of(b.dates))}"
    return {
        "booked": "Booked",
        "pending_approval": "Awaiting approval",
        "pending_payment": "Awaiting payment",
        "cancelled": "Cancelled",
        "declined": "Declined",
        "attended": "Attended",
    }.get(b.state, state_name(b.state))


def signed_in_name(request: Request[Any, Any, Any] | None) -> str | None:
    """Who the header names: the actor this request's sign-in check loaded."""
    if request is None:
        return None
    state = request.scope.get("state")
    actor = state.get("actor") if isinstance(state, dict) else None
    if isinstance(actor, Actor):
        return actor.name
    return None


def template_globals(settings: Settings) -> dict[str, Any]:
    return {
        "demo": settings.demo,
        "active_states": ACTIVE_STATES,
        "date_range": date_range,
        "first_day": first_day,
        "when": when,
        "zone_of": zone_of,
        "money": money,
        "price_text": price_text,
        "places": places,
        "location": location,
        "status_label": status_label,
        "state_label": state_label,
        "state_name": state_name,
        "signed_in_name": signed_in_name,
        "navigation": navigation,
        "cancel_reasons": CANCEL_REASONS,
        "rich_text": rich_text,
    }
