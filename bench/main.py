"""`python -m bench`: every workload, on PostgreSQL and SQLite, in one run; a table and JSON.

See bench/README.md for what each workload means and the latest figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import data
from bench.server import CLIENT_CORE, REPO, SERVER_CORE, SERVER_KINDS, Server, clean_env, pinned
from bench.stats import percentile, postgres_cpu, ratio, summary_ms

SECRET = "bench-secret-key-" + "k" * 40
RESULTS = REPO / "bench" / "results" / "latest.json"
PG_NAMES = {
    "ops": "booking_bench_ops",
    "small": "booking_bench_small",
    "large": "booking_bench_large",
}

# The latest targets for each figure: issue 20's for B/A and the rush (which replaced issue 9's
# sell-out < 1 s and p99 < 500 ms), issue 9's for B/F (issue 20 set none).
TARGETS = {
    "B/F": ("≥ 0.25", lambda v: v >= 0.25),
    "B/A": ("≥ 0.4", lambda v: v >= 0.4),
    "R sell-out": ("< 250 ms", lambda v: v < 250),
    "R p99": ("< 1.5 s", lambda v: v < 1500),
    "P p95": ("< 25 ms", lambda v: v < 25),
    "RSS": ("< 200 MB", lambda v: v < 200),
}


@dataclass
class Profile:
    """How long each workload runs: `--quick` about three minutes, the default about ten,
    `--full` the issue's whole specification (20 rushes of 1,000) in about thirty."""

    name: str
    warmup: float
    closed: float  # closed-loop measuring window, seconds
    open: float  # open-loop window, seconds
    driver: float
    churn: float
    rush_repeats: int
    rush_clients: int
    page_requests: int  # per page and data size (fewer if a page is slow)
    page_seconds: float  # at most this long per page and data size
    scales: tuple[float, float]  # the two organisation sizes, as fractions of the full scale
    a_learners: int
    b_learners: int
    churn_sessions: int
    concurrency: int = 32  # closed-loop connections
    load_fraction: float = 0.5  # open-loop rate as a fraction of the closed-loop peak
    profile: bool = True
    quiet_wait: float = 60.0  # wait at most this long for other work on the machine to stop
    signed_in: int = 24  # learners signed in for the pages (each request is one of them)


QUICK = Profile(
    name="quick",
    warmup=1,
    closed=2,
    open=2,
    driver=2,
    churn=3,
    rush_repeats=1,
    rush_clients=1000,
    page_requests=30,
    page_seconds=1.5,
    scales=(0.01, 0.05),
    a_learners=6_000,
    b_learners=6_000,  # a lean booking runs through 2,000 in the closed loop and its profile
    churn_sessions=10,
    profile=False,
    quiet_wait=20,
    signed_in=8,
)
DEFAULT = Profile(
    name="default",
    warmup=2,
    closed=6,
    open=6,
    driver=5,
    churn=8,
    rush_repeats=5,
    rush_clients=1000,
    page_requests=120,
    page_seconds=4,
    scales=(0.1, 1.0),
    a_learners=30_000,
    b_learners=15_000,
    churn_sessions=100,
)
FULL = Profile(
    name="full",
    warmup=2,
    closed=10,
    open=10,
    driver=8,
    churn=15,
    rush_repeats=20,
    rush_clients=1000,
    page_requests=300,
    page_seconds=10,
    scales=(0.1, 1.0),
    a_learners=40_000,
    b_learners=20_000,
    churn_sessions=150,
)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Running the load generator and the bare driver (separate, pinned processes)


def run_module(module: str, spec: dict[str, Any], workdir: Path, core: str) -> dict[str, Any]:
    fd, spec_path = tempfile.mkstemp(suffix=".json", dir=workdir)
    os.close(fd)
    out_path = spec_path.replace(".json", ".out.json")
    Path(spec_path).write_text(json.dumps(spec))
    subprocess.run(
        pinned([sys.executable, "-m", module, spec_path, out_path], core),
        cwd=workdir,
        env=clean_env({}),
        check=True,
    )
    result = json.loads(Path(out_path).read_text())
    Path(spec_path).unlink()
    Path(out_path).unlink()
    return result


def loadgen(server: Server, workdir: Path, **spec: Any) -> dict[str, Any]:
    spec = {"host": "127.0.0.1", "port": server.port, **spec}
    return run_module("bench.loadgen", spec, workdir, CLIENT_CORE)


def latencies(rows: list[list[Any]], tag: str | None = None) -> list[float]:
    return [r[3] - r[1] for r in rows if tag is None or r[0] == tag]


def statuses(rows: list[list[Any]], tag: str | None = None) -> dict[str, int]:
    return dict(Counter(str(r[4]) for r in rows if tag is None or r[0] == tag))


def closed_loop(server: Server, workdir: Path, p: Profile, requests: list[Any], **kw: Any) -> dict:
    on_postgres = kw.pop("postgres", False)
    cpu0, db0 = server.cpu_seconds(), postgres_cpu()
    out = loadgen(
        server,
        workdir,
        mode="closed",
        concurrency=kw.pop("concurrency", p.concurrency),
        duration=kw.pop("duration", p.closed),
        warmup=p.warmup,
        requests=requests,
        **kw,
    )
    cpu1, db1 = server.cpu_seconds(), postgres_cpu()
    n = len(out["rows"])
    window = out["info"]["window"]
    consumed = out["info"]["consumed"]
    return {
        "throughput": round(n / window, 1) if window > 0 else None,
        # App CPU per request over the whole pass (warm-up included), from /proc/PID/stat.
        "app_cpu_ms_per_request": round((cpu1 - cpu0) * 1000 / consumed, 2)
        if cpu0 is not None and cpu1 is not None and consumed
        else None,
        # PostgreSQL's own CPU per request (all its processes), on the same cores.
        "postgres_cpu_ms_per_request": round((db1 - db0) * 1000 / consumed, 2)
        if on_postgres and consumed
        else None,
        "requests": n,
        "window_s": round(window, 2),
        "concurrency": p.concurrency,
        "statuses": statuses(out["rows"]),
        "errors": out["errors"],
        "exhausted": out["info"]["exhausted"],
        "consumed": out["info"]["consumed"],
        "latency_ms": summary_ms(latencies(out["rows"])),
    }


def open_loop(
    server: Server, workdir: Path, rate: float, requests: list[Any], *, duration: float, **kw: Any
) -> tuple[dict[str, Any], list[list[Any]]]:
    count = min(int(rate * duration), kw.pop("limit", 10**9))
    out = loadgen(
        server,
        workdir,
        mode="open",
        rate=rate,
        count=count,
        duration=duration,
        requests=requests,
        connections=kw.pop("connections", 16),
        **kw,
    )
    rows = out["rows"]
    done = [r for r in rows]
    span = (max(r[3] for r in done) - min(r[1] for r in done)) if done else 0
    return (
        {
            "rate": round(rate, 1),
            "requests": len(rows),
            "achieved_rate": round(len(rows) / span, 1) if span else None,
            "statuses": statuses(rows),
            "errors": out["errors"],
            "latency_ms": summary_ms(latencies(rows)),
            "connections_opened": out["info"].get("connections_opened"),
            "peak_in_flight": out["info"].get("peak_in_flight"),
        },
        rows,
    )


