"""The booking app with two response headers added, for the pages workload (P):

- `x-bench-queries`: SQL statements the request executed (a SQLAlchemy `before_cursor_execute`
  listener on the app's engine, attributed to the request through a context variable), not
  counting BEGIN/COMMIT (SQLite's explicit `BEGIN IMMEDIATE` would otherwise make its counts
  differ from PostgreSQL's for the same code);
- `x-bench-server-us`: microseconds from the request reaching the app to its response starting
  (templates are rendered before the response starts, so this is the page's server time);
- `x-bench-gc-us`: of which, microseconds in Python's garbage collector.

With `BENCH_SQL_LOG=path`, requests that send `x-bench-trace: 1` append their statements to that
file as JSON lines, so a page's queries can be read.

    python -m uvicorn --factory bench.instrumented:app_factory

Throughput workloads (F, B, R, C) use the production factory `booking.cli:app_factory` instead.
"""

from __future__ import annotations

import contextvars
import gc
import json
import os
import time
from typing import Any

from sqlalchemy import event

_current: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "bench_queries", default=None
)


# Time spent in the garbage collector, process-wide (pages run at under half load, so requests
# rarely overlap and the difference over one request is that request's share).
_gc = {"total": 0.0, "started": 0.0}


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc["started"] = time.perf_counter()
    elif _gc["started"]:
        _gc["total"] += time.perf_counter() - _gc["started"]


gc.callbacks.append(_on_gc)


def _on_execute(
    conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
) -> None:
    record = _current.get()
    if record is not None:
        if statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            # SQLite's `BEGIN IMMEDIATE/DEFERRED` goes through the cursor; PostgreSQL's BEGIN does
            # not. Counted apart, so both backends' query counts mean the same thing.
            record[2] += 1
            return
        record[0] += 1
        if record[1] is not None:
            record[1].append(" ".join(statement.split()))


class Instrumented:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.listening = False
        self.sql_log = os.environ.get("BENCH_SQL_LOG")

    def _listen(self) -> None:
        db = getattr(self.app.state, "db", None)
        if db is not None and not self.listening:
            event.listen(db.engine.sync_engine, "before_cursor_execute", _on_execute)
            self.listening = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.listening:
            self._listen()
        trace = self.sql_log and any(k == b"x-bench-trace" for k, _ in scope.get("headers", ()))
        record: list[Any] = [0, [] if trace else None, 0]
        token = _current.set(record)
        started = time.perf_counter()
        gc_before = _gc["total"]

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                elapsed_us = int((time.perf_counter() - started) * 1e6)
                headers = list(message.get("headers") or [])
                headers.append((b"x-bench-queries", str(record[0]).encode()))
                headers.append((b"x-bench-server-us", str(elapsed_us).encode()))
                gc_us = int((_gc["total"] - gc_before) * 1e6)
                headers.append((b"x-bench-gc-us", str(gc_us).encode()))
                message = {**message, "headers": headers}
                if trace and self.sql_log:
                    # Only for the handful of traced requests: a blocking write is fine here.
                    with open(self.sql_log, "a", encoding="utf-8") as f:  # noqa: ASYNC230
                        f.write(
                            json.dumps(
                                {
                                    "path": scope["path"],
                                    "query_string": scope.get("query_string", b"").decode(),
                                    "status": message["status"],
                                    "statements": record[1],
                                }
                            )
                            + "\n"
                        )
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _current.reset(token)


def app_factory() -> Instrumented:
    from booking.cli import app_factory as booking_factory

    return Instrumented(booking_factory())
