"""Approvals and eligibility on the pages: the queue, the emailed link, the sign-up form."""

from __future__ import annotations

import re

from booking import approvals, bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.web.conftest import Browser


async def _gated(world: support.World, **kw) -> tuple[int, int]:
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="LEAD", title="Leading Teams", **kw)
    )
    return course.id, await support.make_session(world, capacity=2, course_id=course.id)


async def test_manager_approves_from_the_queue(browser: Browser) -> None:
    world = browser.world
    _, session_id = await _gated(world, approval=["manager"])
    lee = await support.actor(world.db, "lee@example.org")
    pending = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))

    await browser.sign_in("lee@example.org")
    mine = await browser.get(f"/bookings/{pending.booking.id}")
    assert "Waiting for" in mine.text and "Mo Manager" in mine.text

    await browser.sign_in("manager@example.org")
    queue = await browser.get("/approvals")
    assert "Lee Learner" in queue.text
    request_id = int(re.search(r'action="/approvals/(\d+)/decide"', queue.text).group(1))  # type: ignore[union-attr]
    refused = await browser.post(f"/approvals/{request_id}/decide", {"decision": "decline"})
    assert refused.status_code == 422
    assert 'aria-describedby="comment-error"' in refused.text
    ok = await browser.post(f"/approvals/{request_id}/decide", {"decision": "approve"})
    assert ok.status_code == 303
    after = await browser.get("/approvals")
    assert "Approved: Lee Learner, Leading Teams. Lee Learner is booked and has been told." in (
        after.text
    )
    assert "Nothing is waiting for you." in after.text


async def test_emailed_link_only_for_its_approver(browser: Browser) -> None:
    world = browser.world
    _, session_id = await _gated(world, approval=["manager"])
    lee = await support.actor(world.db, "lee@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    request_id = (await approvals.list_waiting(world.db, world.clock, manager))[0].id
    settings = support.settings_for("sqlite://")
    link = approvals.decision_link(
        settings, request_id, manager.person_id or 0, "decline", world.clock.now()
    )
    path = link.removeprefix(settings.base_url)

    # Not signed in: to the login page, keeping the whole link.
    browser.client.cookies.clear()
    anonymous = await browser.get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith(f"/login?next=/approvals/{request_id}")
    assert "%3Ft%3D" in anonymous.headers["location"]

    await browser.sign_in("kim@example.org")
    assert (await browser.get(path)).status_code == 403
    await browser.sign_in("manager@example.org")
    assert (await browser.get(path.replace("decline", "approve"))).status_code == 403
    confirm = await browser.get(path)
    assert confirm.status_code == 200
    assert "Decline Lee Learner" in confirm.text
    done = await browser.post(
        f"/approvals/{request_id}/decide", {"decision": "decline", "comment": "Budget"}
    )
    assert done.status_code == 303
    replay = await browser.get(path)
    assert "already been answered" in replay.text


async def test_sign_up_form_asks_questions_and_terms_and_course_page_warns(
    browser: Browser,
) -> None:
    world = browser.world
    course_id, session_id = await _gated(
        world,
        approval=["self"],
        terms_text="Attend every day.",
        questions=[
            {
                "id": "site",
                "label": "Which site?",
                "kind": "choice",
                "required": True,
                "choices": ["North", "South"],
            },
            {"id": "first", "label": "First time?", "kind": "yes_no"},
        ],
        audience={"org_units": ["CHILD"]},
    )
    await browser.sign_in("lee@example.org")
    course = await browser.get(f"/courses/{course_id}")
    assert "Before you can book" in course.text
    assert "This course is for Children&#39;s Services staff." in course.text

    await browser.sign_in("kim@example.org")
    form = await browser.get(f"/sessions/{session_id}/book")
    assert "Which site?" in form.text and "Attend every day." in form.text
    assert 'name="accept_terms"' in form.text
    refused = await browser.post(f"/sessions/{session_id}/book", {"answer_site": "North"})
    assert refused.status_code == 422
    assert "accept the course" in refused.text
    booked = await browser.post(
        f"/sessions/{session_id}/book",
        {"answer_site": "South", "yesno_first": "yes", "accept_terms": "yes"},
    )
    assert booked.status_code == 303
    booking_id = int(booked.headers["location"].split("/")[2].split("?")[0])
    view = await bookings.get_booking(world.db, world.clock, world.admin, booking_id)
    assert view.answers == {"site": "South", "first": True}
    assert view.terms_version_accepted == 1
