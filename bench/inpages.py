"""A page's CPU, in process: for iterating on the pages workload (P), not for the figures.

Seeds the organisation at a scale (as `bench/run`'s P does; `--keep` leaves it for the next run,
`--reuse` takes it as left), builds the app with the production factory, signs in through the
login page (over httpx's ASGI transport: no sockets) and fetches one page N times; prints the
CPU per page and, with `--profile`, cProfile's busiest functions and the split by package.

    python -m bench.inpages --backend sqlite --page record -n 100 [--scale 1.0] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import data
from bench.inprocess import by_package, lifespan
from bench.main import PASSWORD, SECRET, prepare_sign_in

WORKDIR = Path("/tmp/booking-inpages")


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    await client.get("/login")
    csrf = client.cookies.get("csrftoken") or ""
    r = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "/courses", "_csrf_token": csrf},
        headers={"x-csrftoken": csrf},
    )
    if r.status_code != 303:
        raise SystemExit(f"sign-in failed: {r.status_code} {r.text[:300]}")


def seeded(target: data.Target, scale: data.OrgScale, *, reuse: bool) -> data.OrgData:
    state = WORKDIR / f"{target.backend}-{scale.people}.json"
    if reuse and state.exists():
        saved = json.loads(state.read_text())
        org = data.OrgData(scale)
        for key, value in saved.items():
            setattr(org, key, value)
        return org
    asyncio.run(data.recreate(target))
    data.migrate(target, WORKDIR)
    org = asyncio.run(data.seed_org(target, scale))
    org.keep_learners(3)
    prepare_sign_in(target, org)
    saved = {k: v for k, v in vars(org).items() if k not in ("scale",)}
    state.write_text(json.dumps(saved))
    return org


async def measure(args: argparse.Namespace, target: data.Target, org: data.OrgData) -> None:
    os.environ.update(
        {"BOOKING_DATABASE_URL": target.url, "BOOKING_SECRET_KEY": SECRET, "BOOKING_WORKER": "off"}
    )
    from booking.cli import app_factory

    app = app_factory()
    task, inbox = await lifespan(app)
    timings: dict[str, list[float]] = {}
    if args.sql:
        from sqlalchemy import event

        engine = app.state.db.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _start(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            conn.info["bench_t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _stop(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            spent = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
            timings.setdefault(" ".join(statement.split())[:160], []).append(spent)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        if args.page == "roster":
            await sign_in(client, org.trainer_email)
            path = f"/sessions/{org.roster_sessions[0]}/roster"
        else:
            await sign_in(client, org.learner_emails[0])
            path = {
                "record": "/me/record",
                "my_bookings": "/me/bookings",
                "search": "/courses?q=advanced",
                "course": f"/courses/{org.course_ids[0]}",
            }[args.page]
        for _ in range(5):  # warm up
            r = await client.get(path)
            assert r.status_code == 200, (r.status_code, r.text[:300])
        prof = cProfile.Profile() if args.profile else None
        t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
        if prof:
            prof.enable()
        for _ in range(args.n):
            r = await client.get(path)
        if prof:
            prof.disable()
        c1, t1, m1 = time.process_time(), time.perf_counter(), time.thread_time()
    print(
        json.dumps(
            {
                "backend": args.backend,
                "page": args.page,
                "bytes": len(r.content),
                "cpu_ms": round(1000 * (c1 - c0) / args.n, 2),
                # the event loop's thread alone (the rest: aiosqlite's thread, on SQLite)
                "loop_cpu_ms": round(1000 * (m1 - m0) / args.n, 2),
                "wall_ms": round(1000 * (t1 - t0) / args.n, 2),
                "profiled": bool(prof),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )
    for statement, spent in sorted(timings.items(), key=lambda kv: -sum(kv[1])):
        print(f"{1000 * sum(spent) / args.n:7.2f} ms/page  x{len(spent) / args.n:.1f}  {statement}")
    if prof:
        stats = pstats.Stats(prof)
        print("by package (self time):", by_package(stats))
        stats.sort_stats(args.sort).print_stats(args.top)
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, 10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inpages")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument(
        "--page", choices=["record", "roster", "my_bookings", "search", "course"], default="record"
    )
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--scale", type=float, default=1.0, help="of the full 100,000 people")
    parser.add_argument("--reuse", action="store_true", help="the organisation as left")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sql", action="store_true", help="time each statement (SQLAlchemy's)")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    WORKDIR.mkdir(exist_ok=True)
    scale = data.OrgScale.full().times(args.scale)
    if args.backend == "postgresql":
        target = data.Target("postgresql", "booking_bench_inpages")
    else:
        target = data.Target("sqlite", str(WORKDIR / f"pages-{scale.people}.db"))
    org = seeded(target, scale, reuse=args.reuse)
    asyncio.run(measure(args, target, org))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
