"""A booking on a remembered token (booking/people/remembered.py, booking/bookings/vouch.py), on
both databases: the process remembers the actor a person's token stood for, and a plain booking
checks the token in its own read of the learner instead of reading it first. Whatever changed
in the database since — by another process, here by a statement of the test's own — counts:
a revoked token or a deactivated person books nothing (401), a changed person is read afresh."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from booking import bookings, people, ratelimit
from booking.bookings import BookingRequest, group
from booking.kernel.actors import UnreadToken, Vouch
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
    await books_nothing_after(browser, remembered, behind_its_back, "B")


async def books_nothing_after(browser: Browser, token_of: Any, sql: str, tag: str) -> None:
    """A token made by `token_of`, then `sql` behind the process's back: the booking is
    answered 401, nothing is written, and the token is not remembered."""
    [email] = await add_people(browser.world, 1, f"gone{tag.lower()}")
    token, headers = await token_of(browser, email)
    session_id = await a_session(browser, tag)
    await change(browser, sql, token_hash=hash_token(token), email=email)
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


# --- a token never read before (PostgreSQL: found by the booking's own first statement) ------


@pytest.fixture
def pg_browser(browser: Browser) -> Browser:
    if browser.world.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads the token first, on the event loop's thread")
    return browser


async def new_token(browser: Browser, email: str) -> tuple[str, dict[str, str]]:
    token = await people.create_token(browser.world.db, browser.world.clock, email=email)
    assert memory(browser).recall(token) is None
    return token, {"Authorization": f"Bearer {token}"}


async def test_a_new_token_finds_its_learner_in_the_bookings_first_statement(
    pg_browser: Browser,
) -> None:
    browser = pg_browser
    [email] = await add_people(browser.world, 1, "fresh")
    token, headers = await new_token(browser, email)
    session_id = await a_session(browser, "E")
    with counting(browser) as heard:
        response = await browser.client.post(
            f"/api/v1/sessions/{session_id}/bookings", json={}, headers=headers
        )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "booked"
    assert response.json()["history"][-1]["actor"] == email
    assert not any(q.startswith("SELECT api_tokens.") for q in heard), heard
    assert len(heard) == 2, heard  # the learner found by the token, then the place with its rows
    recalled = memory(browser).recall(token)
    assert recalled is not None and recalled[1].email == email


@pytest.mark.parametrize(
    "before_its_first_use",
    [
        "UPDATE api_tokens SET revoked_at = created_at WHERE token_hash = :token_hash",
        "UPDATE people SET active = false WHERE email = :email",
    ],
    ids=["revoked", "deactivated"],
)
async def test_a_new_token_that_does_not_stand_books_nothing(
    pg_browser: Browser, before_its_first_use: str
) -> None:
    await books_nothing_after(pg_browser, new_token, before_its_first_use, "F")


async def test_an_unknown_token_and_a_records_token_are_answered_as_before(
    pg_browser: Browser,
) -> None:
    browser = pg_browser
    session_id = await a_session(browser, "G")
    url = f"/api/v1/sessions/{session_id}/bookings"
    unknown = await browser.client.post(
        url, json={}, headers={"Authorization": "Bearer bk_thisisnotatokenofanyone"}
    )
    assert unknown.status_code == 401, unknown.text
    records = await people.create_token(
        browser.world.db, browser.world.clock, service="lms", scope="records"
    )
    refused = await browser.client.post(
        url, json={}, headers={"Authorization": f"Bearer {records}"}
    )
    assert refused.status_code == 403, refused.text
    assert await bookings_count(browser.world, session_id) == 0


async def test_the_attempt_is_counted_once_when_the_full_path_books_it(
    pg_browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A course the lean path declines after its read (an approval chain): the full path books
    it with the actor that read found, and the rate limit has counted the attempt once."""
    browser = pg_browser
    monkeypatch.setattr(ratelimit, "BOOKING", ratelimit.Limit("booking-test", 2, 60))
    [email] = await add_people(browser.world, 1, "gated", manager="manager@example.org")
    _, headers = await new_token(browser, email)
    answers = []
    for i in range(3):
        gated = await add_course(browser.world, f"RTH{i}", "Gated", approval=["manager"])
        session_id = await add_session(browser.world, gated, capacity=5)
        response = await browser.client.post(
            f"/api/v1/sessions/{session_id}/bookings", json={}, headers=headers
        )
        answers.append((response.status_code, response.json().get("state")))
    assert [status for status, _ in answers] == [201, 201, 429], answers
    assert answers[0][1] == "pending_approval"


async def test_a_new_token_is_read_first_where_the_booking_would_wait_for_a_group(
    world: support.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group reads no tokens: a booking that would wait for one has its actor read (and its
    attempt counted by that read) before it joins the line, as any other."""
    if world.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads the token first, on the event loop's thread")
    monkeypatch.setattr(group.LINES, "alone_at_once", 0)  # every booking waits for a group
    [email] = await add_people(world, 1, "unread")
    session_id = await add_session(world, await add_course(world, "RTI", "Unread"), capacity=5)
    who = await support.actor(world.db, email)
    calls: list[str] = []

    async def read() -> Any:
        calls.append("read")
        return who

    async def on_read(actor: Any) -> None:
        calls.append("on_read")

    outcome = await bookings.book_on_token(
        world.db,
        world.clock,
        UnreadToken("not-a-token-of-anyone", on_read, read),
        BookingRequest(session_id),
    )
    assert calls == ["read"]
    assert outcome.booking.state == "booked"
    assert await bookings_count(world, session_id) == 1
