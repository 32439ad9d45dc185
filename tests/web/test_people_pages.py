"""The administrators' people pages through the browser's eyes (no JavaScript): the list with
its search, filters and next-page link, a person's page with their roles and bookings, changing
roles and deactivating with a reason (errors in place, nothing changed), and the unit tree."""

from __future__ import annotations

from sqlalchemy import select

from booking import bookings, people
from booking.bookings import BookingRequest
from booking.models import AuditEvent, Person
from tests import support
from tests.web.conftest import Browser, person_id_of

ADMIN = "admin@example.org"


async def test_the_list_searches_and_filters_and_links_each_person(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    page = await browser.get("/admin/people?q=learner")
    assert page.status_code == 200
    assert "Kim Learner" in page.text and "Lee Learner" in page.text
    assert '>Mo Manager</a></td>\n      <td data-label="Email">' not in page.text
    lee = await person_id_of(browser.world, "lee@example.org")
    assert f'<a href="/admin/people/{lee}">Lee Learner</a>' in page.text
    assert "P003" in page.text and "Adult Services" in page.text and "Social Worker" in page.text
    trainers = await browser.get("/admin/people?role=trainer")
    assert "Tia Trainer" in trainers.text and "Kim Learner" not in trainers.text
    nobody = await browser.get("/admin/people?q=zzz")
    assert "Nobody matches “zzz”" in nobody.text
    # Nonsense in the links is ignored, not an error.
    odd = await browser.get("/admin/people?unit=abc&role=boss&status=x&cursor=-4")
    assert odd.status_code == 200


async def test_the_next_page_keeps_the_filters(browser: Browser) -> None:
    await support.make_learners(browser.world, 55, prefix="many")
    await browser.sign_in(ADMIN)
    first = await browser.get("/admin/people?q=many")
    assert first.text.count('<td data-label="Name">') == 50
    assert "Next people" in first.text
    link = first.text.split('class="button secondary" href="')[1].split('"')[0]
    assert "q=many" in link and "cursor=" in link
    second = await browser.get(link.replace("&amp;", "&"))
    assert second.text.count('<td data-label="Name">') == 5
    assert "Next people" not in second.text
    assert "First page" in second.text


async def test_a_persons_page_shows_details_bookings_and_record_link(browser: Browser) -> None:
    world = browser.world
    lee = await support.actor(world.db, "lee@example.org")
    session_id = await support.make_session(world)
    booked = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    await browser.sign_in(ADMIN)
    page = await browser.get(f"/admin/people/{lee.person_id}")
    assert page.status_code == 200
    assert "<h1>Lee Learner" in page.text
    assert "Mo Manager" in page.text and "manager@example.org" in page.text
    assert f'href="/bookings/{booked.booking.id}"' in page.text
    assert "Safeguarding Adults" in page.text
    assert f'href="/people/{lee.person_id}/record"' in page.text
    assert (await browser.get("/admin/people/999999")).status_code == 404


async def test_changing_roles_needs_a_reason_and_keeps_what_was_typed(
    browser: Browser,
) -> None:
    world = browser.world
    kim = await person_id_of(world, "kim@example.org")
    await browser.sign_in(ADMIN)
    await browser.get(f"/admin/people/{kim}")
    refused = await browser.post(f"/admin/people/{kim}/roles", {"roles": ["trainer"]})
    assert refused.status_code == 422
    assert "<title>Error: Kim Learner" in refused.text
    assert 'href="#roles_reason"' in refused.text
    assert 'id="role-trainer" name="roles" value="trainer" checked' in refused.text
    async with world.db.reading() as s:
        assert (await s.get_one(Person, kim)).roles == "learner"
    done = await browser.post(
        f"/admin/people/{kim}/roles",
        {"roles": ["trainer", "budget_holder"], "roles_reason": "Leads the induction"},
    )
    assert done.status_code == 303
    shown = await browser.get(done.headers["location"])
    assert "Their roles are changed" in shown.text
    assert "<dd>Budget holder, Learner, Trainer</dd>" in shown.text
    audit = await browser.get("/admin/audit?action=person.roles_changed")
    assert "Leads the induction" in audit.text and "kim@example.org" in audit.text


async def test_an_administrator_cannot_take_away_their_own_admin_role(
    browser: Browser,
) -> None:
    me = await person_id_of(browser.world, ADMIN)
    await browser.sign_in(ADMIN)
    page = await browser.get(f"/admin/people/{me}")
    assert "You cannot deactivate yourself" in page.text
    assert f'action="/admin/people/{me}/deactivate"' not in page.text
    refused = await browser.post(
        f"/admin/people/{me}/roles", {"roles": ["trainer"], "roles_reason": "Tidy up"}
    )
    assert refused.status_code == 422
    assert "You cannot remove your own administrator role" in refused.text
    refused = await browser.post(f"/admin/people/{me}/deactivate", {"active_reason": "Bye"})
    assert refused.status_code == 422


async def test_deactivating_and_reactivating_from_the_page(browser: Browser) -> None:
    world = browser.world
    lee = await person_id_of(world, "lee@example.org")
    await browser.sign_in(ADMIN)
    await browser.get(f"/admin/people/{lee}")
    refused = await browser.post(f"/admin/people/{lee}/deactivate", {"active_reason": ""})
    assert refused.status_code == 422 and 'href="#active_reason"' in refused.text
    done = await browser.post(f"/admin/people/{lee}/deactivate", {"active_reason": "Left"})
    assert done.status_code == 303
    page = await browser.get(f"/admin/people/{lee}")
    assert "This account is deactivated" in page.text
    assert f'action="/admin/people/{lee}/reactivate"' in page.text
    listed = await browser.get("/admin/people?status=deactivated")
    assert "Lee Learner" in listed.text
    # The demo's sign-in page no longer offers Lee, and signing in as Lee is refused.
    login = await browser.get("/login")
    assert "Sign in as Kim Learner" in login.text
    assert "Sign in as Lee Learner" not in login.text
    refused = await browser.post("/login", {"person_id": str(lee), "next": "/courses"})
    assert refused.status_code != 303
    async with world.db.reading() as s:
        assert not (await s.get_one(Person, lee)).active
    done = await browser.post(f"/admin/people/{lee}/reactivate", {"active_reason": "Back"})
    assert done.status_code == 303
    async with world.db.reading() as s:
        actions = (
            await s.scalars(select(AuditEvent.action).where(AuditEvent.target == "lee@example.org"))
        ).all()
    assert {"person.deactivated", "person.reactivated"} <= set(actions)


async def test_the_unit_tree_links_each_unit_to_its_people(browser: Browser) -> None:
    world = browser.world
    await people.upsert_org_units(
        world.db, world.clock, world.admin, [people.OrgUnitInput("OT", "Therapy", "ADULT")]
    )
    await browser.sign_in(ADMIN)
    page = await browser.get("/admin/units")
    assert page.status_code == 200
    org = page.text.index("The Council")
    adult = page.text.index("Adult Services")
    therapy = page.text.index("Therapy")
    assert org < adult < therapy
    assert "2 people; 2 with its sub-units" in page.text  # Adult Services: Mo and Lee
    assert "/admin/people?unit=" in page.text


async def test_people_pages_are_for_administrators_only(browser: Browser) -> None:
    await browser.sign_in("manager@example.org")
    for url in ("/admin/people", "/admin/units", "/admin/people/1"):
        assert (await browser.get(url)).status_code == 403
