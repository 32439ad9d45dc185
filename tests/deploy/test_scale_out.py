"""Scale-out on PostgreSQL with real processes: `booking serve` app processes (BOOKING_WORKER=off)
and `booking worker` processes sharing nothing but the database.

1. A rush split across two app processes, cancellations, and two workers delivering: exactly the
   seats are booked, the waiting list promotes first come first served, and every message
   (confirmations included) reaches the SMTP server exactly once; no 5xx.
2. The app's database connections are cut (`pg_terminate_backend`) during a load: every answer
   is a success, a refusal, or a clean 503 problem, and few are 503s (a transaction cut before
   its COMMIT runs again on a new connection, and the pool's other connections are pinged
   before use); nothing is half-written; the same process answers normally afterwards.
3. A worker killed (SIGKILL) mid-delivery and another stopped (SIGTERM) mid-delivery: every
   message is sent in the end, none is lost, and the only repeat is the message the killed
   worker was sending, with the same Message-ID (delivery is at least once).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from booking import bookings, people
from booking.bookings import BookingRequest
from booking.clock import FixedClock
from booking.db import Database
from booking.web.problems import DATABASE_DOWN
from tests import support
from tests.deploy.conftest import (
    Processes,
    Smtp,
    asyncpg_dsn,
    wait_ready,
    wait_until,
)

pytestmark = pytest.mark.postgres

CONFIRMATIONS = ("booking.booked", "booking.promoted")


@dataclass
class Prepared:
    session_id: int
    emails: list[str]
    tokens: list[str]


async def prepare(url: str, learners: int, capacity: int) -> Prepared:
    """A course, a session and learners with tokens, made through the services (as an
    administrator would, over the API) on the test's database."""
    clock = FixedClock(datetime.now(UTC))
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, clock)
        session_id = await support.make_session(world, capacity=capacity)
        emails = await support.make_learners(world, learners)
        tokens = [await people.create_token(db, clock, email=e) for e in emails]
        return Prepared(session_id, emails, tokens)
    finally:
        await db.dispose()


def db_env(url: str, smtp: Smtp | None = None, **more: str) -> dict[str, str]:
    env = {
        "BOOKING_DATABASE_URL": url,
        "BOOKING_LOG_LEVEL": "info",
        # Small pools: four processes, and other test runs, share one PostgreSQL.
        "BOOKING_DB_POOL_SIZE": "8",
        "BOOKING_DB_MAX_OVERFLOW": "8",
        "BOOKING_DB_CONNECT_RETRY_SECONDS": "30",
        "BOOKING_SHUTDOWN_TIMEOUT": "10",
        **more,
    }
    if smtp is not None:
        env |= {"BOOKING_SMTP_HOST": smtp.host, "BOOKING_SMTP_PORT": str(smtp.port)}
    return env


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def fetchval(url: str, sql: str, *args: Any) -> Any:
    rows = await fetch(url, sql, *args)
    return rows[0][0] if rows else None


