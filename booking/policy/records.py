"""Records of learning and mandatory learning: who sees a record, certificates, evidence,
programs, exemptions and extensions."""

from __future__ import annotations

from collections.abc import Collection

from booking.kernel.actors import Actor
from booking.policy.base import can_administer, is_person

# Records


def can_sync_records(actor: Actor) -> bool:
    """The learning-records service (a `records` token) and administrators send completions
    and read the records feed."""
    return actor.scope == "records" or actor.is_admin


def can_import_completions(actor: Actor) -> bool:
    return actor.is_admin


def can_view_record(actor: Actor, person_id: int, manager_ids: Collection[int]) -> bool:
    """A record of learning: the person, their line managers (direct or indirect: everyone up
    the chain, `manager_ids`) and administrators."""
    if not is_person(actor):
        return False
    return actor.is_admin or actor.person_id == person_id or actor.person_id in manager_ids


def can_see_compliance_report(actor: Actor) -> bool:
    return actor.is_admin


# Certificates and evidence (issue 18)


def owns_course(actor: Actor, owner_email: str | None) -> bool:
    """A course's owner: the person signed in with its `owner_email` (a team mailbox that is
    nobody's sign-in owns nothing here; administrators decide for it)."""
    return is_person(actor) and bool(owner_email) and owner_email == actor.email.lower()


def can_see_evidence(
    actor: Actor, learner_id: int, manager_ids: Collection[int], owner_email: str | None
) -> bool:
    """Evidence and its file: as a record of learning (the person, their line managers up the
    chain, administrators), and the course's owner, who must see it to decide."""
    return can_view_record(actor, learner_id, manager_ids) or owns_course(actor, owner_email)


def can_decide_evidence(actor: Actor, owner_email: str | None) -> bool:
    return actor.is_admin or owns_course(actor, owner_email)


def owns_some_course(actor: Actor) -> bool:
    """The header's "Evidence" entry (administrators reach the queue from administration)."""
    return is_person(actor) and actor.owns_courses


# Learning programs


def can_manage_programs(actor: Actor) -> bool:
    """Create, change and list learning programs: administrators."""
    return can_administer(actor)


def can_read_programs(actor: Actor) -> bool:
    """A program's definition (its sets of courses, its audience) is no secret: anyone signed in
    or holding a token reads it."""
    return actor.scope in ("person", "records", "system")


# Exemptions and extensions (mandatory learning); the queue's header entry: `owns_some_course`


def can_request_exemption(actor: Actor, learner_id: int, *, manages_learner: bool) -> bool:
    """For a person: their line manager up the chain (`manages_learner`, read by the service)
    or an administrator; never the person themselves (someone else vouches for the reason)."""
    if not is_person(actor) or actor.person_id == learner_id:
        return False
    return actor.is_admin or manages_learner


def can_decide_exemption(actor: Actor, owner_email: str | None) -> bool:
    """Approving or declining a request: the course's owner or an administrator."""
    return is_person(actor) and (actor.is_admin or owns_course(actor, owner_email))


def can_see_exemption(
    actor: Actor, *, owner_email: str | None, requested_by_id: int | None, learner_id: int
) -> bool:
    """Who may decide a request, who asked, and the person it is for."""
    mine = is_person(actor) and actor.person_id in (requested_by_id, learner_id)
    return mine or can_decide_exemption(actor, owner_email)
