"""CPU per booking, in process: for iterating on the booking path, not for the figures.

Seeds a small operations database (as `bench/run` does), builds the app with the production
factory and calls it as an ASGI app directly (no sockets, no HTTP parser), N booking requests one
after another; prints the process CPU per booking (PostgreSQL runs in its own processes, so it is
not counted; aiosqlite's thread is) and, with `--profile`, cProfile's busiest functions and the
split by package.

    python -m bench.inprocess --backend postgresql -n 600 [--profile] [--cancel] [--warm]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import data
from bench.stats import postgres_cpu


async def call(app: Any, method: str, path: str, token: str, body: bytes) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def lifespan(app: Any) -> tuple[asyncio.Task[None], asyncio.Queue[dict[str, Any]]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message)

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    await started.wait()
    return task, inbox


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    totals: Counter[str] = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            pkg = filename.split("site-packages/")[1].split("/")[0]
        elif "/work/" in filename and "/booking/" in filename:
            pkg = "booking"
        elif filename.startswith("~") or filename.startswith("<"):
            pkg = "builtins"
        else:
            pkg = "stdlib"
        totals[pkg] += tottime
    whole = sum(totals.values())
    return [(k, round(100 * v / whole, 1)) for k, v in totals.most_common(12)]


async def main_async(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="booking-inproc-"))
    if args.backend == "postgresql":
        target = data.Target("postgresql", "booking_bench_inproc")
    else:
        target = data.Target("sqlite", str(workdir / "inproc.db"))
    await data.recreate(target)
    data.migrate(target, workdir)
    plan = data.OpsPlan(
        a_learners=0,
        b_learners=args.n + 50,
        rush_clients=0,
        rush_repeats=0,
        churn_sessions=(args.n + 50) // 20 + 1 if args.cancel else 0,
        bulk_sessions=max(10, (args.n + 50) // 100 + 1),
        bulk_capacity=100,
    )
    ops = await data.seed_ops(target, plan)
    os.environ.update(
        {
            "BOOKING_DATABASE_URL": target.url,
            "BOOKING_SECRET_KEY": "x" * 40,
            "BOOKING_WORKER": "off",
        }
    )
    from booking.cli import app_factory

    app = app_factory()
    task, inbox = await lifespan(app)
    # Each request: (path, token, body, expected status). With --cancel, booked learners on full
    # sessions cancel, each promoting the first in line (bench/run's churn without its bookings).
    reqs: list[tuple[str, str, bytes, int]] = (
        [
            (f"/api/v1/bookings/{bid}/cancel", token, b'{"reason": "Work commitments"}', 200)
            for token, bid, _ in ops.churn_booked
        ]
        if args.cancel
        else [
            (f"/api/v1/sessions/{sid}/bookings", token, b"{}", 201) for token, sid in ops.b_requests
        ]
    )
    for path, token, payload, expected in reqs[:50]:  # warm up: compiled caches, pool
        status, body = await call(app, "POST", path, token, payload)
        assert status == expected, (status, body[:300])
    work = reqs[50 : 50 + args.n]
    if args.warm:  # each token used once before (GET /api/v1/me): this process remembers it
        for _, token, _, _ in work:
            status, body = await call(app, "GET", "/api/v1/me", token, b"")
            assert status == 200, (status, body[:300])
    prof = cProfile.Profile() if args.profile else None
    t0, c0, p0 = time.perf_counter(), time.process_time(), postgres_cpu()
    if prof:
        prof.enable()
    for path, token, payload, expected in work:
        status, body = await call(app, "POST", path, token, payload)
        if status != expected:
            raise SystemExit(f"{status}: {body[:500]!r}")
    if prof:
        prof.disable()
    c1, t1, p1 = time.process_time(), time.perf_counter(), postgres_cpu()
    n = len(work)
    print(
        json.dumps(
            {
                "backend": args.backend,
                "requests": n,
                "kind": ("cancel" if args.cancel else "book") + (" warm" if args.warm else ""),
                "cpu_ms_per_request": round(1000 * (c1 - c0) / n, 3),
                "wall_ms_per_request": round(1000 * (t1 - t0) / n, 3),
                "postgres_cpu_ms_per_request": (
                    round(1000 * (p1 - p0) / n, 3) if args.backend == "postgresql" else None
                ),
                "profiled": bool(prof),
            }
        )
    )
    if prof:
        stats = pstats.Stats(prof)
        print("by package (self time):", by_package(stats))
        stats.sort_stats(args.sort).print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, 10)
    await data.drop(target)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("-n", type=int, default=600)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--callers", help="with --profile: who calls the functions matching this")
    parser.add_argument("--cancel", action="store_true", help="cancellations with promotion")
    parser.add_argument(
        "--warm", action="store_true", help="each token used once before (a remembered token)"
    )
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.run(main_async(args))
    except ImportError:
        asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
