"""Sessions, throttling, CSRF and origin checks, headers, escaping, password resets, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking import bookings, people
from booking.bookings import BookingRequest
from booking.models import AuditEvent, Outbox
from booking.people import auth
from tests import support
from tests.web.conftest import Browser, BrowserFactory, person_id_of


async def _password_account(browser: Browser, email: str = "lee@example.org") -> int:
    person_id = await person_id_of(browser.world, email)
    await auth.set_password(browser.world.db, browser.world.clock, person_id, "Corr3ctHorse")
    return person_id


async def test_sign_in_starts_a_new_session_and_sign_out_kills_it(
    open_browser: BrowserFactory,
) -> None:
    async with open_browser(demo=False) as browser:
        await _password_account(browser)
        await browser.get("/login")
        # A session id planted before sign-in (fixation) is not the one used after it.
        browser.client.cookies.set("booking_sid", "planted-by-an-attacker")
        ok = await browser.post("/login", {"email": "lee@example.org", "password": "Corr3ctHorse"})
        assert ok.status_code == 303
        sid = ok.cookies.get("booking_sid")
        assert sid and sid != "planted-by-an-attacker"
        browser.client.cookies.clear()
        browser.client.cookies.set("booking_sid", sid)
        set_cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax")
        assert (await browser.get("/me/bookings")).status_code == 200

        out = await browser.post("/logout")
        assert out.status_code == 303
        # The old cookie, copied before signing out, opens nothing any more.
        browser.client.cookies.clear()
        browser.client.cookies.set("booking_sid", sid)
        assert (await browser.get("/me/bookings")).status_code == 303


async def test_sessions_end_when_idle(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    sid = next(c.value for c in browser.client.cookies.jar if c.name == "booking_sid")
    assert sid
    actor = await auth.actor_for_session(
        browser.world.db,
        browser.world.clock,
        sid,
        idle=timedelta(minutes=120),
        absolute=timedelta(hours=12),
    )
    assert actor is not None and actor.email == "lee@example.org"
    later = support.FixedClock(support.T0 + timedelta(hours=3))
    gone = await auth.actor_for_session(
        browser.world.db, later, sid, idle=timedelta(minutes=120), absolute=timedelta(hours=12)
    )
    assert gone is None


async def test_failed_logins_are_throttled_and_audited(open_browser: BrowserFactory) -> None:
    async with open_browser(demo=False) as browser:
        await _password_account(browser)
        for _ in range(10):
            r = await browser.post("/login", {"email": "lee@example.org", "password": "Nope1234"})
            assert r.status_code == 422
        blocked = await browser.post(
            "/login", {"email": "lee@example.org", "password": "Corr3ctHorse"}
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "Too many failed attempts" in blocked.text
        async with browser.world.db.reading() as s:
            actions = (await s.scalars(select(AuditEvent.action))).all()
        assert actions.count("login.failed") == 10
        assert "login.throttled" in actions


async def test_csrf_token_and_origin_are_checked(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    session_id = await support.make_session(browser.world)
    no_token = await browser.post(f"/sessions/{session_id}/book", {}, csrf=False)
    assert no_token.status_code == 403
    other_site = await browser.client.post(
        f"/sessions/{session_id}/book",
        data={"_csrf_token": browser.csrf()},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert other_site.status_code == 403
    assert "from another site" in other_site.text
    same_site = await browser.client.post(
        f"/sessions/{session_id}/book",
        data={"_csrf_token": browser.csrf()},
        headers={"Origin": "http://testserver.local"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303
    lee = await support.actor(browser.world.db, "lee@example.org")
    assert len((await bookings.my_bookings(browser.world.db, browser.world.clock, lee)).items) == 1


async def test_security_headers(browser: Browser) -> None:
    page = await browser.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    api = await browser.get("/health")
    assert api.headers["x-content-type-options"] == "nosniff"


async def test_user_text_is_shown_as_text(browser: Browser) -> None:
    world = browser.world
    evil = "<script>alert('x')</script>"
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                "evil@example.org", f"Eve {evil}", None, None, "ADULT", evil, roles=["learner"]
            )
        ],
    )
    session_id = await support.make_session(world, facilitators=["trainer@example.org"])
    eve = await support.actor(world.db, "evil@example.org")
    booked = await bookings.book_place(
        world.db, world.clock, eve, BookingRequest(session_id, special_requirements=evil)
    )
    pages = {
        "trainer@example.org": [f"/sessions/{session_id}/roster"],
        "evil@example.org": ["/me/bookings", f"/bookings/{booked.booking.id}"],
        "admin@example.org": ["/admin/outbox", f"/bookings/{booked.booking.id}"],
    }
    for email, urls in pages.items():
        await browser.sign_in(email)
        for url in urls:
            page = await browser.get(url)
            assert page.status_code == 200, url
            assert "<script>alert" not in page.text, url
    await browser.sign_in("trainer@example.org")
    roster = await browser.get(f"/sessions/{session_id}/roster")
    assert "&lt;script&gt;alert(" in roster.text


async def test_password_reset_link_is_single_use(open_browser: BrowserFactory) -> None:
    async with open_browser(demo=False) as browser:
        await _password_account(browser)
        await browser.get("/password/forgot")
        for email in ("lee@example.org", "nobody@example.org"):
            answer = await browser.post("/password/forgot", {"email": email})
            assert answer.status_code == 200
            assert "If that address has an account here" in answer.text
        async with browser.world.db.reading() as s:
            rows = (
                await s.scalars(select(Outbox).where(Outbox.topic == "account.password_reset"))
            ).all()
        assert len(rows) == 1
        link = rows[0].payload["link"]
        path = link[link.index("/password/reset") :]
        token = path.split("token=")[1]
        weak = await browser.post(
            "/password/reset", {"token": token, "password": "short", "confirm": "short"}
        )
        assert weak.status_code == 422
        assert "at least 8 characters" in weak.text
        ok = await browser.post(
            "/password/reset", {"token": token, "password": "N3wPassword", "confirm": "N3wPassword"}
        )
        assert ok.status_code == 303
        again = await browser.post(
            "/password/reset",
            {"token": token, "password": "Oth3rPassword", "confirm": "Oth3rPassword"},
        )
        assert again.status_code == 404
        assert await auth.check_password(
            browser.world.db, browser.world.clock, "lee@example.org", "N3wPassword"
        )
        assert not await auth.check_password(
            browser.world.db, browser.world.clock, "lee@example.org", "Corr3ctHorse"
        )


async def test_audit_log_is_for_administrators(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    assert (await browser.get("/admin/audit")).status_code == 403
    await browser.sign_in("admin@example.org")
    page = await browser.get("/admin/audit")
    assert page.status_code == 200
    assert "login.succeeded" in page.text


async def test_passwords_are_hashed_at_owasps_argon2id_minimum_and_old_hashes_move_to_it(
    browser: Browser,
) -> None:
    """argon2id with 19 MiB, two passes, one lane (docs/decisions.md): a hash made with
    argon2-cffi's default parameters (64 MiB, three passes, four lanes) still signs in, and is
    stored again with ours."""
    from argon2 import PasswordHasher, extract_parameters

    from booking.models import LocalCredential

    world = browser.world
    person_id = await person_id_of(world, "lee@example.org")
    await auth.set_password(world.db, world.clock, person_id, "Corr3ctHorse")
    async with world.db.reading() as s:
        ours = await s.scalar(
            select(LocalCredential.password_hash).where(LocalCredential.person_id == person_id)
        )
    assert ours is not None
    found = extract_parameters(ours)
    assert (found.memory_cost, found.time_cost, found.parallelism) == (19 * 1024, 2, 1)

    async with world.db.transaction() as s:
        credential = await s.get_one(LocalCredential, person_id)
        credential.password_hash = PasswordHasher().hash("Corr3ctHorse")
    actor = await auth.check_password(world.db, world.clock, "lee@example.org", "Corr3ctHorse")
    assert actor is not None and actor.person_id == person_id
    async with world.db.reading() as s:
        again = await s.scalar(
            select(LocalCredential.password_hash).where(LocalCredential.person_id == person_id)
        )
    assert again is not None
    assert extract_parameters(again).memory_cost == 19 * 1024


async def test_checking_a_password_leaves_the_event_loop_free(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash is checked in a worker thread: other requests in the process go on meanwhile.
    Here the check is made to take 0.3 s (blocking, as argon2's C code does); a task ticking on
    the loop never waits as long as that."""
    import asyncio
    import time

    world = browser.world
    person_id = await person_id_of(world, "lee@example.org")
    await auth.set_password(world.db, world.clock, person_id, "Corr3ctHorse")
    real = auth._hasher

    class Slow:
        def verify(self, stored: str, password: str) -> bool:
            time.sleep(0.3)
            return real.verify(stored, password)

        def check_needs_rehash(self, stored: str) -> bool:
            return real.check_needs_rehash(stored)

    monkeypatch.setattr(auth, "_hasher", Slow())
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    actor = await auth.check_password(world.db, world.clock, "lee@example.org", "Corr3ctHorse")
    done.set()
    await ticker
    assert actor is not None and actor.person_id == person_id
    assert gaps and max(gaps) < 0.25, max(gaps)
