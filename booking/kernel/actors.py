"""Who is acting: a person with roles, or a machine client with a scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

ROLES = ("learner", "trainer", "budget_holder", "admin")


@dataclass(frozen=True, slots=True)
class Actor:
    person_id: int | None
    email: str
    name: str
    roles: frozenset[str]
    # "person" acts with the person's roles; "records" may use the records endpoints only.
    scope: str = "person"
    # What the person is to others, read with their sign-in (for the pages' navigation only:
    # permissions ask about the object in hand, never these). False for tokens and the system.
    has_reports: bool = False
    runs_sessions: bool = False
    has_approvals_waiting: bool = False
    # Owns a course (`courses.owner_email` is their address): decides its evidence, and its
    # exemptions and extensions.
    owns_courses: bool = False

    @property
    def is_admin(self) -> bool:
        return self.scope == "person" and "admin" in self.roles

    @property
    def label(self) -> str:
        return self.email

    @classmethod
    def system(cls) -> Actor:
        return cls(None, "system", "System", frozenset(), "system")


@dataclass(frozen=True, slots=True)
class Vouch:
    """An actor remembered for a bearer token instead of read for this request: a booking
    checks that the token still stands, and the person is still as remembered, in its own read
    (`bookings.vouch`); anything else asks `recheck` for the actor read afresh first (it raises
    for a token that no longer stands)."""

    token_hash: str
    recheck: Callable[[], Awaitable[Actor]]


@dataclass(slots=True)
class UnreadToken:
    """A bearer token not read for this request (PostgreSQL): a plain booking finds its learner
    by the token in the booking's own first statement (`bookings.vouch.READ_BY_TOKEN`), and
    hands the actor made of that row to `on_read` — which may refuse the attempt (the rate
    limit) — before it decides anything. A token that stands for no active person there, or a
    booking that cannot read it itself, has the actor read by `read` instead (which counts the
    attempt too, and raises for a token that does not stand); `actor`: the one the booking
    read."""

    token_hash: str
    on_read: Callable[[Actor], Awaitable[None]]
    read: Callable[[], Awaitable[Actor]]
    actor: Actor | None = None
