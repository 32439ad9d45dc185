"""What the pages say: what happens after an approval, what a bulk mark changed, trainers by
name, the approval queue's dates and prices, one spelling of "No-show", and audit details
for people."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar.testing import AsyncTestClient

from billing.domain.money import Money
from booking import approvals, bookings, catalogue, payments, roster
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.domain.states import state_name
from booking.kernel import audit
from booking.web.pages.approvals import what_happens_next
from tests import support
from tests.web.conftest import Browser

POLICY = {"tiers": [{"min_notice_hours": 0, "fee_percent": 100}], "no_show_fee_percent": 100}


async def _approve_from_queue(browser: Browser, email: str) -> str:
    await browser.sign_in(email)
    queue = await browser.get("/approvals")
    found = re.search(r'action="/approvals/(\d+)/decide"', queue.text)
    assert found, queue.text
    done = await browser.post(f"/approvals/{found.group(1)}/decide", {"decision": "approve"})
    assert done.status_code == 303, done.text
    return (await browser.get("/approvals")).text


async def test_after_an_approval_the_page_names_the_next_approver(browser: Browser) -> None:
    world = browser.world
    await support.add_budget_holder(world)
    settings = support.settings_for("sqlite://")
    await payments.create_cost_code(
        world.db,
        world.clock,
        world.admin,
        payments.billing_config(settings),
        payments.billing.CostCodeInput(
            "AS-4410", "Adult Services", "bud@example.org", world.clock.now().date()
        ),
    )
    course = await support.make_course(
        world, price=Money(6000), cancellation_policy=POLICY, approval=["manager"]
    )
    session_id = await support.make_session(world, course_id=course.id)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="AS-4410")
    )

    after = await _approve_from_queue(browser, "manager@example.org")
    assert "pending approval" not in after
    assert (
        "Approved: Lee Learner, Mental Health First Aid. "
        "It now waits for approval by Bea Budget (budget holder)." in after
    )

    # The budget holder's queue says when the session is and what it costs.
    await browser.sign_in("bud@example.org")
    queue = await browser.get("/approvals")
    assert "Mon 15 Mar 2027, 09:00–12:00 GMT" in queue.text
    assert "£60.00" in queue.text and "AS-4410" in queue.text

    last = await _approve_from_queue(browser, "bud@example.org")
    assert "Approved: Lee Learner, Mental Health First Aid. Lee Learner is booked" in last


async def test_an_approval_on_a_full_session_gives_the_waiting_list_position(
    browser: Browser,
) -> None:
    world = browser.world
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="LEAD", title="Leading Teams", approval=["manager"]),
    )
    session_id = await support.make_session(world, course_id=course.id, capacity=0)
    lee = await support.actor(world.db, "lee@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    after = await _approve_from_queue(browser, "manager@example.org")
    assert (
        "The session is full: Lee Learner is on the waiting list at number 1 and has been told."
        in after
    )


async def test_bulk_attendance_counts_only_what_changed(db_url: str, world: support.World) -> None:
    session_id = await support.make_session(world, capacity=5, facilitators=["trainer@example.org"])
    emails = ["lee@example.org", "kim@example.org", *await support.make_learners(world, 2)]
    ids = []
    for email in emails:
        who = await support.actor(world.db, email)
        ids.append(
            (
                await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
            ).booking.id
        )
    later = FixedClock(support.T0 + timedelta(days=14, hours=1))
    marks = [roster.Mark(ids[0], "no_show"), roster.Mark(ids[1], "attended")]
    await roster.mark_attendance(world.db, later, world.admin, session_id, marks)

    app = create_app(support.settings_for(db_url, demo=True), clock=later, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        browser = Browser(client, world)
        await browser.sign_in("trainer@example.org")
        done = await browser.post(f"/sessions/{session_id}/attendance/all")
        assert done.status_code == 303
        page = await browser.get(f"/sessions/{session_id}/roster")
        assert "Marked as attended: 2. Adjust any exceptions below." in page.text
        again = await browser.post(f"/sessions/{session_id}/attendance/all")
        assert again.status_code == 303
        page = await browser.get(f"/sessions/{session_id}/roster")
        assert "Nobody was left to mark" in page.text
        # One spelling of the no-show, in the roster and the booking's history.
        assert "No-show" in page.text and "No show" not in page.text
        booking = await browser.get(f"/bookings/{ids[0]}")
        assert "Booked → No-show" in booking.text


async def test_trainers_are_shown_by_name(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world, facilitators=["trainer@example.org"])
    await browser.sign_in("lee@example.org")
    page = await browser.get(f"/sessions/{session_id}")
    facts = page.text[page.text.index("<dt>Trainer") :][:200]
    assert "Tia Trainer" in facts and "trainer@example.org" not in facts


def test_states_read_the_same_everywhere() -> None:
    assert state_name("no_show") == "No-show"
    assert state_name("partially_attended") == "Partly attended"
    assert state_name("pending_approval") == "Pending approval"
    assert state_name("booked") == "Booked"


def test_audit_details_are_written_for_people() -> None:
    text = audit.describe_details(
        {"from": None, "to": "admin trainer", "overbook": False, "notified": True, "n": 3}
    )
    assert text == "from: —; to: admin trainer; overbook: no; notified: yes; n: 3"
    assert audit.describe_details(None) == "—"


async def test_the_audit_page_shows_details_for_people(browser: Browser) -> None:
    world = browser.world
    session_id = await support.make_session(world)
    await bookings.book_place(
        world.db,
        world.clock,
        world.admin,
        BookingRequest(session_id, learner_email="kim@example.org", override_reason="Late"),
    )
    await browser.sign_in("admin@example.org")
    page = await browser.get("/admin/audit")
    assert "overbook: no" in page.text
    assert "False" not in page.text and "None" not in page.text


async def test_the_decision_outcome_names_the_training_team_for_admin_steps(
    world: support.World,
) -> None:
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="CHAIN", title="Chained", approval=["manager", "admin"]),
    )
    session_id = await support.make_session(world, course_id=course.id)
    lee = await support.actor(world.db, "lee@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    [item] = await approvals.list_waiting(world.db, world.clock, manager)
    outcome = await approvals.decide(world.db, world.clock, manager, item.id, decision="approve")
    assert what_happens_next(outcome) == "It now waits for the training team to approve."