async def unsent(url: str) -> int:
    return int(
        await fetchval(
            url, "SELECT count(*) FROM outbox WHERE channel = 'email' AND sent_at IS NULL"
        )
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


async def drained(url: str) -> bool:
    return await unsent(url) == 0


def book(http: httpx.AsyncClient, session_id: int, token: str) -> Any:
    return http.post(
        f"/api/v1/sessions/{session_id}/bookings",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )


def cancel(http: httpx.AsyncClient, booking_id: int, token: str) -> Any:
    return http.post(
        f"/api/v1/bookings/{booking_id}/cancel",
        json={"reason": "Illness"},
        headers={"Authorization": f"Bearer {token}"},
    )


def clients(base_urls: list[str], connections: int) -> list[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return [httpx.AsyncClient(base_url=u, timeout=180, limits=limits) for u in base_urls]


# --- 1. the rush across two app processes, delivered by two workers ---------------------------

LEARNERS = 400
SEATS = 40
CANCELS = 10


async def test_rush_across_two_apps_and_two_workers(
    deploy_db: str, smtp: Smtp, processes: Processes
) -> None:
    # A loaded test machine can be many times slower than production: the rush must not meet
    # the statement or pool timeouts here (they are exercised by the fault test).
    env = db_env(
        deploy_db, smtp, BOOKING_DB_STATEMENT_TIMEOUT_MS="120000", BOOKING_DB_POOL_TIMEOUT="120"
    )
    # Start every process first: they import and connect while the test prepares the data.
    apps = [processes.app(**env), processes.app(**env)]
    workers = [processes.worker(BOOKING_WORKER_INTERVAL="0.2", **env) for _ in range(2)]
    world = await prepare(deploy_db, LEARNERS, SEATS)
    await wait_ready(apps)
    assert all(w.alive() for w in workers), processes.logs()

    https = clients([a.base_url or "" for a in apps], LEARNERS)
    try:
        start = asyncio.Event()

        async def one(i: int) -> httpx.Response:
            await start.wait()
            return await book(https[i % 2], world.session_id, world.tokens[i])  # type: ignore[no-any-return]

        tasks = [asyncio.create_task(one(i)) for i in range(LEARNERS)]
        await asyncio.sleep(0)
        cpu_before = sum(cpu_seconds(a.pid) for a in apps)
        started = time.perf_counter()
        start.set()
        responses = await asyncio.gather(*tasks)
        rush_seconds = time.perf_counter() - started
        rush_cpu = sum(cpu_seconds(a.pid) for a in apps) - cpu_before

        assert not [r for r in responses if r.status_code >= 500], processes.logs()
        assert all(r.status_code == 201 for r in responses), [
            (r.status_code, r.text[:200]) for r in responses if r.status_code != 201
        ][:5]
        body = [r.json() for r in responses]
        booked = [i for i, b in enumerate(body) if b["state"] == "booked"]
        waiting = sorted(
            (i for i, b in enumerate(body) if b["state"] == "waitlisted"),
            key=lambda i: body[i]["waitlist_position"],
        )
        assert len(booked) == SEATS
        assert [body[i]["waitlist_position"] for i in waiting] == list(
            range(1, LEARNERS - SEATS + 1)
        )
        # Both app processes served bookings and waitlist places.
        assert {i % 2 for i in booked} == {0, 1}

        # Ten booked learners cancel at once, through both processes.
        cancelled = booked[:CANCELS]
        answers = await asyncio.gather(
            *[cancel(https[n % 2], body[i]["id"], world.tokens[i]) for n, i in enumerate(cancelled)]
        )
        assert [a.status_code for a in answers] == [200] * CANCELS, [a.text for a in answers]
    finally:
        for http in https:
            await http.aclose()

    # Exactly the seats are booked, and the first ten in line were promoted.
    states = {
        r["id"]: r["state"]
        for r in await fetch(
            deploy_db, "SELECT id, state FROM bookings WHERE session_id = $1", world.session_id
        )
    }
    promoted = {body[i]["id"] for i in waiting[:CANCELS]}
    still_booked = {body[i]["id"] for i in booked[CANCELS:]}
    assert {b for b, s in states.items() if s == "booked"} == promoted | still_booked
    assert sum(1 for s in states.values() if s == "booked") == SEATS
    assert all(states[body[i]["id"]] == "waitlisted" for i in waiting[CANCELS:])
    held = await fetchval(
        deploy_db, "SELECT seats_held FROM sessions WHERE id = $1", world.session_id
    )
    assert held == SEATS

    # The workers deliver everything; each message arrives exactly once.
    delivery_started = time.perf_counter()
    await wait_until(lambda: drained(deploy_db), within=120, what="the outbox to empty", poll=0.25)
    rows = await fetch(deploy_db, "SELECT id, topic, booking_id, status FROM outbox")
    assert rows and all(r["status"] == "sent" for r in rows)
    arrived = smtp.sink.outbox_ids()
    assert arrived == Counter({r["id"]: 1 for r in rows}), {
        k: v for k, v in arrived.items() if v != 1
    }
    confirmations = Counter(r["booking_id"] for r in rows if r["topic"] in CONFIRMATIONS)
    ever_booked = {body[i]["id"] for i in booked} | promoted
    assert set(confirmations) == ever_booked
    assert set(confirmations.values()) == {1}
    assert {r["booking_id"] for r in rows if r["topic"] == "booking.promoted"} == promoted
    rss = [rss_mib(p.pid) for p in (*apps, *workers)]
    print(
        f"\nrush: {LEARNERS} bookings over 2 app processes in {rush_seconds:.2f}s "
        f"({rush_cpu:.1f} CPU-seconds in the app processes); "
        f"resident memory (MiB) apps {rss[:2]}, workers {rss[2:]}; "
        f"{len(rows)} messages delivered by 2 workers in "
        f"{time.perf_counter() - delivery_started:.2f}s after the cancellations"
    )


# --- 2. the database cuts the app's connections during a load ---------------------------------

FAULT_LEARNERS = 160
FAULT_SEATS = 40
CUTS = 3


async def app_connections(url: str, dbname: str) -> int:
    return int(
        await fetchval(
            url,
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = $1 AND application_name = 'booking-web'",
            dbname,
        )
    )


async def terminate_app_connections(url: str, dbname: str) -> int:
    rows = await fetch(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name = 'booking-web'",
        dbname,
    )
    return sum(1 for r in rows if r[0])


def is_clean_503(r: httpx.Response) -> bool:
    return (
        r.status_code == 503
        and r.headers.get("content-type", "").startswith("application/problem+json")
        and r.json().get("detail") == DATABASE_DOWN
        and r.headers.get("retry-after") is not None
    )


async def consistency_problems(url: str, session_id: int) -> list[str]:
    """Nothing half-written: every booking has its history and its messages, its state is
    its last transition's, and the seat counter matches the places held."""
    problems: list[str] = []
    rows = await fetch(
        url,
        """
        SELECT b.id, b.state,
               (SELECT count(*) FROM booking_history h WHERE h.booking_id = b.id) AS history,
               (SELECT h.to_state FROM booking_history h WHERE h.booking_id = b.id
                 ORDER BY h.id DESC LIMIT 1) AS last_state,
               (SELECT count(*) FROM outbox o
                 WHERE o.booking_id = b.id AND o.recipient_id = b.learner_id) AS messages
        FROM bookings b WHERE b.session_id = $1
        """,
        session_id,
    )
    for r in rows:
        if r["history"] == 0 or r["messages"] == 0:
            problems.append(f"booking {r['id']}: {r['history']} history, {r['messages']} messages")
        elif r["state"] != r["last_state"] or r["history"] != r["messages"]:
            problems.append(f"booking {r['id']}: {dict(r)}")
    held = await fetchval(url, "SELECT seats_held FROM sessions WHERE id = $1", session_id)
    holding = sum(1 for r in rows if r["state"] in ("booked", "offered", "pending_payment"))
    if held != holding:
        problems.append(f"seats_held {held} but {holding} places held")
    return problems


async def test_connections_cut_during_load_fail_cleanly_and_recover(
    deploy_db: str, processes: Processes
) -> None:
    app = processes.app(**db_env(deploy_db))
    world = await prepare(deploy_db, FAULT_LEARNERS + 1, FAULT_SEATS)
    await wait_ready([app])
    dbname = deploy_db.rpartition("/")[2]
    base = app.base_url or ""

    [http] = clients([base], 64)
    responses: list[httpx.Response] = []
    cut = 0
    try:
        gate = asyncio.Semaphore(32)

        async def learner(i: int) -> None:
            async with gate:
                r = await book(http, world.session_id, world.tokens[i])
                responses.append(r)
                # Every fourth learner who got a seat gives it up: promotions under fire too.
                if r.status_code == 201 and r.json()["state"] == "booked" and i % 4 == 0:
                    responses.append(await cancel(http, r.json()["id"], world.tokens[i]))

        async def cutter() -> int:
            total = 0
            for n in range(1, CUTS + 1):
                mark = n * FAULT_LEARNERS // (CUTS + 2)
                await wait_until(
                    lambda mark=mark: len(responses) >= mark,
                    within=120,
                    what="load to progress",
                    poll=0.02,
                )
                # A group of bookings that lost its connection answers all its requests at
                # once, so the mark can come before the app has connected again: wait for a
                # connection to cut (which is the recovery this test is about, too).
                await wait_until(
                    lambda: app_connections(deploy_db, dbname),
                    within=60,
                    what="the app to hold a connection again",
                    poll=0.02,
                )
                total += 1
                cut_now = await terminate_app_connections(deploy_db, dbname)
                assert cut_now > 0, "the app held no connection to cut"
            return total

        load = asyncio.gather(*[learner(i) for i in range(FAULT_LEARNERS)])
        cuts, _ = await asyncio.gather(cutter(), load)
        cut = cuts
    finally:
        await http.aclose()

    statuses = Counter(r.status_code for r in responses)
    unexpected = [
        (r.status_code, r.text[:300])
        for r in responses
        if r.status_code not in (200, 201) and not is_clean_503(r)
    ]
    assert not unexpected, (unexpected[:5], statuses)
    assert statuses[201] > FAULT_LEARNERS // 2, statuses
    # Without the cut transactions run again and the pool pinged after a cut: 38-48 of ~172
    # answered 503; with them, 1-12.
    assert statuses[503] * 6 < len(responses), statuses
    assert cut == CUTS
    assert await consistency_problems(deploy_db, world.session_id) == []

    # The same process answers normally afterwards: no restart.
    assert app.alive()
    async with httpx.AsyncClient(base_url=base, timeout=30) as after:
        assert (await after.get("/ready")).status_code == 200
        late = await book(after, world.session_id, world.tokens[FAULT_LEARNERS])
        assert late.status_code == 201, late.text
    assert await consistency_problems(deploy_db, world.session_id) == []
    print(f"\nfault: {CUTS} cuts during {len(responses)} requests: {dict(statuses)}")


# --- 3. workers killed and stopped mid-delivery -----------------------------------------------

MESSAGES = 90


async def queue_messages(url: str, n: int) -> None:
    """`n` learners booked (capacity to spare): one booking.booked message each."""
    clock = FixedClock(datetime.now(UTC))
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, clock)
        session_id = await support.make_session(world, capacity=n + 10)
        emails = await support.make_learners(world, n)
        actors = [await support.actor(db, e) for e in emails]
        for a in actors:
            await bookings.book_place(db, clock, a, BookingRequest(session_id))
    finally:
        await db.dispose()


async def test_worker_killed_or_stopped_mid_delivery_loses_nothing(
    deploy_db: str, smtp: Smtp, processes: Processes
) -> None:
    # A lease longer than the default 30 s: worker B must start, send and stop while the
    # killed worker A's claims are still leased, on however slow a test machine.
    env = db_env(deploy_db, smtp, BOOKING_WORKER_INTERVAL="0.2", BOOKING_WORKER_CLAIM_LEASE="120")
    await queue_messages(deploy_db, MESSAGES)
    rows = await fetch(deploy_db, "SELECT id FROM outbox WHERE channel = 'email'")
    assert len(rows) == MESSAGES
    smtp.sink.delay = 0.03  # slow enough for a signal to land mid-batch

    # A: killed outright in the middle of its batch.
    a = processes.worker(**env)
    await wait_until(lambda: smtp.sink.count() >= 20, within=90, what="worker A to send")
    a.signal(signal.SIGKILL)
    assert a.wait(timeout=10) == -signal.SIGKILL
    held_by_a = {
        r["id"]
        for r in await fetch(
            deploy_db, "SELECT id FROM outbox WHERE claim_token IS NOT NULL AND sent_at IS NULL"
        )
    }
    assert held_by_a, "worker A died holding no claim: the kill was not mid-delivery"

    # B: starts while A's claims are still leased (it must leave them alone), and is stopped
    # with SIGTERM mid-batch: it finishes its send in hand and releases the rest at once.
    before_b = smtp.sink.count()
    b = processes.worker(**env)
    await wait_until(lambda: smtp.sink.count() >= before_b + 15, within=90, what="worker B to send")
    b.signal(signal.SIGTERM)
    assert b.wait(timeout=20) == 0, b.log_tail()
    claimed = {
        r["id"]
        for r in await fetch(
            deploy_db, "SELECT id FROM outbox WHERE claim_token IS NOT NULL AND sent_at IS NULL"
        )
    }
    assert claimed == held_by_a, "B released all it held, and never took A's leased rows"
    released = await fetch(
        deploy_db,
        "SELECT id FROM outbox WHERE sent_at IS NULL AND claim_token IS NULL "
        "AND (available_at > now() OR last_error IS NOT NULL)",
    )
    assert released == [], "B's released rows are due at once, with no error recorded"
    assert "claimed messages released unsent" in b.log_tail()

    # A's lease would lapse one lease after its last renewal (A renews no more): let it lapse
    # now (tests/notifications/test_claim_lease.py shows a fresh worker taking them then).
    await fetch(
        deploy_db,
        "UPDATE outbox SET claimed_until = now() - interval '1 second' "
        "WHERE claim_token IS NOT NULL AND sent_at IS NULL",
    )
    c = processes.worker(**env)
    await wait_until(lambda: drained(deploy_db), within=90, what="worker C to send the rest")
    c.signal(signal.SIGTERM)
    assert c.wait(timeout=20) == 0, c.log_tail()

    rows = await fetch(deploy_db, "SELECT id, status FROM outbox WHERE channel = 'email'")
    assert {r["status"] for r in rows} == {"sent"}
    arrived = smtp.sink.outbox_ids()
    # Nothing lost: every row's Message-ID arrived. Repeats: only what A was sending when it
    # died (the server had the message; A never saw it accepted), under the same Message-ID.
    assert set(arrived) == {r["id"] for r in rows}
    repeats = {row_id: n for row_id, n in arrived.items() if n > 1}
    assert set(repeats) <= held_by_a and all(n == 2 for n in repeats.values()), repeats
    assert len(repeats) <= 1, repeats
    print(
        f"\nrestart: {len(rows)} messages, {len(held_by_a)} held by the killed worker, "
        f"{sum(arrived.values())} arrivals ({len(repeats)} repeated with the same Message-ID)"
    )
