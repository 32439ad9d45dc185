"""What callers give the catalogue: a course, a session, a change to a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from billing.domain.money import Money

# "Not given" in a change, where None is a value one may give (no room, no link, no window).
UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class DiscountInput:
    """A lower price (in the course's currency, minor units) for the people in `audience`
    (shaped like a course's audience: org_units, job_roles, staff_types)."""

    amount: int
    audience: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CourseInput:
    code: str
    title: str
    summary: str = ""
    price: Money | None = None
    approval: list[str] = field(default_factory=list)
    cancellation_policy: dict[str, Any] | None = None
    audience: dict[str, Any] | None = None
    prerequisites: list[dict[str, Any]] = field(default_factory=list)
    allow_multiple_bookings: bool = False
    questions: list[dict[str, Any]] = field(default_factory=list)
    terms_text: str | None = None
    certification_months: int | None = None
    certification_window_days: int | None = None
    # UNSET keeps what the course has (an API PUT written before these fields existed);
    # None clears it. A new course takes UNSET as None.
    category: str | None = UNSET
    owner_email: str | None = UNSET
    discount: DiscountInput | None = UNSET


@dataclass(frozen=True, slots=True)
class DateInput:
    start: datetime
    end: datetime
    timezone: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RoomInput:
    """A session's room: found by name (created if new, updated by the details given), or,
    with `id`, one picked from the rooms on file (the name is then not read)."""

    name: str
    address: str | None = None
    capacity: int | None = None
    details: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RoomDetails:
    """A room as its form gives it: every field, for creating or replacing."""

    name: str
    address: str | None = None
    capacity: int | None = None
    details: str | None = None  # joining and arrival: reception, parking, what to bring
    accessibility: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class SessionInput:
    dates: list[DateInput]
    capacity: int
    room: RoomInput | None = None
    virtual_link: str | None = None
    facilitators: list[str] = field(default_factory=list)
    waitlist_mode: str = "auto"
    offer_hours: int = 24
    signup_opens: datetime | None = None
    signup_closes: datetime | None = None
    min_bookings: int = 0
    status: str = "open"
    auto_cancel_below_min: bool = False
    # An administrator's reason to schedule despite a room or trainer clash.
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SessionChanges:
    """A PATCH: only the fields given change."""

    dates: list[DateInput] | None = None
    capacity: int | None = None
    room: RoomInput | None = UNSET
    virtual_link: str | None = UNSET
    facilitators: list[str] | None = None
    waitlist_mode: str | None = None
    offer_hours: int | None = None
    signup_opens: datetime | None = UNSET
    signup_closes: datetime | None = UNSET
    min_bookings: int | None = None
    status: str | None = None
    auto_cancel_below_min: bool | None = None
    override_reason: str | None = None

    def given(self) -> list[str]:
        """The fields this change gives (a PATCH sends only those it changes). Where the
        default is UNSET, None is a value given (no room, no link); elsewhere None means not
        given. The override reason is not a change."""
        names = []
        for name, spec in SessionChanges.__dataclass_fields__.items():
            value = getattr(self, name)
            if name == "override_reason" or value is UNSET:
                continue
            if value is None and spec.default is not UNSET:
                continue
            names.append(name)
        return names
