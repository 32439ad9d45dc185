"""Each kind of change queues its event, with the data the docs promise, in the change's own
transaction: a session changed and cancelled, a completion recorded, an approval asked for and
decided. What a receiver gets is checked on a real receiver."""

from __future__ import annotations

import json
from typing import Any

from booking import approvals, bookings, catalogue, records
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, SessionChanges
from tests import support
from tests.webhooks.helpers import add_endpoint, book, deliver
from tests.webhooks.receiver import running_receiver


def _events(received: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in received]


async def test_session_completion_and_approval_events_reach_the_receiver(
    world: support.World,
) -> None:
    types = [
        "session.changed",
        "session.cancelled",
        "completion.recorded",
        "approval.requested",
        "approval.decided",
    ]
    with running_receiver() as receiver:
        await add_endpoint(world, receiver.url, types)
        session_id = await support.make_session(world)
        await catalogue.update_session(
            world.db, world.clock, world.admin, session_id, SessionChanges(capacity=12)
        )
        await records.record_completions(
            world.db,
            world.clock,
            world.admin,
            [records.CompletionInput("SAFE-1", world.clock.now(), learner_email="kim@example.org")],
        )
        gated = await catalogue.create_course(
            world.db,
            world.clock,
            world.admin,
            CourseInput(code="GATED", title="Gated", approval=["manager"]),
        )
        gated_session = await support.make_session(world, course_id=gated.id)
        lee = await support.actor(world.db, "lee@example.org")
        await bookings.book_place(world.db, world.clock, lee, BookingRequest(gated_session))
        manager = await support.actor(world.db, "manager@example.org")
        (waiting,) = await approvals.list_waiting(world.db, world.clock, manager)
        await approvals.decide(world.db, world.clock, manager, waiting.id, decision="approve")
        await catalogue.cancel_session(
            world.db, world.clock, world.admin, session_id, reason="Room flooded"
        )
        assert (await deliver(world)).delivered == 5
    by_type = {e["type"]: e["data"] for e in _events(receiver.received)}
    assert list(by_type) == types[:1] + types[2:] + types[1:2]  # in the order they happened
    changed = by_type["session.changed"]
    assert changed["session_id"] == session_id and changed["capacity"] == 12
    assert changed["changed"] == ["capacity"] and changed["course_code"] == "SAFE-1"
    cancelled = by_type["session.cancelled"]
    assert cancelled["reason"] == "Room flooded" and cancelled["course_code"] == "SAFE-1"
    done = by_type["completion.recorded"]
    assert done["learner"]["email"] == "kim@example.org" and done["course_code"] == "SAFE-1"
    assert done["source"] == "elearning" and done["completed_at"]
    asked = by_type["approval.requested"]
    assert asked["kind"] == "manager" and asked["approver"]["email"] == "manager@example.org"
    assert asked["learner"]["email"] == "lee@example.org" and asked["course_code"] == "GATED"
    decided = by_type["approval.decided"]
    assert decided["decision"] == "approved" and decided["approval_id"] == asked["approval_id"]
    assert decided["decided_by"]["email"] == "manager@example.org"


async def test_a_refused_change_queues_no_event(world: support.World) -> None:
    """The event is written in the change's transaction: a change that fails leaves none."""
    with running_receiver() as receiver:
        await add_endpoint(world, receiver.url)
        session_id = await support.make_session(world, capacity=2)
        await book(world, session_id, "lee@example.org")
        await book(world, session_id, "kim@example.org")
        before = len(receiver.received)
        try:
            await catalogue.update_session(
                world.db, world.clock, world.admin, session_id, SessionChanges(capacity=1)
            )
        except Exception as exc:  # noqa: BLE001 - the refusal itself is not the point here
            assert "below" in str(exc)
        else:
            raise AssertionError("lowering capacity below the seats held must be refused")
        await deliver(world)
    events = _events(receiver.received[before:])
    assert [e["type"] for e in events].count("session.changed") == 0
    assert len(events) == 4  # two bookings: created and state_changed each
