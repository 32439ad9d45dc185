"""A booking on a remembered token (booking/people/remembered.py, booking/bookings/vouch.py), on
both databases: the process remembers the actor a person's token stood for, and a plain booking
checks the token in its own read of the learner instead of reading it first. Whatever changed
in the database since — by another process, here by a statement of the test's own — counts:
a revoked token or a deactivated person books nothing (401), a changed person is read afresh."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from booking import bookings, people
from booking.bookings import BookingRequest, group
from booking.kernel.actors import Vouch
from booking.models import Booking
from booking.people import RememberedTokens
from booking.people.tokens import hash_token
from tests import support
from tests.web.conftest import Browser, person_id_of
from tests.web.test_query_counts import add_course, add_people, add_session, counting


async def remembered(browser: Browser, email: str) -> tuple[str, dict[str, str]]:
    """A new token of the person's, used once (`GET /api/v1/me`): remembered from then on."""
    token = await people.create_token(browser.world.db, browser.world.clock, email=email)
    headers = {"Authorization": f"Bearer {token}"}
    me = await browser.client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert memory(browser).recall(token) is not None
    return token, headers


def memory(browser: Browser) -> RememberedTokens:
    return browser.client.app.state.remembered_tokens  # type: ignore[no-any-return]


async def change(browser: Browser, sql: str, **params: Any) -> None:
    """A change made behind the process's back, as another process would make it."""
    async with browser.world.db.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def bookings_of(browser: Browser, email: str) -> int:
    person_id = await person_id_of(browser.world, email)
    async with browser.world.db.reading() as s:
        found = await s.scalar(
            select(func.count()).select_from(Booking).where(Booking.learner_id == person_id)
        )
    return int(found or 0)


async def a_session(browser: Browser, tag: str) -> int:
    course_id = await add_course(browser.world, f"RT{tag}", f"Remembered {tag}")
    return await add_session(browser.world, course_id, capacity=5)


async def test_a_remembered_token_books_with_one_statement_fewer(browser: Browser) -> None:
    [email] = await add_people(browser.world, 1, "rem")
    token, headers = await remembered(browser, email)
    session_id = await a_session(browser, "A")
    with counting(browser) as heard:
        response = await browser.client.post(
            f"/api/v1/sessions/{session_id}/bookings", json={}, headers=headers
        )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "booked"
    assert not any(q.startswith("SELECT api_tokens.") for q in heard), heard
    assert memory(browser).recall(token) is not None


@pytest.mark.parametrize(
    "behind_its_back",
    [
        "UPDATE api_tokens SET revoked_at = created_at WHERE token_hash = :token_hash",
        "DELETE FROM api_tokens WHERE token_hash = :token_hash",
        "UPDATE people SET active = false WHERE email = :email",
    ],
    ids=["revoked", "deleted", "deactivated"],
)
async def test_a_token_that_no_longer_stands_books_nothing(
    browser: Browser, behind_its_back: str
) -> None:
    [email] = await add_people(browser.world, 1, "gone")
    token, headers = await remembered(browser, email)
    session_id = await a_session(browser, "B")
    await change(browser, behind_its_back, token_hash=hash_token(token), email=email)
    response = await browser.client.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=headers
    )
    assert response.status_code == 401, response.text
    assert await bookings_of(browser, email) == 0
    assert memory(browser).recall(token) is None


async def test_a_person_changed_since_is_read_afresh(browser: Browser) -> None:
    """A new address and an added role: the booking is made, by the person as they are now,
    who is remembered so from then on."""
    [email] = await add_people(browser.world, 1, "moved")
    token, headers = await remembered(browser, email)
    session_id = await a_session(browser, "C")
    await change(
        browser,
        "UPDATE people SET email = 'moved.on@example.org', roles = 'learner trainer'"
        " WHERE email = :email",
        email=email,
    )
    response = await browser.client.post(
        f"/api/v1/sessions/{session_id}/bookings", json={}, headers=headers
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["history"][-1]["actor"] == "moved.on@example.org", answer["history"]
    recalled = memory(browser).recall(token)
    assert recalled is not None
    assert (recalled[1].email, recalled[1].roles) == (
        "moved.on@example.org",
        frozenset({"learner", "trainer"}),
    )


async def test_a_remembered_token_is_read_afresh_before_it_waits_for_a_group(
    world: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A booking that would wait in line for a group (bookings/group.py) has its actor read
    first: a group checks no tokens. Nothing is written before that read, and the booking is
    then made as any other."""
    monkeypatch.setattr(group.LINES, "alone_at_once", 0)  # every booking waits for a group
    [email] = await add_people(world, 1, "line")
    session_id = await add_session(world, await add_course(world, "RTD", "In line"), capacity=5)
    who = await support.actor(world.db, email)
    reads: list[int] = []

    async def recheck() -> Any:
        reads.append(await bookings_count(world, session_id))
        return who

    outcome = await bookings.book_place(
        world.db,
        world.clock,
        who,
        BookingRequest(session_id),
        vouch=Vouch("not-a-token-of-anyone", recheck),
    )
    assert reads == [0]
    assert outcome.booking.state == "booked"
    assert await bookings_count(world, session_id) == 1


async def bookings_count(world: support.World, session_id: int) -> int:
    async with world.db.reading() as s:
        found = await s.scalar(
            select(func.count()).select_from(Booking).where(Booking.session_id == session_id)
        )
    return int(found or 0)
