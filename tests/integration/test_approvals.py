"""Eligibility and approvals through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking import approvals, bookings, catalogue, eligibility, jobs, records
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.config import Settings
from booking.kernel.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    RefusedError,
)
from booking.models import ApprovalRequest, Booking, BookingHistory, Outbox
from booking.roster import read_roster
from tests import support


async def course(world: support.World, code: str, **kw) -> int:
    view = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code=code, title=kw.pop("title", code), **kw),
    )
    return view.id


async def counts(world: support.World) -> tuple[int, int, int, int]:
    async with world.db.reading() as s:
        return (
            await s.scalar(select(func.count()).select_from(Booking)) or 0,
            await s.scalar(select(func.count()).select_from(BookingHistory)) or 0,
            await s.scalar(select(func.count()).select_from(Outbox)) or 0,
            await s.scalar(select(func.count()).select_from(ApprovalRequest)) or 0,
        )


async def test_manager_approval_then_seat(world: support.World) -> None:
    course_id = await course(world, "LEAD", approval=["manager"])
    session_id = await support.make_session(world, capacity=1, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    manager = await support.actor(world.db, "manager@example.org")

    pending = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    assert pending.booking.state == "pending_approval"
    assert pending.booking.approval is not None
    assert pending.booking.approval["approver"] == "Mo Manager"
    assert pending.booking.approval["kind"] == "manager"
    session = await catalogue.get_session(world.db, world.clock, lee, session_id)
    assert (session.seats_held, session.pending) == (0, 1)

    queue = await approvals.list_waiting(world.db, world.clock, manager)
    assert [(i.learner["email"], i.course["code"]) for i in queue] == [("lee@example.org", "LEAD")]
    assert await approvals.list_waiting(world.db, world.clock, lee) == []
    with pytest.raises(NotFoundError):
        await approvals.decide(world.db, world.clock, lee, queue[0].id, decision="approve")

    decided = await approvals.decide(
        world.db, world.clock, manager, queue[0].id, decision="approve", comment="Go for it"
    )
    assert decided.booking.state == "booked"
    assert decided.approval.status == "approved"
    with pytest.raises(ConflictError):  # answered requests cannot be answered again
        await approvals.decide(
            world.db,
            world.clock,
            manager,
            queue[0].id,
            decision="decline",
            comment="changed my mind",
        )
    session = await catalogue.get_session(world.db, world.clock, lee, session_id)
    assert session.seats_held == 1


async def test_approved_when_full_is_waitlisted_and_declined_holds_nothing(
    world: support.World,
) -> None:
    course_id = await course(world, "LEAD", approval=["manager"])
    session_id = await support.make_session(world, capacity=1, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    kim = await support.actor(world.db, "kim@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    # Someone else takes the only seat meanwhile, through an override by an administrator.
    await bookings.book_place(
        world.db,
        world.clock,
        world.admin,
        BookingRequest(
            session_id, learner_email="trainer@example.org", override_reason="Shadowing"
        ),
    )
    queue = await approvals.list_waiting(world.db, world.clock, manager)
    by_learner = {i.learner["email"]: i for i in queue}
    approved = await approvals.decide(
        world.db, world.clock, manager, by_learner["lee@example.org"].id, decision="approve"
    )
    assert approved.booking.state == "waitlisted"
    assert approved.booking.waitlist_position == 1
    with pytest.raises(InvalidError):
        await approvals.decide(
            world.db, world.clock, manager, by_learner["kim@example.org"].id, decision="decline"
        )
    declined = await approvals.decide(
        world.db,
        world.clock,
        manager,
        by_learner["kim@example.org"].id,
        decision="decline",
        comment="Not this quarter",
    )
    assert declined.booking.state == "declined"
    assert declined.booking.history[-1].reason == "Not this quarter"
    roster = await read_roster(world.db, world.clock, world.admin, session_id)
    assert [r.override_reason for r in roster.booked] == ["Shadowing"]


async def test_requests_lapse_when_signup_closes(world: support.World) -> None:
    course_id = await course(world, "LEAD", approval=["manager"])
    session_id = await support.make_session(world, capacity=3, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    pending = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    world.clock.advance(timedelta(days=13, hours=1))  # past sign-up close (24 h before start)
    report = await jobs.tick(world.db, world.clock)
    assert report.approvals_lapsed == 1
    lapsed = await bookings.get_booking(world.db, world.clock, lee, pending.booking.id)
    assert lapsed.state == "cancelled"
    async with world.db.reading() as s:
        topics = set((await s.scalars(select(Outbox.topic))).all())
        status = await s.scalar(select(ApprovalRequest.status))
    assert "booking.approval_lapsed" in topics
    assert status == "lapsed"
    assert (await jobs.tick(world.db, world.clock)).approvals_lapsed == 0


async def test_chain_manager_then_admin_and_on_behalf_shortcuts(world: support.World) -> None:
    course_id = await course(world, "SENIOR", approval=["manager", "admin"])
    session_id = await support.make_session(world, capacity=5, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    pending = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    first = (await approvals.list_waiting(world.db, world.clock, manager))[0]
    step1 = await approvals.decide(world.db, world.clock, manager, first.id, decision="approve")
    assert step1.booking.state == "pending_approval"
    assert step1.booking.approval["kind"] == "admin"
    second = (await approvals.list_waiting(world.db, world.clock, world.admin))[0]
    assert second.booking_id == pending.booking.id
    done = await approvals.decide(world.db, world.clock, world.admin, second.id, decision="approve")
    assert done.booking.state == "booked"

    # The manager booking for a direct report has given the manager's approval.
    on_behalf = await bookings.book_place(
        world.db, world.clock, manager, BookingRequest(session_id, learner_email="kim@example.org")
    )
    assert on_behalf.booking.state == "pending_approval"
    assert on_behalf.booking.approval["kind"] == "admin"


async def test_self_authorisation_records_the_terms_version(world: support.World) -> None:
    course_id = await course(world, "SELF", approval=["self"], terms_text="Attend it all.")
    session_id = await support.make_session(world, capacity=5, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    before = await counts(world)
    with pytest.raises(RefusedError) as refused:
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    assert [r.code for r in refused.value.reasons] == ["terms_not_accepted"]
    assert refused.value.status == 422
    assert await counts(world) == before
    ok = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, accept_terms=True)
    )
    assert (ok.booking.state, ok.booking.terms_version_accepted) == ("booked", 1)
    with pytest.raises(InvalidError):
        await catalogue.create_course(
            world.db,
            world.clock,
            world.admin,
            CourseInput(code="NOTERMS", title="x", approval=["self"]),
        )


async def test_inbound_completions_satisfy_prerequisites(world: support.World) -> None:
    await course(world, "DP-EL", title="Data Protection eLearning")
    course_id = await course(
        world, "DP-WS", prerequisites=[{"course_code": "DP-EL", "within_months": 12}]
    )
    session_id = await support.make_session(world, capacity=5, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    reasons = await eligibility.preview(world.db, world.clock, lee, course_id)
    assert [r.code for r in reasons] == ["prerequisite_missing"]
    assert "Data Protection eLearning" in reasons[0].message
    with pytest.raises(RefusedError):
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))

    service = await support.actor_for_service(world.db)
    with pytest.raises(ForbiddenError):
        await records.record_completions(world.db, world.clock, lee, [])
    done_at = world.clock.now() - timedelta(days=30)
    items = [
        records.CompletionInput("DP-EL", done_at, learner_email="lee@example.org"),
        records.CompletionInput("DP-EL", done_at, learner_email="nobody@example.org"),
        records.CompletionInput("NOPE", done_at, personnel_number="P003"),
    ]
    accepted, results = await records.record_completions(world.db, world.clock, service, items)
    assert accepted == 1
    assert [r.status for r in results] == ["accepted", "error", "error"]
    again, results = await records.record_completions(world.db, world.clock, service, items[:1])
    assert (again, results[0].status) == (0, "duplicate")

    assert await eligibility.preview(world.db, world.clock, lee, course_id) == []
    booked = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    assert booked.booking.state == "booked"


async def test_sign_up_questions(world: support.World) -> None:
    course_id = await course(
        world,
        "Q",
        questions=[
            {
                "id": "site",
                "label": "Which site?",
                "kind": "choice",
                "required": True,
                "choices": ["North", "South"],
            }
        ],
    )
    session_id = await support.make_session(world, capacity=5, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(RefusedError) as refused:
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    assert refused.value.reasons[0].code == "answer_required"
    ok = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, answers={"site": "South"})
    )
    assert ok.booking.answers == {"site": "South"}


async def test_one_click_links(world: support.World) -> None:
    settings = Settings(secret_key="s" * 40, base_url="https://training.example.org")
    course_id = await course(world, "LEAD", approval=["manager"])
    session_id = await support.make_session(world, capacity=2, course_id=course_id)
    lee = await support.actor(world.db, "lee@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    request = (await approvals.list_waiting(world.db, world.clock, manager))[0]
    now = world.clock.now()
    link = approvals.decision_link(settings, request.id, manager.person_id or 0, "approve", now)
    token = link.partition("?t=")[2]
    assert link.startswith(f"https://training.example.org/approvals/{request.id}/approve?t=")
    approvals.check_link(settings, manager, request.id, "approve", token, now)
    with pytest.raises(ForbiddenError, match="someone else"):
        approvals.check_link(settings, lee, request.id, "approve", token, now)
    with pytest.raises(ForbiddenError):
        approvals.check_link(settings, manager, request.id, "decline", token, now)
    with pytest.raises(ForbiddenError):
        approvals.check_link(settings, manager, request.id + 1, "approve", token, now)
    with pytest.raises(ForbiddenError, match="expired"):
        approvals.check_link(
            settings, manager, request.id, "approve", token, now + approvals.LINK_LIFETIME
        )
    with pytest.raises(ForbiddenError):
        approvals.check_link(settings, manager, request.id, "approve", token[:-2] + "xx", now)
    await approvals.decide(world.db, world.clock, manager, request.id, decision="approve")
    # Replaying the link after the decision finds nothing left to decide.
    approvals.check_link(settings, manager, request.id, "approve", token, now)
    with pytest.raises(ConflictError):
        await approvals.decide(world.db, world.clock, manager, request.id, decision="approve")


async def test_approver_reminder_once(world: support.World) -> None:
    course_id = await course(world, "LEAD", approval=["manager"])
    session_id = await support.make_session(
        world, capacity=2, course_id=course_id, start=world.clock.now() + timedelta(days=30)
    )
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    assert await approvals.remind_approvers(world.db, world.clock, timedelta(days=3)) == 0
    world.clock.advance(timedelta(days=3, minutes=1))
    assert await approvals.remind_approvers(world.db, world.clock, timedelta(days=3)) == 1
    assert await approvals.remind_approvers(world.db, world.clock, timedelta(days=3)) == 0
