"""Workload A, the bare driver: the booking transaction's essential SQL, no HTTP and no ORM.

One process, pinned to the app's core (it stands in for the app), drives the same database
driver the app uses: asyncpg on PostgreSQL (as many connections as the app's pool), aiosqlite
on SQLite (one writer at a time, as the app's `BEGIN IMMEDIATE` and write lock allow). Each
transaction is what `booking.bookings.book_place` must do to take a seat:

    BEGIN
    SELECT … FROM people   WHERE id = :learner FOR UPDATE     -- learner lock (lock order)
    SELECT … FROM sessions WHERE id = :session FOR UPDATE     -- session lock
    UPDATE sessions SET seats_held = seats_held + 1
           WHERE id = :session AND seats_held < capacity RETURNING seats_held
    INSERT INTO bookings (…) RETURNING id
    INSERT INTO booking_history (…) RETURNING id
    INSERT INTO outbox (…)                                     -- the learner's notification
    COMMIT

(SQLite has no FOR UPDATE: `BEGIN IMMEDIATE` takes the write lock instead.)

    python -m bench.driver SPEC.json OUT.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

PG_SQL = {
    "lock_learner": "SELECT id FROM people WHERE id = $1 FOR UPDATE",
    "lock_session": "SELECT * FROM sessions WHERE id = $1 FOR UPDATE",
    "take_seat": (
        "UPDATE sessions SET seats_held = seats_held + 1"
        " WHERE id = $1 AND seats_held < capacity RETURNING seats_held"
    ),
    "booking": (
        "INSERT INTO bookings (session_id, course_id, learner_id, state, sequence, created_at,"
        " updated_at) VALUES ($1, $2, $3, 'booked', 0, $4, $4) RETURNING id"
    ),
    "history": (
        "INSERT INTO booking_history (booking_id, at, actor_id, actor, from_state, to_state)"
        " VALUES ($1, $2, $3, $4, NULL, 'booked') RETURNING id"
    ),
    "outbox": (
        "INSERT INTO outbox (channel, topic, recipient_id, booking_id, session_id, payload,"
        " dedupe_key, created_at, available_at)"
        " VALUES ('email', 'booking.booked', $1, $2, $3, $4, $5, $6, $6)"
    ),
}


def _payload(booking_id: int, session_id: int) -> str:
    return json.dumps(
        {
            "booking_id": booking_id,
            "session_id": session_id,
            "from_state": None,
            "state": "booked",
            "sequence": 0,
            "reason": None,
        }
    )


async def run_pg(spec: dict[str, Any]) -> tuple[list[list[float]], int, float, int]:
    import asyncpg

    pairs = iter(spec["pairs"])
    conns = [await asyncpg.connect(spec["dsn"]) for _ in range(spec["concurrency"])]
    rows: list[list[float]] = []
    failed = attempted = 0
    start = time.perf_counter()
    counted_from = start + spec["warmup"]
    stop_at = counted_from + spec["duration"]

    async def worker(conn: Any) -> None:
        nonlocal failed, attempted
        while time.perf_counter() < stop_at:
            try:
                learner, session, course = next(pairs)
            except StopIteration:
                return
            attempted += 1
            t0 = time.perf_counter()
            now = datetime.now(UTC)
            async with conn.transaction():
                await conn.fetchval(PG_SQL["lock_learner"], learner)
                await conn.fetchrow(PG_SQL["lock_session"], session)
                held = await conn.fetchval(PG_SQL["take_seat"], session)
                if held is None:
                    failed += 1
                    continue
                bid = await conn.fetchval(PG_SQL["booking"], session, course, learner, now)
                hid = await conn.fetchval(
                    PG_SQL["history"], bid, now, learner, f"learner{learner}@example.org"
                )
                await conn.execute(
                    PG_SQL["outbox"],
                    learner,
                    bid,
                    session,
                    _payload(bid, session),
                    f"booking.booked:{bid}:{hid}",
                    now,
                )
            t1 = time.perf_counter()
            if t0 >= counted_from:
                rows.append([t0, t1])

    await asyncio.gather(*(worker(c) for c in conns))
    window = min(time.perf_counter(), stop_at) - counted_from
    for c in conns:
        await c.close()
    return rows, failed, window, attempted


def _sqlite_time(dt: datetime) -> str:
    # As SQLAlchemy stores DateTime on SQLite (UTC, no offset).
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def run_sqlite(spec: dict[str, Any]) -> tuple[list[list[float]], int, float, int]:
    import aiosqlite

    rows: list[list[float]] = []
    failed = attempted = 0
    # The app's connection set-up (booking.db._configure_sqlite).
    conn = await aiosqlite.connect(spec["path"], isolation_level=None)
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
        "PRAGMA synchronous=NORMAL",
    ):
        await conn.execute(pragma)
    start = time.perf_counter()
    counted_from = start + spec["warmup"]
    stop_at = counted_from + spec["duration"]
    for learner, session, course in spec["pairs"]:
        t0 = time.perf_counter()
        if t0 >= stop_at:
            break
        attempted += 1
        now = _sqlite_time(datetime.now(UTC))
        await conn.execute("BEGIN IMMEDIATE")
        await (await conn.execute("SELECT id FROM people WHERE id = ?", (learner,))).fetchone()
        await (await conn.execute("SELECT * FROM sessions WHERE id = ?", (session,))).fetchone()
        cur = await conn.execute(
            "UPDATE sessions SET seats_held = seats_held + 1"
            " WHERE id = ? AND seats_held < capacity RETURNING seats_held",
            (session,),
        )
        held = await cur.fetchone()
        if held is None:
            await conn.execute("ROLLBACK")
            failed += 1
            continue
        cur = await conn.execute(
            "INSERT INTO bookings (session_id, course_id, learner_id, state, sequence, created_at,"
            " updated_at) VALUES (?, ?, ?, 'booked', 0, ?, ?) RETURNING id",
            (session, course, learner, now, now),
        )
        bid = (await cur.fetchone())[0]  # type: ignore[index]
        cur = await conn.execute(
            "INSERT INTO booking_history (booking_id, at, actor_id, actor, from_state, to_state)"
            " VALUES (?, ?, ?, ?, NULL, 'booked') RETURNING id",
            (bid, now, learner, f"learner{learner}@example.org"),
        )
        hid = (await cur.fetchone())[0]  # type: ignore[index]
        await conn.execute(
            "INSERT INTO outbox (channel, topic, recipient_id, booking_id, session_id, payload,"
            " dedupe_key, created_at, available_at)"
            " VALUES ('email', 'booking.booked', ?, ?, ?, ?, ?, ?, ?)",
            (
                learner,
                bid,
                session,
                _payload(bid, session),
                f"booking.booked:{bid}:{hid}",
                now,
                now,
            ),
        )
        await conn.execute("COMMIT")
        t1 = time.perf_counter()
        if t0 >= counted_from:
            rows.append([t0, t1])
    window = min(time.perf_counter(), stop_at) - counted_from
    await conn.close()
    return rows, failed, window, attempted


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    began = time.perf_counter()
    runner = run_pg if spec["backend"] == "postgresql" else run_sqlite
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as r:
        rows, failed, window, attempted = r.run(runner(spec))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "rows": rows,
                "failed": failed,
                "window": window,
                "attempted": attempted,  # transactions begun, warm-up included
                "elapsed": time.perf_counter() - began,
            },
            f,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