# ---------------------------------------------------------------------------------------------
# Profiling (py-spy, sampling the app process from outside)


class Profiler:
    def __init__(self, server: Server, workdir: Path, name: str) -> None:
        self.server = server
        self.path = workdir / f"profile-{name}.txt"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(spy).exists():
            return self
        self.proc = subprocess.Popen(
            pinned(
                [
                    spy,
                    "record",
                    "--pid",
                    str(self.server.app_pid),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(self.path),
                    "--nonblocking",
                ],
                CLIENT_CORE,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def summary(self) -> dict[str, Any] | None:
        """Where the app's CPU time went: self time by package, and the busiest functions."""
        if not self.path.exists():
            return None
        by_package: Counter[str] = Counter()
        by_function: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        total = 0
        for line in self.path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            leaf = frames[-1]
            if (
                "(idle)" in stack
                or leaf.startswith(("select ", "poll ", "epoll"))
                or ("run_once" in leaf and "base_events" in leaf)
            ):
                continue
            total += n
            by_package[_package(leaf)] += n
            by_function[_short(leaf)] += n
            for f in {_short(f) for f in frames if _where(f).startswith(("booking/", "billing/"))}:
                inclusive[f] += n
        if not total:
            return None

        def pct(c: Counter[str], k: int) -> list[tuple[str, float]]:
            return [(name, round(100 * v / total, 1)) for name, v in c.most_common(k)]

        return {
            "samples": total,
            "self_by_package_pct": pct(by_package, 12),
            "self_top_functions_pct": pct(by_function, 15),
            "booking_inclusive_pct": pct(inclusive, 15),
        }


STDLIB = {
    "asyncio",
    "json",
    "logging",
    "selectors",
    "contextlib",
    "functools",
    "typing",
    "re",
    "datetime",
    "zoneinfo",
    "inspect",
    "enum",
    "dataclasses",
    "abc",
    "collections",
    "threading",
    "socket",
    "ssl",
    "email",
    "http",
    "urllib",
    "weakref",
    "copy",
    "uuid",
}


def _where(frame: str) -> str:
    # py-spy raw frames look like "function (package/module.py:123)".
    return frame.partition(" (")[2].rstrip(")").rsplit(":", 1)[0]


def _short(frame: str) -> str:
    return f"{frame.partition(' (')[0]} ({_where(frame)})"


def _package(frame: str) -> str:
    if frame.startswith("Runner.run (asyncio/runners.py"):
        return "event loop (uvloop, C)"
    where = _where(frame)
    if "site-packages/" in where:
        where = where.split("site-packages/", 1)[1]
    top = where.split("/", 1)[0].removesuffix(".py")
    if top in STDLIB or where.startswith("<"):
        return f"stdlib ({top})"
    return top or frame


# ---------------------------------------------------------------------------------------------
# Database checks (read straight from the database, not through the app)


def db_rows(target: data.Target, sql: str) -> list[tuple[Any, ...]]:
    if target.backend == "postgresql":

        async def go() -> list[tuple[Any, ...]]:
            import asyncpg

            conn = await asyncpg.connect(target.dsn)
            try:
                return [tuple(r) for r in await conn.fetch(sql)]
            finally:
                await conn.close()

        return asyncio.run(go())
    with sqlite3.connect(target.name) as conn:
        return list(conn.execute(sql).fetchall())


# ---------------------------------------------------------------------------------------------
# Workloads


def server_env(target: data.Target) -> dict[str, str]:
    return {
        "BOOKING_DATABASE_URL": target.url,
        "BOOKING_SECRET_KEY": SECRET,
        "BOOKING_WORKER": "off",
    }


def workload_f(workdir: Path, p: Profile, kind: str) -> dict[str, Any]:
    quiet(f"F {kind}", p)
    log(f"F: bare framework (a constant from a minimal Litestar app) under {kind}")
    server = Server(
        "bench.bare_app:app_factory",
        env={},
        workdir=workdir,
        name="bare",
        health_path="/constant",
        kind=kind,
    )
    with server:
        req = [["F", "GET", "/constant", {}, None]]
        peak = closed_loop(server, workdir, p, req, cycle=True)
        lat, _ = open_loop(
            server, workdir, peak["throughput"] * p.load_fraction, req, duration=p.open, cycle=True
        )
        mem = server.memory()
    return {"closed": peak, "open": lat, "memory_mb": mem}


def workload_h(server: Server, workdir: Path, p: Profile) -> dict[str, Any]:
    quiet("H", p)
    log("H: GET /health (framework + a pooled connection + SELECT 1)")
    return {
        "closed": closed_loop(
            server,
            workdir,
            p,
            [["H", "GET", "/health", {}, None]],
            cycle=True,
            duration=p.closed / 2,
        )
    }


def workload_a(target: data.Target, ops: data.OpsData, workdir: Path, p: Profile) -> dict:
    quiet(f"A {target.backend}", p)
    log("A: bare driver (the booking transaction's SQL, one process, no HTTP)")
    pg = target.backend == "postgresql"
    spec = {
        "backend": target.backend,
        "dsn": target.dsn if pg else None,
        "path": target.name if not pg else None,
        "pairs": ops.a_pairs,
        "concurrency": 10 if pg else 1,  # the app's pool size; SQLite has one writer at a time
        "duration": p.driver,
        "warmup": p.warmup,
    }
    db0 = postgres_cpu()
    out = run_module("bench.driver", spec, workdir, SERVER_CORE)
    db1 = postgres_cpu()
    n = len(out["rows"])
    return {
        "throughput": round(n / out["window"], 1) if out["window"] > 0 else None,
        "transactions": n,
        "connections": spec["concurrency"],
        "failed": out["failed"],
        "exhausted": n + 0 >= len(ops.a_pairs),
        "latency_ms": summary_ms([b - a for a, b in out["rows"]]),
        # PostgreSQL's CPU per transaction, counted over the driver's whole run (warm-up too).
        "postgres_cpu_ms_per_request": round((db1 - db0) * 1000 / out["attempted"], 2)
        if pg and out.get("attempted")
        else None,
    }


def _book(token: str, session_id: int) -> list[Any]:
    return [
        "book",
        "POST",
        f"/api/v1/sessions/{session_id}/bookings",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        "{}",
    ]


def _cancel(token: str, booking_id: int) -> list[Any]:
    return [
        "cancel",
        "POST",
        f"/api/v1/bookings/{booking_id}/cancel",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        '{"reason": "Work commitments"}',
    ]


def workload_b(
    server: Server, target: data.Target, ops: data.OpsData, workdir: Path, p: Profile
) -> dict[str, Any]:
    quiet(f"B {target.backend} {server.kind}", p)
    log(f"B: uncontended bookings through HTTP under {server.kind} (closed loop for the peak)")
    reqs = [_book(tok, sid) for tok, sid in ops.b_requests]
    peak = closed_loop(server, workdir, p, reqs, postgres=target.backend == "postgresql")
    used = peak["consumed"]
    profile = None
    if p.profile:
        log("B: profiling the app under the same load (py-spy; not counted)")
        with Profiler(server, workdir, f"B-{target.backend}-{server.kind}") as prof:
            extra = closed_loop(server, workdir, p, reqs[used:], duration=p.closed / 2)
        used += extra["consumed"]
        profile = prof.summary()
    rate = peak["throughput"] * p.load_fraction
    log(f"B: open loop at {rate:.0f}/s for latency")
    lat, _ = open_loop(server, workdir, rate, reqs[used:], duration=p.open)
    used += lat["requests"]
    booked = db_rows(
        target,
        "SELECT count(*) FROM bookings b JOIN people p ON p.id = b.learner_id"
        " WHERE p.email LIKE 'b%' AND b.state = 'booked'",
    )[0][0]
    return {
        "closed": peak,
        "open": lat,
        "profile": profile,
        "learners_available": len(reqs),
        "requests_sent": used,
        "booked_in_db": booked,
    }


def workload_r(
    server: Server, target: data.Target, ops: data.OpsData, workdir: Path, p: Profile
) -> dict[str, Any]:
    quiet(f"R {target.backend}", p)
    log(f"R: rush, {p.rush_clients} clients at 50 seats, {p.rush_repeats} times")
    groups = [[_book(tok, sid) for tok in ops.rush_tokens] for sid in ops.rush_sessions]
    out = loadgen(
        server, workdir, mode="rush", groups=groups, keep_body=True, settle=0.3, pause=0.5
    )
    runs = []
    all_lat: list[float] = []
    for rel in out["info"]["releases"]:
        sid = ops.rush_sessions[rel["group"]]
        rows = [r for r in out["rows"] if r[1] == rel["released"]]
        booked_at = []
        states: Counter[str] = Counter()
        for r in rows:
            try:
                state = json.loads(r[8]).get("state", f"http {r[4]}")
            except (ValueError, AttributeError):
                state = f"http {r[4]}"
            states[state] += 1
            if state == "booked":
                booked_at.append(r[3] - rel["released"])
        lat = latencies(rows)
        all_lat += lat
        db = db_rows(
            target,
            f"SELECT (SELECT count(*) FROM bookings WHERE session_id = {sid} AND state = 'booked'),"
            f" (SELECT seats_held FROM sessions WHERE id = {sid}),"
            f" (SELECT count(*) FROM bookings WHERE session_id = {sid} AND state = 'waitlisted'),"
            f" (SELECT count(DISTINCT waitlist_seq) FROM bookings WHERE session_id = {sid}"
            "   AND state = 'waitlisted'),"
            f" (SELECT max(waitlist_seq) FROM bookings WHERE session_id = {sid})",
        )[0]
        booked, held, waiting, distinct_seq, max_seq = db
        runs.append(
            {
                "session": sid,
                "answers": len(rows),
                "states": dict(states),
                "booked_in_db": booked,
                "seats_held": held,
                "waitlisted_in_db": waiting,
                "waitlist_positions_distinct": distinct_seq == waiting
                and (max_seq or 0) == waiting,
                "exact": booked == 50 and held == 50 and states.get("booked", 0) == 50,
                "sell_out_ms": round(sorted(booked_at)[49] * 1000, 1)
                if len(booked_at) >= 50
                else None,
                "all_answered_ms": round(max(lat) * 1000, 1) if lat else None,
                "latency_ms": summary_ms(lat),
            }
        )
    sell = [r["sell_out_ms"] for r in runs if r["sell_out_ms"] is not None]
    return {
        "clients": p.rush_clients,
        "seats": 50,
        "repeats": len(runs),
        "exact_runs": sum(r["exact"] for r in runs),
        "all_exact": all(r["exact"] for r in runs) and len(runs) == p.rush_repeats,
        "sell_out_ms": {
            "p50": percentile(sell, 50),
            "max": max(sell) if sell else None,
            "min": min(sell) if sell else None,
        },
        "all_answered_ms_p50": percentile([r["all_answered_ms"] for r in runs], 50),
        "latency_ms": summary_ms(all_lat),
        "errors": out["errors"],
        "runs": runs,
    }


def workload_c(
    server: Server,
    target: data.Target,
    ops: data.OpsData,
    workdir: Path,
    p: Profile,
    rate: float,
) -> dict[str, Any]:
    quiet(f"C {target.backend}", p)
    log(f"C: churn, cancellations with promotion mixed with new bookings, at {rate:.0f}/s")
    rng = random.Random(7)
    cancels = list(ops.churn_booked)
    rng.shuffle(cancels)
    fresh = list(ops.churn_new)
    count = min(int(rate * p.churn), 2 * min(len(cancels), len(fresh)))
    reqs = []
    for i in range(count):
        if i % 2 == 0:
            tok, bid, _ = cancels[i // 2]
            reqs.append(_cancel(tok, bid))
        else:
            reqs.append(_book(fresh[i // 2], rng.choice(ops.churn_sessions)))
    cpu0 = server.cpu_seconds()
    lat, rows = open_loop(server, workdir, rate, reqs, duration=p.churn)
    cpu1 = server.cpu_seconds()
    ids = ",".join(str(s) for s in ops.churn_sessions)
    broken = db_rows(
        target,
        "SELECT s.id, s.seats_held, s.capacity,"
        " (SELECT count(*) FROM bookings b WHERE b.session_id = s.id"
        "   AND b.state IN ('booked', 'offered', 'pending_payment')) AS holding,"
        " (SELECT count(*) FROM bookings b WHERE b.session_id = s.id AND b.state = 'waitlisted')"
        f" FROM sessions s WHERE s.id IN ({ids})",
    )
    bad = [r for r in broken if r[1] != r[3] or r[1] > r[2] or (r[4] > 0 and r[1] < r[2])]
    promoted = db_rows(
        target,
        "SELECT count(*) FROM booking_history h JOIN bookings b ON b.id = h.booking_id"
        f" WHERE b.session_id IN ({ids}) AND h.from_state = 'waitlisted' AND h.to_state = 'booked'",
    )[0][0]
    return {
        "open": lat,
        "cancel_latency_ms": summary_ms(latencies(rows, "cancel")),
        "book_latency_ms": summary_ms(latencies(rows, "book")),
        "cancel_statuses": statuses(rows, "cancel"),
        "book_statuses": statuses(rows, "book"),
        "promotions_in_db": promoted,
        "app_cpu_ms_per_request": round((cpu1 - cpu0) * 1000 / len(rows), 2)
        if cpu0 is not None and cpu1 is not None and rows
        else None,
        "sessions_checked": len(broken),
        "sessions_inconsistent": len(bad),
        "consistent": not bad,
    }


# ---------------------------------------------------------------------------------------------
# Pages at organisation scale


PAGES = ("search", "course", "my_bookings", "roster", "record")


PASSWORD = "Bench-password-2026"


def prepare_sign_in(target: data.Target, org: data.OrgData) -> str:
    """How people sign in to this version of the app: with a password (local accounts, set
    through the app's own service) where it has them, else with an API token."""
    try:
        from booking.people import auth
    except ImportError:
        return "token"
    if not hasattr(auth, "set_password"):
        return "token"
    from booking.clock import SystemClock
    from booking.config import Settings
    from booking.db import Database

    async def go() -> None:
        db = Database(Settings(database_url=target.url, secret_key=SECRET, worker="off"))
        try:
            for person_id in [*org.learner_ids, org.trainer_id]:
                await auth.set_password(db, SystemClock(), person_id, PASSWORD)
        finally:
            await db.dispose()

    asyncio.run(go())
    return "password"


def sign_in(server: Server, how: str, token: str, email: str) -> str:
    """Sign in through the page a person uses; returns the Cookie header to send."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        c.get("/login")
        csrf = c.cookies.get("csrftoken") or ""
        form = {"email": email, "password": PASSWORD} if how == "password" else {"token": token}
        r = c.post(
            "/login",
            data={**form, "next": "/courses", "_csrf_token": csrf},
            headers={"x-csrftoken": csrf},
        )
        if r.status_code != 303:
            raise RuntimeError(f"sign-in failed: {r.status_code} {r.text[:300]}")
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


def page_requests(server: Server, org: data.OrgData, how: str) -> dict[str, list[list[Any]]]:
    learners = [
        sign_in(server, how, t, e)
        for t, e in zip(org.learner_tokens, org.learner_emails, strict=True)
    ]
    trainer = sign_in(server, how, org.trainer_token, org.trainer_email)
    reqs: dict[str, list[list[Any]]] = {p: [] for p in PAGES}
    for i, course_id in enumerate(org.course_ids):
        h = {"Cookie": learners[i % len(learners)]}
        word = data.SEARCH_WORDS[i % len(data.SEARCH_WORDS)]
        reqs["search"].append(["search", "GET", f"/courses?q={word}", h, None])
        reqs["course"].append(["course", "GET", f"/courses/{course_id}", h, None])
    for cookie in learners:
        h = {"Cookie": cookie}
        reqs["my_bookings"].append(["my_bookings", "GET", "/me/bookings", h, None])
        reqs["record"].append(["record", "GET", "/me/record", h, None])
    for sid in org.roster_sessions:
        reqs["roster"].append(
            ["roster", "GET", f"/sessions/{sid}/roster", {"Cookie": trainer}, None]
        )
    return reqs


def trace(server: Server, req: list[Any]) -> tuple[int, int, int]:
    """One request with the SQL trace on: status, queries, bytes."""
    _, method, path, headers, body = req
    r = httpx.request(
        method,
        server.url + path,
        headers={**headers, "x-bench-trace": "1"},
        content=body,
        timeout=60,
    )
    return r.status_code, int(r.headers.get("x-bench-queries", -1)), len(r.content)


def workload_p(
    target: data.Target, size: str, scale: data.OrgScale, workdir: Path, p: Profile
) -> dict[str, Any]:
    log(f"P[{size}]: generating the organisation ({scale.label()})")
    t0 = time.monotonic()
    asyncio.run(data.recreate(target))
    data.migrate(target, workdir)
    org = asyncio.run(data.seed_org(target, scale))
    org.keep_learners(p.signed_in)
    how = prepare_sign_in(target, org)
    generated = time.monotonic() - t0
    log(f"P[{size}]: generated in {generated:.0f}s {org.counts}; measuring pages")
    sql_log = workdir / f"sql-{target.backend}-{size}.jsonl"
    sql_log.unlink(missing_ok=True)
    env = {**server_env(target), "BENCH_SQL_LOG": str(sql_log)}
    server = Server(
        "bench.instrumented:app_factory",
        env=env,
        workdir=workdir,
        name=f"pages-{target.backend}",
        kind=SERVERS[0],
    )
    pages: dict[str, Any] = {}
    with server:
        reqs = page_requests(server, org, how)
        for name in PAGES:
            # Warm up (every learner's first visit to "my bookings" writes their calendar token),
            # trace one request's SQL, then measure.
            status, traced_queries, size_bytes = trace(server, reqs[name][0])
            if status == 404:
                pages[name] = {"status": 404, "not_built": True}
                continue
            for req in reqs[name] if name == "my_bookings" else reqs[name][:4]:
                httpx.request(req[1], server.url + req[2], headers=req[3], timeout=60)
            quiet(f"P {target.backend} {size} {name}", p)
            # Service time, one at a time, sets the pace: open loop at half of what one core
            # could serve, so the figures are service times, not queueing.
            calib = loadgen(
                server,
                workdir,
                mode="closed",
                concurrency=1,
                duration=0.5,
                warmup=0,
                requests=reqs[name],
                cycle=True,
            )
            mean_s = sum(latencies(calib["rows"])) / max(1, len(calib["rows"]))
            rate = min(50.0, 0.5 / mean_s) if mean_s > 0 else 50.0
            duration = min(p.page_seconds, p.page_requests / rate)
            summary, rows = open_loop(
                server, workdir, rate, reqs[name], duration=duration, cycle=True
            )
            server_ms = [r[6] / 1e6 for r in rows if r[6] is not None]
            gc_ms = [r[7] / 1e6 for r in rows if r[7] is not None]
            seen_q = [r[5] for r in rows if r[5] is not None]
            pages[name] = {
                "status": status,
                "bytes": size_bytes,
                "rate": summary["rate"],
                "requests": summary["requests"],
                "statuses": summary["statuses"],
                "server_ms": summary_ms(server_ms),
                "client_ms": summary["latency_ms"],
                "gc_ms": summary_ms(gc_ms),
                "requests_with_gc": sum(1 for g in gc_ms if g > 0),
                "queries": [min(seen_q), max(seen_q)] if seen_q else None,
                "queries_by_count": dict(Counter(str(q) for q in seen_q)),
                "queries_traced": traced_queries,
            }
        profile = None
        if p.profile and size == "large":
            log(f"P[{size}]: profiling the catalogue search (py-spy; not counted)")
            with Profiler(server, workdir, f"P-search-{target.backend}") as prof:
                loadgen(
                    server,
                    workdir,
                    mode="closed",
                    concurrency=2,
                    duration=4,
                    warmup=0,
                    requests=reqs["search"],
                    cycle=True,
                )
            profile = prof.summary()
        probes = probe_writes(server, target, org)
        mem = server.memory()
    statements = {}
    if sql_log.exists():
        for line in sql_log.read_text().splitlines():
            entry = json.loads(line)
            statements[
                entry["path"] + ("?" + entry["query_string"] if entry["query_string"] else "")
            ] = entry["statements"]
    return {
        "scale": asdict(scale),
        "label": scale.label(),
        "counts": org.counts,
        "generated_s": round(generated, 1),
        "sign_in": how,
        "my_bookings_per_learner": {
            "mean": round(sum(org.learner_booking_counts) / len(org.learner_booking_counts), 1),
            "max": max(org.learner_booking_counts),
        },
        "upcoming_sessions_per_course": round(org.sessions_per_course_upcoming, 1),
        "pages": pages,
        "writes": probes,
        "profile_search": profile,
        "memory_mb": mem,
        "statements": statements,
    }


def probe_writes(server: Server, target: data.Target, org: data.OrgData) -> dict[str, Any]:
    """Queries per booking and per cancellation (with a promotion), on this data set."""
    out: dict[str, Any] = {}
    token = org.learner_tokens[0]
    candidates = db_rows(
        target,
        "SELECT s.id FROM sessions s JOIN courses c ON c.id = s.course_id"
        " WHERE s.seats_held < s.capacity AND s.status = 'open' AND c.price_amount IS NULL"
        " ORDER BY s.starts_at DESC LIMIT 30",
    )
    for (sid,) in candidates:
        r = httpx.post(
            f"{server.url}/api/v1/sessions/{sid}/bookings",
            json={},
            headers={"Authorization": f"Bearer {token}", "x-bench-trace": "1"},
            timeout=60,
        )
        if r.status_code == 201 and r.json().get("state") == "booked":
            out["book"] = int(r.headers["x-bench-queries"])
            out["book_server_ms"] = int(r.headers["x-bench-server-us"]) / 1000
            c = httpx.post(
                f"{server.url}/api/v1/bookings/{r.json()['id']}/cancel",
                json={"reason": "Work commitments"},
                headers={"Authorization": f"Bearer {token}", "x-bench-trace": "1"},
                timeout=60,
            )
            out["cancel_no_waitlist"] = int(c.headers.get("x-bench-queries", -1))
            break
    # The trainer cancels a booked place on one of their full rosters: one promotion follows.
    sid = org.roster_sessions[-1]
    (bid,) = db_rows(
        target, f"SELECT min(id) FROM bookings WHERE session_id = {sid} AND state = 'booked'"
    )[0]
    c = httpx.post(
        f"{server.url}/api/v1/bookings/{bid}/cancel",
        json={"reason": "Work commitments"},
        headers={"Authorization": f"Bearer {org.trainer_token}", "x-bench-trace": "1"},
        timeout=60,
    )
    out["cancel_with_promotion"] = int(c.headers.get("x-bench-queries", -1))
    out["cancel_with_promotion_status"] = c.status_code
    return out


# ---------------------------------------------------------------------------------------------
# One backend: the operations workloads on one server, then the pages at two sizes


def ops_plan(p: Profile) -> data.OpsPlan:
    return data.OpsPlan(
        a_learners=p.a_learners,
        b_learners=p.b_learners,
        rush_clients=p.rush_clients,
        rush_repeats=p.rush_repeats,
        churn_sessions=p.churn_sessions,
        bulk_sessions=600,
        bulk_capacity=100,
    )


def run_backend(backend: str, workdir: Path, p: Profile, only: set[str]) -> dict[str, Any]:
    def target(kind: str) -> data.Target:
        if backend == "postgresql":
            return data.Target(backend, PG_NAMES[kind])
        return data.Target(backend, str(workdir / f"{kind}.db"))

    primary, *others = SERVERS
    result: dict[str, Any] = {"server": primary}
    # F needs no database; it is measured again for each column, just before that column's
    # other workloads, so each column's ratios come from measurements close in time. With
    # `--server both`, F and B are also measured under the other server, each right after the
    # first server's (`servers` in the JSON).
    result["F"] = workload_f(workdir, p, primary) if "F" in only else {}
    extra: dict[str, dict[str, Any]] = {kind: {"F": {}, "B": {}} for kind in others}
    if "F" in only:
        for kind in others:
            extra[kind]["F"] = workload_f(workdir, p, kind)
    if only & {"A", "H", "B", "R", "C"}:
        ops_target = target("ops")
        log(f"[{backend}] preparing the operations database")
        asyncio.run(data.recreate(ops_target))
        data.migrate(ops_target, workdir)
        ops = asyncio.run(data.seed_ops(ops_target, ops_plan(p)))
        result["ops_counts"] = ops.counts
        server = Server(
            "booking.cli:app_factory",
            env=server_env(ops_target),
            workdir=workdir,
            name=backend,
            kind=primary,
        )
        with server:
            mem: dict[str, Any] = {"start": server.memory().get("VmHWM")}
            result["memory_peak_after_mb"] = mem
            if "H" in only:
                result["H"] = workload_h(server, workdir, p)
                mem["H"] = server.memory().get("VmHWM")
            if "A" in only:
                result["A"] = workload_a(ops_target, ops, workdir, p)
            b_peak = None
            if "B" in only:
                result["B"] = workload_b(server, ops_target, ops, workdir, p)
                b_peak = result["B"]["closed"]["throughput"]
                mem["B"] = server.memory().get("VmHWM")
            if "R" in only:
                cpu0 = server.cpu_seconds()
                result["R"] = workload_r(server, ops_target, ops, workdir, p)
                cpu1 = server.cpu_seconds()
                if cpu0 is not None and cpu1 is not None:
                    result["R"]["app_cpu_s"] = round(cpu1 - cpu0, 1)
                    answers = sum(r["answers"] for r in result["R"]["runs"])
                    result["R"]["app_cpu_ms_per_request"] = (
                        round((cpu1 - cpu0) * 1000 / answers, 2) if answers else None
                    )
                mem["R"] = server.memory().get("VmHWM")
            if "C" in only:
                rate = (b_peak or 100) * p.load_fraction
                result["C"] = workload_c(server, ops_target, ops, workdir, p, rate)
                mem["C"] = server.memory().get("VmHWM")
            result["memory_mb"] = server.memory()
        if "B" in only:
            for kind in others:
                extra[kind].update(workload_b_under(kind, ops_target, workdir, p))
        if not KEEP:
            asyncio.run(data.drop(ops_target))
    if "P" in only:
        full = data.OrgScale.full()
        result["P"] = {}
        for size, factor in zip(("small", "large"), p.scales, strict=True):
            t = target(size)
            result["P"][size] = workload_p(t, size, full.times(factor), workdir, p)
            if not KEEP:
                asyncio.run(data.drop(t))
    result["ratios"] = ratios(result, result["F"])
    if extra:
        result["servers"] = {
            kind: {**r, "ratios": server_ratios(r, result)} for kind, r in extra.items()
        }
    return result


def workload_b_under(
    kind: str, ops_target: data.Target, workdir: Path, p: Profile
) -> dict[str, Any]:
    """B under another server, on an operations database seeded afresh (B's learners have
    booked by now), so both servers start from the same data."""
    log(f"[{ops_target.backend}] preparing the operations database again for B under {kind}")
    asyncio.run(data.recreate(ops_target))
    data.migrate(ops_target, workdir)
    ops = asyncio.run(data.seed_ops(ops_target, ops_plan(p)))
    server = Server(
        "booking.cli:app_factory",
        env=server_env(ops_target),
        workdir=workdir,
        name=ops_target.backend,
        kind=kind,
    )
    with server:
        b = workload_b(server, ops_target, ops, workdir, p)
        return {"B": b, "memory_mb": server.memory()}


def server_ratios(other: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
    """B/F under the other server, and the other server's figures over the first one's."""

    def fig(r: dict[str, Any], w: str, *path: str) -> Any:
        v: Any = r.get(w, {})
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        return v

    out: dict[str, Any] = {
        "B/F": ratio(
            fig(other, "B", "closed", "throughput"), fig(other, "F", "closed", "throughput"), 3
        )
    }
    for w in ("F", "B"):
        out[f"{w} peak"] = ratio(
            fig(other, w, "closed", "throughput"), fig(first, w, "closed", "throughput"), 3
        )
        out[f"{w} app CPU"] = ratio(
            fig(other, w, "closed", "app_cpu_ms_per_request"),
            fig(first, w, "closed", "app_cpu_ms_per_request"),
            3,
        )
        for q in ("p50", "p95", "p99"):
            out[f"{w} {q}"] = ratio(
                fig(other, w, "open", "latency_ms", q), fig(first, w, "open", "latency_ms", q), 3
            )
    return out


def ratios(r: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
    b = r.get("B", {}).get("closed", {}).get("throughput")
    out: dict[str, Any] = {
        "B/F": ratio(b, f.get("closed", {}).get("throughput"), 3),
        "B/A": ratio(b, r.get("A", {}).get("throughput"), 3),
        "B/H": ratio(b, r.get("H", {}).get("closed", {}).get("throughput"), 3),
    }
    pages = r.get("P", {})
    if "small" in pages and "large" in pages:
        for name in PAGES:
            s, l_ = pages["small"]["pages"].get(name), pages["large"]["pages"].get(name)
            if s and l_ and "server_ms" in s and "server_ms" in l_:
                out[f"P {name} p95 large/small"] = ratio(
                    l_["server_ms"]["p95"], s["server_ms"]["p95"]
                )
                out[f"P {name} queries small→large"] = (
                    f"{qrange(s['queries'])} → {qrange(l_['queries'])}"
                )
    return out


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass

    def version(mod: str) -> str | None:
        try:
            from importlib.metadata import version as v

            return v(mod)
        except Exception:  # noqa: BLE001
            return None

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    pg_version = None
    with contextlib.suppress(Exception):
        pg_version = db_rows(data.Target("postgresql", "postgres"), "SHOW server_version")[0][0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "sqlite": sqlite3.sqlite_version,
        "packages": {
            m: version(m)
            for m in (
                "litestar",
                "sqlalchemy",
                "uvicorn",
                "granian",
                "uvloop",
                "httptools",
                "asyncpg",
                "aiosqlite",
            )
        },
        "taskset": bool(shutil.which("taskset")),
        "servers": SERVERS,
        "server_core": SERVER_CORE,
        "client_core": CLIENT_CORE,
        "commit": os.environ.get("BENCH_SOURCE_COMMIT") or git("rev-parse", "--short", "HEAD"),
        "source": os.environ.get("BENCH_SOURCE_LABEL") or "working tree",
        "uncommitted_app_changes": bool(
            git("status", "--porcelain", "--", "booking", "billing", "alembic", "templates")
        )
        if not os.environ.get("BENCH_SOURCE_LABEL")
        else False,
    }


def qrange(q: Any) -> str:
    if not q:
        return "?"
    return str(q[0]) if q[0] == q[1] else f"{q[0]}–{q[1]}"


def fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and abs(v) < 0.1:
        v = f"{v:.3f}"
    elif isinstance(v, float):
        v = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def verdict(key: str, v: float | None) -> str:
    if v is None or key not in TARGETS:
        return ""
    target, ok = TARGETS[key]
    return f"{'meets' if ok(v) else 'MISSES'} {target}"


def server_rows(add: Any, get: Any, backends: list[str]) -> None:
    """F and B under the other servers (`--server both`), and their ratios to the first."""
    kinds = sorted({k for b in backends for k in (get(b, "servers") or {})})
    for k in kinds:
        add(
            f"F ({k})  peak req/s",
            [get(b, "servers", k, "F", "closed", "throughput") for b in backends],
        )
        add(
            f"F ({k})  latency p50 / p99 at half load, ms",
            [
                " / ".join(
                    fmt(get(b, "servers", k, "F", "open", "latency_ms", q)) for q in ("p50", "p99")
                )
                for b in backends
            ],
        )
        add(
            f"B ({k})  peak req/s",
            [get(b, "servers", k, "B", "closed", "throughput") for b in backends],
        )
        add(
            f"B ({k})  latency p50 / p95 / p99 at half load, ms",
            [
                " / ".join(
                    fmt(get(b, "servers", k, "B", "open", "latency_ms", q))
                    for q in ("p50", "p95", "p99")
                )
                for b in backends
            ],
        )
        add(
            f"App CPU per request F / B ({k}), ms",
            [
                " / ".join(
                    fmt(get(b, "servers", k, w, "closed", "app_cpu_ms_per_request")) for w in "FB"
                )
                for b in backends
            ],
        )
        add(f"B/F ({k})", [get(b, "servers", k, "ratios", "B/F") for b in backends], key="B/F")
        first = get(backends[0], "server") or "uvicorn"
        for w in "FB":
            add(
                f"{w}  {k}/{first}: peak, CPU/req, p50, p99",
                [
                    ", ".join(
                        fmt(get(b, "servers", k, "ratios", f"{w} {m}"))
                        for m in ("peak", "app CPU", "p50", "p99")
                    )
                    for b in backends
                ],
            )


def table(results: dict[str, Any]) -> str:
    backends = list(results["backends"])
    rows: list[tuple[str, list[str], str]] = []

    def get(b: str, *path: Any) -> Any:
        v: Any = results["backends"][b]
        for k in path:
            if not isinstance(v, dict) or k not in v:
                return None
            v = v[k]
        return v

    def add(label: str, values: list[Any], unit: str = "", key: str = "") -> None:
        verdicts = {verdict(key, v) for v in values if isinstance(v, int | float)} - {""}
        rows.append((label, [fmt(v, unit) for v in values], " / ".join(sorted(verdicts))))

    add("F  bare framework, peak req/s", [get(b, "F", "closed", "throughput") for b in backends])
    add(
        "F  latency p50 / p99 at half load, ms",
        [
            "{} / {}".format(*(fmt(get(b, "F", "open", "latency_ms", k)) for k in ("p50", "p99")))
            for b in backends
        ],
    )
    add("H  GET /health, peak req/s", [get(b, "H", "closed", "throughput") for b in backends])
    add("A  bare driver, booking tx/s", [get(b, "A", "throughput") for b in backends])
    add("B  booking via HTTP, peak req/s", [get(b, "B", "closed", "throughput") for b in backends])
    add(
        "B  latency p50 / p95 / p99 at half load, ms",
        [
            "{} / {} / {}".format(
                *(fmt(get(b, "B", "open", "latency_ms", k)) for k in ("p50", "p95", "p99"))
            )
            for b in backends
        ],
    )
    add(
        "App CPU per request F / H / B, ms",
        [
            " / ".join(fmt(get(b, w, "closed", "app_cpu_ms_per_request")) for w in ("F", "H", "B"))
            for b in backends
        ],
    )
    add(
        "PostgreSQL's own CPU per request A / B, ms",
        [
            " / ".join(
                fmt(v)
                for v in (
                    get(b, "A", "postgres_cpu_ms_per_request"),
                    get(b, "B", "closed", "postgres_cpu_ms_per_request"),
                )
            )
            if b == "postgresql"
            else None
            for b in backends
        ],
    )
    add("B/F", [get(b, "ratios", "B/F") for b in backends], key="B/F")
    server_rows(add, get, backends)
    add("B/A", [get(b, "ratios", "B/A") for b in backends], key="B/A")
    add(
        "R  exact 50 booked, runs",
        [
            f"{get(b, 'R', 'exact_runs')}/{get(b, 'R', 'repeats')}" if get(b, "R") else None
            for b in backends
        ],
    )
    add(
        "R  sell-out, median run, ms",
        [get(b, "R", "sell_out_ms", "p50") for b in backends],
        key="R sell-out",
    )
    add(
        "R  sell-out, worst run, ms",
        [get(b, "R", "sell_out_ms", "max") for b in backends],
        key="R sell-out",
    )
    add(
        "R  latency p50 / p95 / p99 (all clients), ms",
        [
            "{} / {} / {}".format(
                *(fmt(get(b, "R", "latency_ms", k)) for k in ("p50", "p95", "p99"))
            )
            for b in backends
        ],
    )
    add("R  p99, ms", [get(b, "R", "latency_ms", "p99") for b in backends], key="R p99")
    add("C  churn rate (req/s)", [get(b, "C", "open", "achieved_rate") for b in backends])
    add(
        "C  cancel+promote p50 / p95, ms",
        [
            "{} / {}".format(*(fmt(get(b, "C", "cancel_latency_ms", k)) for k in ("p50", "p95")))
            for b in backends
        ],
    )
    add(
        "C  seats consistent, promotions",
        [
            f"{'yes' if get(b, 'C', 'consistent') else 'NO'}, {get(b, 'C', 'promotions_in_db')}"
            if get(b, "C")
            else None
            for b in backends
        ],
    )
    for size in ("small", "large"):
        label = next(
            (get(b, "P", size, "label") for b in backends if get(b, "P", size, "label")), size
        )
        rows.append((f"P  {size}: {label}", ["" for _ in backends], ""))
        for name in PAGES:
            add(
                f"P  {name}: server p50 / p95 ms, queries",
                [
                    "{} / {}, {}q".format(
                        fmt(get(b, "P", size, "pages", name, "server_ms", "p50")),
                        fmt(get(b, "P", size, "pages", name, "server_ms", "p95")),
                        qrange(get(b, "P", size, "pages", name, "queries")),
                    )
                    if get(b, "P", size, "pages", name, "server_ms")
                    else "not built"
                    if get(b, "P", size, "pages", name, "not_built")
                    else None
                    for b in backends
                ],
            )
            if size == "large":
                add(
                    f"P  {name}: p95 at large size, ms",
                    [get(b, "P", size, "pages", name, "server_ms", "p95") for b in backends],
                    key="P p95",
                )
        add(
            "P  queries: book / cancel / cancel+promote",
            [
                "{} / {} / {}".format(
                    get(b, "P", size, "writes", "book"),
                    get(b, "P", size, "writes", "cancel_no_waitlist"),
                    get(b, "P", size, "writes", "cancel_with_promotion"),
                )
                if get(b, "P", size, "writes")
                else None
                for b in backends
            ],
        )
    add(
        "Peak RSS, app process (ops / pages), MB",
        [
            "{} / {}".format(
                fmt(get(b, "memory_mb", "VmHWM")), fmt(get(b, "P", "large", "memory_mb", "VmHWM"))
            )
            for b in backends
        ],
    )
    add(
        "Peak RSS, max of the app processes, MB",
        [
            max(
                [
                    v
                    for v in (
                        get(b, "memory_mb", "VmHWM"),
                        get(b, "P", "small", "memory_mb", "VmHWM"),
                        get(b, "P", "large", "memory_mb", "VmHWM"),
                    )
                    if v is not None
                ]
                or [None]  # type: ignore[list-item]
            )
            if any(get(b, *k) for k in (("memory_mb",), ("P",)))
            else None
            for b in backends
        ],
        key="RSS",
    )
    width = max(len(r[0]) for r in rows) + 2
    cols = [max(len(b), *(len(r[1][i]) for r in rows)) + 2 for i, b in enumerate(backends)]
    lines = [
        "".ljust(width)
        + "".join(b.ljust(c) for b, c in zip(backends, cols, strict=True))
        + "target"
    ]
    lines.append("-" * (width + sum(cols) + 20))
    for label, values, v in rows:
        lines.append(
            label.ljust(width) + "".join(x.ljust(c) for x, c in zip(values, cols, strict=True)) + v
        )
    return "\n".join(lines)


KEEP = False
SERVERS: list[str] = ["uvicorn"]  # the first serves every workload; the others F and B too
BACKGROUND: list[dict[str, Any]] = []


def cpu_busy(seconds: float = 1.0) -> float:
    """Cores kept busy on the whole machine over the next `seconds` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        t0, i0 = sample()
        time.sleep(seconds)  # noqa: ASYNC251 - never called from a coroutine
        t1, i1 = sample()
    except OSError:
        return 0.0
    total = t1 - t0
    return round((total - (i1 - i0)) / total * (os.cpu_count() or 1), 2) if total else 0.0


_STAT: dict[str, Any] = {"label": None, "fields": None}


def _cpu_fields() -> list[int]:
    try:
        return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return []


def lost_time(label: str) -> None:
    """Record, for the measurement that just ended, the share of CPU time the hypervisor took
    (`steal`) and spent waiting for the disk (`iowait`): on a virtual machine a stall there
    shows as latency no process caused, which `quiet` cannot see beforehand."""
    now = _cpu_fields()
    before, previous = _STAT["fields"], _STAT["label"]
    _STAT.update(label=label, fields=now)
    if not before or not now or previous is None or len(now) < 8:
        return
    delta = [a - b for a, b in zip(now, before, strict=False)]
    total = sum(delta)
    if total:
        LOST.append(
            {
                "during": previous,
                "steal_pct": round(100 * delta[7] / total, 1),
                "iowait_pct": round(100 * delta[4] / total, 1),
            }
        )


LOST: list[dict[str, Any]] = []


def quiet(label: str, p: Profile, threshold: float = 0.3) -> None:
    """Before a measurement: wait (up to `p.quiet_wait`) until the machine is idle, so other work
    on it (someone's test suite) does not land in the figures; record what was seen."""
    lost_time(label)
    deadline = time.monotonic() + p.quiet_wait
    busy = cpu_busy(0.5)
    waited = 0.0
    while busy > threshold and time.monotonic() < deadline:
        if waited == 0:
            log(f"{label}: the machine is busy ({busy:.2f} cores in use); waiting for it to settle")
        time.sleep(2)
        waited += 3
        busy = cpu_busy()
    BACKGROUND.append({"before": label, "busy_cores": busy, "waited_s": waited})
    if busy > threshold:
        log(f"{label}: still {busy:.2f} cores busy with other work; measuring anyway (noted)")


def main(argv: list[str] | None = None) -> int:
    global KEEP, SERVERS
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the booking server: F, H, A, B, R, C and P workloads on"
        " PostgreSQL and SQLite. See bench/README.md.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        action="store_true",
        help="about three minutes: short windows, one rush, small data",
    )
    mode.add_argument(
        "--full",
        action="store_true",
        help="the issue's whole specification: 20 rushes of 1,000 clients and longer windows"
        " (about 30 minutes)",
    )
    parser.add_argument(
        "--backends", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite"
    )
    parser.add_argument(
        "--only", default="F,H,A,B,R,C,P", help="workloads to run (any of F,H,A,B,R,C,P)"
    )
    parser.add_argument(
        "--scales",
        default=None,
        help="the two organisation sizes as fractions of the full 100k people / 2k courses /"
        " 20k sessions / 500k bookings (default 0.1,1.0; --quick 0.01,0.05)",
    )
    parser.add_argument(
        "--full-scale",
        action="store_true",
        help="make the large size the full 100k people / 500k bookings (already so by default)",
    )
    parser.add_argument(
        "--rush-repeats", type=int, default=None, help="rushes (default 5; --full 20)"
    )
    parser.add_argument("--rush-clients", type=int, default=None, help="clients per rush (1000)")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy passes")
    parser.add_argument("--profile", action="store_true", help="py-spy passes even with --quick")
    parser.add_argument(
        "--no-wait", action="store_true", help="do not wait for other work on the machine to stop"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="seconds to wait, before each measurement, for other work on the machine to stop"
        " (default 60; --quick 20)",
    )
    parser.add_argument(
        "--server",
        choices=[*SERVER_KINDS, "both"],
        default="uvicorn",
        help="the app server: uvicorn (as `booking serve`), granian, or both (every workload"
        " under uvicorn, and F and B under Granian too, in the same run)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes")
    parser.add_argument(
        "--ref",
        default=None,
        help="benchmark this git ref of the app (exported to a temporary directory) instead of"
        " the working tree",
    )
    args = parser.parse_args(argv)
    if args.ref:
        return rerun_at_ref(args.ref, argv if argv is not None else sys.argv[1:], Path(args.out))
    p = QUICK if args.quick else FULL if args.full else DEFAULT
    if args.scales:
        small, large = (float(x) for x in args.scales.split(","))
        p.scales = (small, large)
    if args.full_scale:
        p.scales = (p.scales[0], 1.0)
    if args.rush_repeats:
        p.rush_repeats = args.rush_repeats
    if args.rush_clients:
        p.rush_clients = args.rush_clients
    if args.no_profile:
        p.profile = False
    if args.profile:
        p.profile = True
    if args.quiet_wait is not None:
        p.quiet_wait = args.quiet_wait
    if args.no_wait:
        p.quiet_wait = 0
    KEEP = args.keep
    SERVERS = list(SERVER_KINDS) if args.server == "both" else [args.server]
    only = {w.strip().upper() for w in args.only.split(",")}
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    log(f"working in {workdir}; mode {p.name}")
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": p.name,
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "profile": asdict(p),
        "machine": machine(),
        "loadavg_before": os.getloadavg(),
    }
    results["backends"] = {}
    for backend in backends:
        results["backends"][backend] = run_backend(backend, workdir, p, only)
    results["loadavg_after"] = os.getloadavg()
    results["background"] = BACKGROUND
    lost_time("end")
    results["lost_time"] = LOST
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(table(results))
    noisy = [b for b in BACKGROUND if b["busy_cores"] > 0.3]
    if noisy:
        print(
            f"\nNOTE: other work kept the machine busy before {len(noisy)} of {len(BACKGROUND)}"
            " measurements (see 'background' in the JSON); those figures are pessimistic."
        )
    stalled = [x for x in LOST if x["steal_pct"] >= 5 or x["iowait_pct"] >= 5]
    if stalled:
        worst = max(stalled, key=lambda x: x["steal_pct"] + x["iowait_pct"])
        print(
            f"\nNOTE: the hypervisor or the disk took time during {len(stalled)} of {len(LOST)}"
            f" measurements (worst: {worst['during']}, steal {worst['steal_pct']} %, iowait"
            f" {worst['iowait_pct']} %; see 'lost_time' in the JSON); their latencies are"
            " pessimistic."
        )
    print(f"\n{results['elapsed_s']:.0f}s; JSON in {out}; logs and profiles in {workdir}")
    failed = [
        b
        for b, r in results["backends"].items()
        if ("R" in r and not r["R"]["all_exact"]) or ("C" in r and not r["C"]["consistent"])
    ]
    if failed:
        print(f"CORRECTNESS FAILURE on {', '.join(failed)} (see R runs / C sessions in the JSON)")
        return 1
    return 0


def rerun_at_ref(ref: str, argv: list[str], out: Path) -> int:
    """Export REF of the app to a temporary directory, put this bench/ beside it, run there."""
    src = Path(tempfile.mkdtemp(prefix="booking-bench-src-"))
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    shutil.rmtree(src / "bench", ignore_errors=True)
    shutil.copytree(REPO / "bench", src / "bench", ignore=shutil.ignore_patterns("__pycache__"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    rest, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--ref", "--out"):
            skip = True
            continue
        if a.startswith(("--ref=", "--out=")):
            continue
        rest.append(a)
    # The run happens in the exported tree: the results go where they were asked for, here.
    rest += ["--out", str(out.resolve())]
    env = {**os.environ, "BENCH_SOURCE_LABEL": f"git ref {ref}", "BENCH_SOURCE_COMMIT": commit}
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-m", "bench", *rest], cwd=src, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
