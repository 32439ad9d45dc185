"""The header's entries: each person sees those they can use, from what their sign-in read."""

from __future__ import annotations

from booking import policy
from booking.kernel.actors import Actor
from booking.web.pages.admin_hub import ADMIN_NAV, ADMIN_PAGES
from booking.web.pages.navigation import nav_entries


def person(*roles: str, **duties: bool) -> Actor:
    return Actor(1, "p@example.org", "P", frozenset({"learner", *roles}), **duties)


def labels(actor: Actor | None, marker: str | None = None) -> list[str]:
    return [e.label + (" *" if e.current else "") for e in nav_entries(actor, marker)]


EVERYONE = ["Courses", "My bookings", "My record"]


def test_a_learner_sees_only_their_own_pages() -> None:
    assert labels(person()) == EVERYONE


def test_someone_with_direct_reports_sees_their_team_and_approvals() -> None:
    assert labels(person(has_reports=True)) == [*EVERYONE, "My team", "Approvals"]


def test_running_a_session_or_the_trainer_role_brings_my_sessions() -> None:
    assert labels(person(runs_sessions=True)) == [*EVERYONE, "My sessions"]
    assert labels(person("trainer")) == [*EVERYONE, "My sessions"]


def test_a_budget_holder_sees_approvals_and_budget() -> None:
    assert labels(person("budget_holder")) == [*EVERYONE, "Approvals", "Budget"]


def test_anyone_a_request_waits_for_sees_approvals() -> None:
    assert labels(person(has_approvals_waiting=True)) == [*EVERYONE, "Approvals"]


def test_an_administrator_sees_administration_not_each_admin_page() -> None:
    assert labels(person("admin")) == [*EVERYONE, "Approvals", "Administration"]


def test_signed_out_and_machine_clients_see_the_catalogue_only() -> None:
    assert labels(None) == ["Courses"]
    service = Actor(None, "service:lms", "lms", frozenset(), "records", runs_sessions=True)
    assert labels(service) == ["Courses"]
    assert not policy.sees_approvals(Actor.system())


def test_the_page_marker_makes_one_entry_current() -> None:
    admin = person("admin", "budget_holder", has_reports=True, runs_sessions=True)
    assert labels(admin, "my_sessions").count("My sessions *") == 1
    # The budget page is the budget holder's own entry, not Administration's.
    assert "Budget *" in labels(admin, "budget") and "Administration" in labels(admin, "budget")
    for marker in ("admin", "outbox", "audit", "compliance", "cost_codes"):
        assert "Administration *" in labels(person("admin"), marker), marker
    assert "Courses *" in labels(person("admin"), "courses")


def test_every_admin_page_lights_the_administration_entry() -> None:
    assert {p.nav for p in ADMIN_PAGES} - {"courses"} <= ADMIN_NAV


# Exemptions and extensions (issue 18)


def test_a_course_owner_sees_the_exemptions_queue() -> None:
    assert "Exemptions" in labels(person(owns_courses=True))
    assert "Exemptions *" in labels(person(owns_courses=True), "exemptions")
    # Administrators reach it from Administration.
    assert "Administration *" in labels(person("admin"), "exemptions")
