"""Who is who (a person, an administrator), and the rules of booking a place and running a
session."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.kernel.actors import Actor


@dataclass(frozen=True, slots=True)
class BookingAccess:
    learner_id: int
    learner_manager_id: int | None
    facilitator_ids: Collection[int]


def is_person(actor: Actor) -> bool:
    return actor.scope == "person" and actor.person_id is not None


def can_administer(actor: Actor) -> bool:
    # The worker's sweeps act as the system (e.g. cancelling a session under its minimum); no
    # request can carry that scope.
    return actor.is_admin or actor.scope == "system"


def can_book_in_bulk(actor: Actor) -> bool:
    """Administrators and service tokens book for many people at once (a cohort, an HR feed):
    their booking attempts have their own rate ceiling. (Whether a service token may book at
    all is `can_book_for`'s answer: today it may not.)"""
    return actor.is_admin or actor.scope not in ("person", "system")


def can_browse_catalogue(actor: Actor) -> bool:
    return is_person(actor)


def can_see_drafts(actor: Actor) -> bool:
    return actor.is_admin


def can_book_for(actor: Actor, learner_id: int, learner_manager_id: int | None) -> bool:
    if not is_person(actor):
        return False
    if actor.person_id == learner_id or actor.is_admin:
        return True
    return learner_manager_id is not None and learner_manager_id == actor.person_id


def can_view_booking(actor: Actor, access: BookingAccess) -> bool:
    if not is_person(actor):
        return False
    return (
        actor.is_admin
        or actor.person_id == access.learner_id
        or (access.learner_manager_id is not None and access.learner_manager_id == actor.person_id)
        or actor.person_id in access.facilitator_ids
    )


def can_cancel_booking(actor: Actor, access: BookingAccess) -> bool:
    """Learners cancel their own, managers their reports', trainers and admins their rosters'."""
    return can_view_booking(actor, access)


def can_answer_offer(actor: Actor, access: BookingAccess) -> bool:
    return is_person(actor) and (actor.person_id == access.learner_id or actor.is_admin)


def can_view_roster(actor: Actor, facilitator_ids: Collection[int]) -> bool:
    return is_person(actor) and (actor.is_admin or actor.person_id in facilitator_ids)


def can_override(actor: Actor) -> bool:
    return actor.is_admin


def can_override_on(actor: Actor, facilitator_ids: Collection[int]) -> bool:
    """Trainers may add a learner to their own session past the usual rules, with a reason."""
    return is_person(actor) and (actor.is_admin or actor.person_id in facilitator_ids)


def can_run_session(actor: Actor, facilitator_ids: Collection[int]) -> bool:
    """Take attendance, move, message and export: the session's trainers and administrators."""
    return can_view_roster(actor, facilitator_ids)


# Roster


def knows_session_exists(actor: Actor, session_status: str) -> bool:
    """Whether a refusal to run a session may say so (403) rather than hide it (404): people
    see published sessions; drafts stay private."""
    return is_person(actor) and session_status != "draft"


def can_mark_attendance(actor: Actor, *, ends_at: datetime, now: datetime, lock_days: int) -> bool:
    """Trainers change attendance until `lock_days` after the session; administrators always."""
    return actor.is_admin or now <= ends_at + timedelta(days=lock_days)
