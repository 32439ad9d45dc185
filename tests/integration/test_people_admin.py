"""The administrators' people use cases, on SQLite and PostgreSQL: the searchable list with its
keyset pages, a person's details and bookings, changing roles with a reason, deactivating and
reactivating (and what a deactivated person can no longer do), and the unit tree."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from booking import bookings, people
from booking.bookings import BookingRequest
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.models import AuditEvent
from tests import support
from tests.web.conftest import person_id_of


async def _names(world: support.World, **kw: Any) -> list[str]:
    found = await people.search_people(world.db, world.admin, people.PeopleFilter(**kw))
    return [p.name for p in found.items]


async def test_the_list_is_by_name_and_searches_name_email_and_personnel_number(
    world: support.World,
) -> None:
    assert await _names(world) == [
        "Ada Admin",
        "Kim Learner",
        "Lee Learner",
        "Mo Manager",
        "Tia Trainer",
    ]
    assert await _names(world, query="learner") == ["Kim Learner", "Lee Learner"]
    assert await _names(world, query="KIM@example") == ["Kim Learner"]
    assert await _names(world, query="p003") == ["Lee Learner"]
    assert await _names(world, query="lee p003") == ["Lee Learner"]
    assert await _names(world, query="100%_") == []


async def test_filters_by_unit_with_its_sub_units_by_role_and_by_account(
    world: support.World,
) -> None:
    units = {
        u.code: u.id
        for u in (await people.search_people(world.db, world.admin, people.PeopleFilter())).units
    }
    assert await _names(world, unit_id=units["CHILD"]) == ["Kim Learner"]
    # The council holds the trainer itself, and everyone in Adult and Children's Services.
    assert await _names(world, unit_id=units["ORG"]) == [
        "Kim Learner",
        "Lee Learner",
        "Mo Manager",
        "Tia Trainer",
    ]
    assert await _names(world, role="trainer") == ["Tia Trainer"]
    assert await _names(world, role="admin") == ["Ada Admin"]
    kim = await person_id_of(world, "kim@example.org")
    await people.deactivate_person(world.db, world.clock, world.admin, kim, reason="Left")
    assert "Kim Learner" not in await _names(world)
    assert await _names(world, status="deactivated") == ["Kim Learner"]
    assert len(await _names(world, status="all")) == 5


async def test_pages_follow_the_cursor_without_gaps_or_repeats(world: support.World) -> None:
    # Same names, so the id breaks the tie across a page boundary.
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput(f"same{i}@example.org", "Sam Same") for i in range(5)],
    )
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        found = await people.search_people(
            world.db, world.admin, people.PeopleFilter(cursor=cursor, limit=2)
        )
        seen.extend(p.id for p in found.items)
        if found.next_cursor is None:
            break
        cursor = int(found.next_cursor)
    everyone = await people.search_people(world.db, world.admin, people.PeopleFilter(limit=100))
    assert seen == [p.id for p in everyone.items]
    assert len(seen) == 10


async def test_only_administrators_look_people_up(world: support.World) -> None:
    manager = await support.actor(world.db, "manager@example.org")
    with pytest.raises(ForbiddenError):
        await people.search_people(world.db, manager, people.PeopleFilter())
    with pytest.raises(ForbiddenError):
        await people.unit_tree(world.db, manager)
    with pytest.raises(ForbiddenError):
        await bookings.person_bookings(world.db, manager, manager.person_id or 0)


async def test_a_persons_details_and_bookings_latest_session_first(
    world: support.World,
) -> None:
    lee = await support.actor(world.db, "lee@example.org")
    first = await support.make_session(world, start=world.clock.now().replace(day=10))
    later = await support.make_session(world, start=world.clock.now().replace(day=20))
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(first))
    course = await support.make_course(world)
    other = await support.make_session(
        world, course_id=course.id, start=world.clock.now().replace(day=25)
    )
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(other))
    details = await people.person_details(world.db, world.admin, lee.person_id or 0)
    assert details.person.manager_name == "Mo Manager"
    assert details.person.unit_name == "Adult Services"
    assert details.unit_code == "ADULT"
    history = await bookings.person_bookings(world.db, world.admin, lee.person_id or 0, limit=1)
    assert [b.session_id for b in history.items] == [other]
    assert history.more
    assert history.items[0].timezone == support.LONDON
    everything = await bookings.person_bookings(world.db, world.admin, lee.person_id or 0)
    # Latest session first; a session Lee did not book is not there.
    assert [b.session_id for b in everything.items] == [other, first]
    assert not everything.more
    assert later not in [b.session_id for b in everything.items]
    manager = await people.person_details(
        world.db, world.admin, await person_id_of(world, "manager@example.org")
    )
    assert manager.direct_reports == 2


async def test_roles_change_with_a_reason_in_the_audit_log(world: support.World) -> None:
    kim = await person_id_of(world, "kim@example.org")
    roles = await people.change_roles(
        world.db, world.clock, world.admin, kim, roles=["trainer"], reason="Runs induction"
    )
    assert roles == ["learner", "trainer"]
    async with world.db.reading() as s:
        row = await s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "person.roles_changed")
            .order_by(AuditEvent.id.desc())
        )
    assert row is not None
    assert row.target == "kim@example.org"
    assert row.details == {"from": "learner", "to": "learner trainer", "reason": "Runs induction"}


async def test_a_roles_change_needs_a_reason_and_a_change(world: support.World) -> None:
    kim = await person_id_of(world, "kim@example.org")
    with pytest.raises(InvalidError, match="reason"):
        await people.change_roles(world.db, world.clock, world.admin, kim, roles=[], reason=" ")
    with pytest.raises(InvalidError, match="already"):
        await people.change_roles(world.db, world.clock, world.admin, kim, roles=[], reason="x")
    with pytest.raises(InvalidError, match="not a role"):
        await people.change_roles(
            world.db, world.clock, world.admin, kim, roles=["boss"], reason="x"
        )


async def test_an_administrator_cannot_remove_their_own_admin_role(
    world: support.World,
) -> None:
    me = world.admin.person_id or 0
    with pytest.raises(InvalidError, match="your own administrator role"):
        await people.change_roles(world.db, world.clock, world.admin, me, roles=[], reason="x")
    # …but may give themselves another role, and another administrator may take it away.
    await people.change_roles(
        world.db, world.clock, world.admin, me, roles=["admin", "trainer"], reason="Also trains"
    )
    mo = await person_id_of(world, "manager@example.org")
    await people.change_roles(world.db, world.clock, world.admin, mo, roles=["admin"], reason="x")
    other_admin = await support.actor(world.db, "manager@example.org")
    await people.change_roles(world.db, world.clock, other_admin, me, roles=[], reason="Moved")
    ada = await people.person_details(world.db, other_admin, me)
    assert ada.person.roles == ("learner",)


async def test_a_deactivated_person_cannot_sign_in_or_be_booked_and_keeps_their_history(
    world: support.World,
) -> None:
    lee = await support.actor(world.db, "lee@example.org")
    session_id = await support.make_session(world)
    held = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    token = await people.create_token(world.db, world.clock, email="lee@example.org")
    await people.deactivate_person(
        world.db, world.clock, world.admin, lee.person_id or 0, reason="Left the council"
    )
    assert await people.actor_for_token(world.db, token) is None
    assert await people.actor_for_person(world.db, lee.person_id or 0) is None
    other = await support.make_session(world, start=world.clock.now().replace(day=28))
    with pytest.raises(InvalidError, match="deactivated"):
        await bookings.book_place(
            world.db,
            world.clock,
            world.admin,
            BookingRequest(other, learner_email="lee@example.org"),
        )
    history = await bookings.person_bookings(world.db, world.admin, lee.person_id or 0)
    assert [b.id for b in history.items] == [held.booking.id]
    with pytest.raises(InvalidError, match="already deactivated"):
        await people.deactivate_person(
            world.db, world.clock, world.admin, lee.person_id or 0, reason="Again"
        )
    await people.reactivate_person(
        world.db, world.clock, world.admin, lee.person_id or 0, reason="Came back"
    )
    assert await people.actor_for_token(world.db, token) is not None
    async with world.db.reading() as s:
        actions = (
            await s.scalars(select(AuditEvent.action).where(AuditEvent.target == "lee@example.org"))
        ).all()
    assert "person.deactivated" in actions
    assert "person.reactivated" in actions


async def test_an_administrator_cannot_deactivate_themselves(world: support.World) -> None:
    with pytest.raises(InvalidError, match="yourself"):
        await people.deactivate_person(
            world.db, world.clock, world.admin, world.admin.person_id or 0, reason="Oops"
        )


async def test_the_unit_tree_nests_sub_units_and_counts_active_people(
    world: support.World,
) -> None:
    await people.upsert_org_units(
        world.db,
        world.clock,
        world.admin,
        [people.OrgUnitInput("OT", "Occupational Therapy", "ADULT")],
    )
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput("ot@example.org", "Oti Therapist", org_unit="OT")],
    )
    kim = await person_id_of(world, "kim@example.org")
    await people.deactivate_person(world.db, world.clock, world.admin, kim, reason="Left")
    tree = await people.unit_tree(world.db, world.admin)
    assert tree.units == 4
    (org,) = tree.roots
    assert (org.code, org.people, org.total) == ("ORG", 1, 4)
    assert [c.code for c in org.children] == ["ADULT", "CHILD"]
    adult, child = org.children
    assert (adult.people, adult.total) == (2, 3)
    assert [c.code for c in adult.children] == ["OT"]
    assert (child.people, child.total) == (0, 0)
    assert tree.without_unit == 1  # Ada Admin


async def test_a_deactivated_learner_is_passed_over_on_the_waiting_list(
    world: support.World,
) -> None:
    session_id = await support.make_session(world, capacity=1)
    lee, kim, mo = [
        await support.actor(world.db, f"{who}@example.org") for who in ("lee", "kim", "manager")
    ]
    held = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    kim_waits = await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    mo_waits = await bookings.book_place(world.db, world.clock, mo, BookingRequest(session_id))
    await people.deactivate_person(
        world.db, world.clock, world.admin, kim.person_id or 0, reason="Left"
    )
    await bookings.cancel_booking(world.db, world.clock, lee, held.booking.id, reason="Ill")
    kim_now = await bookings.get_booking(world.db, world.clock, world.admin, kim_waits.booking.id)
    mo_now = await bookings.get_booking(world.db, world.clock, world.admin, mo_waits.booking.id)
    assert (kim_now.state, mo_now.state) == ("waitlisted", "booked")
