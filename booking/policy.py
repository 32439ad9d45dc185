"""Authorisation, in one place. Services ask here; nothing else decides who may see or do what.

Objects a caller may not see answer 404 (their existence is private), actions on objects they can
see but not change answer 403.
"""

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


# Approvals and payments


def can_decide_approval(actor: Actor, approver_id: int | None) -> bool:
    """A request named for a person is theirs alone; one named for no one (no manager on
    record) is any administrator's. Requests a person may not decide are not shown to them."""
    if not is_person(actor):
        return False
    if approver_id is not None:
        return approver_id == actor.person_id
    return actor.is_admin


def sees_unassigned_approvals(actor: Actor) -> bool:
    """Administrators' queue also holds the requests named for no one."""
    return actor.is_admin


def can_pay_for(actor: Actor, learner_id: int) -> bool:
    """The learner pays for their own place (an administrator may open the page too)."""
    return is_person(actor) and (actor.person_id == learner_id or actor.is_admin)


def can_manage_billing(actor: Actor) -> bool:
    """Cost codes, fee waivers and the finance journal."""
    return can_administer(actor)


def can_see_spending(actor: Actor) -> bool:
    """Spend per cost code: budget holders (their own codes) and administrators (every code)."""
    return actor.is_admin or "budget_holder" in actor.roles


def sees_all_spending(actor: Actor) -> bool:
    return actor.is_admin


# Notifications and people


def can_read_outbox(actor: Actor) -> bool:
    """Every message to anyone, as it would be sent: administrators only."""
    return can_administer(actor)


def can_requeue_messages(actor: Actor) -> bool:
    return can_administer(actor)


def link_is_recipients_only(topic: str) -> bool:
    """Account messages carry a secret link (a password reset): an administrator reading the
    outbox could take over the account with it, so only its recipient sees it."""
    return topic.startswith("account.")


def has_calendar_feed(actor: Actor) -> bool:
    return is_person(actor)


def can_manage_people(actor: Actor) -> bool:
    """Import people and organisation units (roles included): administrators."""
    return can_administer(actor)


# Catalogue


def can_see_session(actor: Actor, stored_status: str) -> bool:
    """A draft session exists only for those who see drafts; other sessions, for everyone who
    may look (whether they may see more of it is another question)."""
    return stored_status != "draft" or can_see_drafts(actor)


# Pages


def can_open_roster(actor: Actor, facilitator_emails: Collection[str]) -> bool:
    """Whether a session row links to its roster: administrators, and the session's trainers
    (the row knows them by email)."""
    return actor.is_admin or actor.email in facilitator_emails


# Bookings


def can_see_joining_link(*, is_admin: bool, runs_session: bool, holds_place: bool) -> bool:
    """An online session's joining link goes only to administrators, to the session's trainers
    and to learners holding a place on it: on pages, in the API and in emails alike (the caller
    says which of these the reader is; emails go to people, not to actors)."""
    return is_admin or runs_session or holds_place


# My sessions and navigation


def runs_sessions(actor: Actor) -> bool:
    """A trainer: someone who runs (or ran) a session, or holds the trainer role and may soon."""
    return is_person(actor) and (actor.runs_sessions or "trainer" in actor.roles)


def manages_people(actor: Actor) -> bool:
    """A line manager: someone with direct reports."""
    return is_person(actor) and actor.has_reports


def holds_a_budget(actor: Actor) -> bool:
    return is_person(actor) and "budget_holder" in actor.roles


def sees_my_team(actor: Actor) -> bool:
    return manages_people(actor)


def sees_approvals(actor: Actor) -> bool:
    """Whoever approves bookings: managers, budget holders and administrators, and anyone a
    request waits for by name (a cost code's holder without the role)."""
    return (
        manages_people(actor)
        or holds_a_budget(actor)
        or actor.is_admin
        or (is_person(actor) and actor.has_approvals_waiting)
    )


def sees_my_sessions(actor: Actor) -> bool:
    return runs_sessions(actor)


def sees_budget(actor: Actor) -> bool:
    """Budget holders' spend page (administrators reach it from the administration page)."""
    return holds_a_budget(actor)


def can_open_administration(actor: Actor) -> bool:
    return actor.is_admin


# Rooms


def can_manage_rooms(actor: Actor) -> bool:
    """Rooms (their list, details, calendar and the picker) are administrators' business."""
    return can_administer(actor)


# People administration


def can_look_up_people(actor: Actor) -> bool:
    """The people list, a person's page (their details, bookings and roles) and the unit tree:
    administrators."""
    return can_administer(actor)


def can_change_roles(actor: Actor) -> bool:
    return can_manage_people(actor)


def can_change_active(actor: Actor) -> bool:
    """Deactivate (the person can no longer sign in or be booked; their history stays) or
    reactivate someone."""
    return can_manage_people(actor)


def may_take_administration_from(actor: Actor, person_id: int) -> bool:
    """Whether the actor may take this person's administration away (remove the admin role,
    deactivate them): not their own. Another administrator must, so nobody locks the training
    team out by a slip."""
    return actor.person_id != person_id


# Tokens


def can_manage_service_tokens(actor: Actor) -> bool:
    """Service tokens for integrations (list, create, revoke): administrators, signed in as
    themselves, since the token page records who made each one."""
    return actor.is_admin and is_person(actor)


# Courses (catalogue administration)


def can_manage_courses(actor: Actor) -> bool:
    """The course list, the course form (create, change, copy) and archiving: administrators."""
    return can_administer(actor)


def sees_archived_courses(actor: Actor) -> bool:
    """Archived courses are left out of the catalogue for everyone but administrators."""
    return actor.is_admin


# Account requests


def can_decide_account_requests(actor: Actor) -> bool:
    """The queue of account requests from the public form (their details, approving, which
    makes the person, and declining): administrators."""
    return can_administer(actor)


# Sessions list (administration)


def can_list_all_sessions(actor: Actor) -> bool:
    """Every session, whoever runs it, drafts and cancelled ones included: administrators."""
    return can_administer(actor)


# Reports


def can_see_reports(actor: Actor) -> bool:
    """The reports (fill rate, waiting lists, attendance, cancellations, fees, trainers,
    compliance) cover everyone's bookings and the money: administrators. The compliance report
    among them also asks `can_see_compliance_report`, the rule of the compliance page."""
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
