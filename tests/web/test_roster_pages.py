"""The trainer's roster page: attendance with and without htmx, add, remove, move, message,
downloads; and nobody else can use them."""

from __future__ import annotations

from datetime import timedelta

from booking import bookings
from booking.bookings import BookingRequest
from booking.clock import FixedClock
from tests import support
from tests.web.conftest import Browser


async def _session_with_lee(world: support.World, **kw) -> tuple[int, int]:
    session_id = await support.make_session(
        world, capacity=3, facilitators=["trainer@example.org"], **kw
    )
    lee = await support.actor(world.db, "lee@example.org")
    booking = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    return session_id, booking.booking.id


async def test_attendance_in_place_and_in_bulk(db_url: str, world: support.World) -> None:
    from litestar.testing import AsyncTestClient

    from booking.app import create_app
    from tests.web.conftest import Browser

    session_id, lee_id = await _session_with_lee(world)
    kim = await support.actor(world.db, "kim@example.org")
    kim_id = (
        await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    ).booking.id
    # The app's clock stands one hour into the session.
    later = FixedClock(support.T0 + timedelta(days=14, hours=1))
    app = create_app(support.settings_for(db_url, demo=True), clock=later, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        browser = Browser(client, world)
        await browser.sign_in("trainer@example.org")
        page = await browser.get(f"/sessions/{session_id}/roster")
        assert "Mark all 2 unmarked as attended" in page.text
        row = await browser.post(
            f"/sessions/{session_id}/attendance",
            {"booking_id": str(lee_id), "status": "no_show"},
            htmx=True,
        )
        assert row.status_code == 200
        assert f'<tr id="attendance-{lee_id}">' in row.text
        assert 'role="status"' in row.text and "Lee Learner: No-show." in row.text
        bulk = await browser.post(f"/sessions/{session_id}/attendance/all")
        assert bulk.status_code == 303
        states = {
            b: (await bookings.get_booking(world.db, world.clock, world.admin, b)).state
            for b in (lee_id, kim_id)
        }
        assert states == {lee_id: "no_show", kim_id: "attended"}
        plain = await browser.post(
            f"/sessions/{session_id}/attendance", {"booking_id": str(lee_id), "status": "attended"}
        )
        assert plain.status_code == 303
        assert plain.headers["location"].endswith(f"#attendance-{lee_id}")
        bad = await browser.post(
            f"/sessions/{session_id}/attendance",
            {"booking_id": str(lee_id), "status": "asleep"},
            htmx=True,
        )
        assert bad.status_code == 422


async def test_roster_actions(browser: Browser) -> None:
    world = browser.world
    session_id, lee_id = await _session_with_lee(world)
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))

    await browser.sign_in("lee@example.org")
    assert (await browser.get(f"/sessions/{session_id}/roster")).status_code == 403
    assert (await browser.get(f"/sessions/{session_id}/roster/export.csv")).status_code == 403
    refused = await browser.post(
        f"/sessions/{session_id}/add-learner", {"email": "manager@example.org", "reason": "x"}
    )
    assert refused.status_code == 403
    assert (
        await bookings.my_bookings(
            world.db, world.clock, await support.actor(world.db, "manager@example.org")
        )
    ).items == []

    await browser.sign_in("trainer@example.org")
    page = await browser.get(f"/sessions/{session_id}/roster")
    assert page.status_code == 200
    assert "Message everyone" in page.text and "Add a learner" in page.text
    assert "Mark all" not in page.text  # attendance waits for the start

    added = await browser.post(
        f"/sessions/{session_id}/add-learner",
        {"email": "manager@example.org", "reason": "Late nomination"},
    )
    assert added.status_code == 303
    roster_page = await browser.get(f"/sessions/{session_id}/roster")
    assert "Mo Manager added (booked)." in roster_page.text
    assert "Late nomination" in roster_page.text

    removed = await browser.post(f"/bookings/{lee_id}/remove", {"reason": "Left the team"})
    assert removed.status_code == 303
    assert (await bookings.get_booking(world.db, world.clock, world.admin, lee_id)).state == (
        "cancelled"
    )

    csv_file = await browser.get(f"/sessions/{session_id}/roster/export.csv")
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert "Kim Learner" in csv_file.text
    pdf = await browser.get(f"/sessions/{session_id}/roster/sign-in-sheet.pdf")
    assert pdf.content.startswith(b"%PDF")

    empty = await browser.post(f"/sessions/{session_id}/message", {"subject": "Hi", "body": ""})
    assert empty.status_code == 422
    assert 'aria-describedby="body-error"' in empty.text
    sent = await browser.post(
        f"/sessions/{session_id}/message", {"subject": "Parking", "body": "Use the rear car park."}
    )
    assert sent.status_code == 303
    after = await browser.get(f"/sessions/{session_id}/roster")
    assert "Your message is on its way to 2 learners." in after.text
