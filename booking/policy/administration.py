"""Approvals, money, messages, navigation and the administrators' pages."""

from __future__ import annotations

from collections.abc import Collection

from booking.kernel.actors import Actor
from booking.policy.base import can_administer, can_see_drafts, is_person

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


# Webhooks (issue 19)


def can_manage_webhooks(actor: Actor) -> bool:
    """Outgoing webhook endpoints (list, register, change, remove, their delivery log and
    resending): administrators, by token or signed in."""
    return actor.is_admin
