"""The header's navigation: each person sees the entries they can use, decided by `policy`
from what their sign-in read (roles, direct reports, sessions run, approvals waiting), so
drawing it costs no query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request

from booking import policy
from booking.kernel.actors import Actor
from booking.web.pages.admin_hub import ADMIN_NAV


@dataclass(frozen=True, slots=True)
class NavEntry:
    label: str
    href: str
    # The pages' `nav` markers under which this entry is the current one.
    markers: frozenset[str]


def _everyone(actor: Actor) -> bool:
    return policy.is_person(actor)


# In header order; the first entry whose markers hold a page's marker is its current entry.
_ENTRIES: tuple[tuple[NavEntry, Callable[[Actor], bool]], ...] = (
    (NavEntry("My bookings", "/me/bookings", frozenset({"bookings"})), _everyone),
    (NavEntry("My record", "/me/record", frozenset({"record"})), _everyone),
    (NavEntry("My sessions", "/me/sessions", frozenset({"my_sessions"})), policy.sees_my_sessions),
    (NavEntry("My team", "/team", frozenset({"team"})), policy.sees_my_team),
    (NavEntry("Approvals", "/approvals", frozenset({"approvals"})), policy.sees_approvals),
    (NavEntry("Budget", "/budget", frozenset({"budget"})), policy.sees_budget),
    (NavEntry("Evidence", "/evidence", frozenset({"evidence"})), policy.owns_some_course),
    # exemptions: the queue, for course owners (administrators: from Administration)
    (NavEntry("Exemptions", "/exemptions", frozenset({"exemptions"})), policy.owns_some_course),
    (NavEntry("Administration", "/admin", ADMIN_NAV), policy.can_open_administration),
)
COURSES = NavEntry("Courses", "/courses", frozenset({"courses"}))


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str
    current: bool


def nav_entries(actor: Actor | None, marker: str | None = None) -> list[NavLink]:
    """The entries `actor` can use (Courses for everyone, then those their roles allow), the
    first one whose markers hold the page's `marker` marked current."""
    usable = [COURSES]
    if actor is not None:
        usable += [entry for entry, sees in _ENTRIES if sees(actor)]
    current = next((e for e in usable if marker in e.markers), None)
    return [NavLink(e.label, e.href, e is current) for e in usable]


def navigation(request: Request[Any, Any, Any] | None, marker: str | None = None) -> list[NavLink]:
    """The template global: the entries for whoever this request's sign-in check loaded."""
    state = request.scope.get("state") if request is not None else None
    actor = state.get("actor") if isinstance(state, dict) else None
    return nav_entries(actor if isinstance(actor, Actor) else None, marker)
