"""The load generator: a small HTTP/1.1 keep-alive client on asyncio protocols (uvloop if present).

Run as its own process, pinned to the core the server does not use:

    python -m bench.loadgen SPEC.json OUT.json

SPEC names a mode and the requests, each `[tag, method, path, headers, body]`:

- `closed`: `concurrency` connections each send the next request as soon as the last one answered,
  for `duration` seconds (after `warmup` seconds not counted). Only for peak throughput.
- `open`: arrivals at a fixed `rate` per second, whether or not earlier requests have answered
  (latency counts from the planned arrival, so a stalled server cannot hide it).
- `rush`: for each group of requests, one connection per request is opened first; then every
  request is written at once, and the answers timed from that release.

The client is deliberately minimal (no TLS, no redirects, no cookies jar): it measures the server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

KEEP_HEADERS = ("x-bench-queries", "x-bench-server-us", "x-bench-gc-us")


class ConnectionClosed(Exception):
    pass


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.state = "head"
        self.status = 0
        self.headers: dict[str, str] = {}
        self.need = 0
        self.body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionClosed(str(exc) if exc else "closed by server"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._parse()

    def _parse(self) -> None:
        while True:
            if self.state == "head":
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buf[:end])
                del self.buf[: end + 4]
                lines = head.split(b"\r\n")
                self.status = int(lines[0].split(b" ", 2)[1])
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower().decode("latin-1")] = value.strip().decode(
                        "latin-1"
                    )
                self.headers = headers
                if "content-length" in headers:
                    self.need = int(headers["content-length"])
                    self.state = "body"
                elif headers.get("transfer-encoding", "").lower() == "chunked":
                    self.state = "chunk-size"
                elif self.status in (204, 304) or 100 <= self.status < 200:
                    self.need = 0
                    self.state = "body"
                else:
                    self.state = "until-close"
            elif self.state == "body":
                if len(self.buf) < self.need:
                    return
                self.body += self.buf[: self.need]
                del self.buf[: self.need]
                self._done()
            elif self.state == "chunk-size":
                end = self.buf.find(b"\r\n")
                if end < 0:
                    return
                size = int(bytes(self.buf[:end]).split(b";")[0], 16)
                del self.buf[: end + 2]
                if size == 0:
                    self.state = "trailer"
                else:
                    self.need = size
                    self.state = "chunk"
            elif self.state == "chunk":
                if len(self.buf) < self.need + 2:
                    return
                self.body += self.buf[: self.need]
                del self.buf[: self.need + 2]
                self.state = "chunk-size"
            elif self.state == "trailer":
                end = self.buf.find(b"\r\n")
                if end < 0:
                    return
                line = bytes(self.buf[:end])
                del self.buf[: end + 2]
                if not line:
                    self._done()
            else:  # until-close: not expected from uvicorn
                return

    def _done(self) -> None:
        result = (self.status, self.headers, bytes(self.body))
        self._reset()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(result)

    async def send(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.closed or self.transport is None:
            raise ConnectionClosed("connection is closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()


async def connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(Connection, host, port)
    return proto


def build(
    host: str, port: int, method: str, path: str, headers: dict[str, str], body: Any
) -> bytes:
    data = b""
    if body is not None:
        data = body.encode() if isinstance(body, str) else bytes(body)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


class Recorder:
    """Samples as compact rows:
    [tag, planned, sent, done, status, queries, server_us, gc_us, body?]."""

    def __init__(self, keep_body: bool) -> None:
        self.rows: list[list[Any]] = []
        self.errors: dict[str, int] = {}
        self.keep_body = keep_body

    def ok(
        self,
        tag: str,
        planned: float,
        sent: float,
        done: float,
        status: int,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        q = headers.get("x-bench-queries")
        us = headers.get("x-bench-server-us")
        gc_us = headers.get("x-bench-gc-us")
        row: list[Any] = [
            tag,
            planned,
            sent,
            done,
            status,
            int(q) if q is not None else None,
            int(us) if us is not None else None,
            int(gc_us) if gc_us is not None else None,
        ]
        if self.keep_body:
            row.append(body.decode("utf-8", "replace"))
        self.rows.append(row)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _requests(spec: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    host, port = spec["host"], spec["port"]
    built = [
        (tag, build(host, port, method, path, headers or {}, body))
        for tag, method, path, headers, body in spec["requests"]
    ]
    if spec.get("cycle"):
        while True:
            yield from built
    else:
        yield from built


async def run_closed(spec: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    host, port = spec["host"], spec["port"]
    conns = [await connect(host, port) for _ in range(spec["concurrency"])]
    source = _requests(spec)
    start = time.perf_counter()
    counted_from = start + spec.get("warmup", 0.0)
    stop_at = counted_from + spec["duration"]
    exhausted = False
    consumed = 0

    async def worker(conn: Connection) -> None:
        nonlocal exhausted, consumed
        while not exhausted:
            now = time.perf_counter()
            if now >= stop_at:
                return
            try:
                tag, raw = next(source)
            except StopIteration:
                exhausted = True
                return
            consumed += 1
            try:
                status, headers, body = await conn.send(raw)
            except ConnectionClosed:
                rec.error("connection closed")
                conn = await connect(host, port)
                continue
            done = time.perf_counter()
            if now >= counted_from:
                rec.ok(tag, now, now, done, status, headers, body)

    await asyncio.gather(*(worker(c) for c in conns))
    ended = time.perf_counter()
    for c in conns:
        c.close()
    return {
        "window": min(ended, stop_at) - counted_from,
        "exhausted": exhausted,
        "consumed": consumed,
    }


async def run_open(spec: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    host, port = spec["host"], spec["port"]
    rate = float(spec["rate"])
    total = int(spec.get("count") or rate * spec["duration"])
    max_conns = int(spec.get("max_connections", 512))
    idle: list[Connection] = [await connect(host, port) for _ in range(spec.get("connections", 16))]
    opened = len(idle)
    source = _requests(spec)
    tasks: set[asyncio.Task[None]] = set()
    peak_in_flight = 0
    in_flight = 0
    conn_free = asyncio.Event()

    async def one(tag: str, raw: bytes, planned: float) -> None:
        nonlocal opened, in_flight, peak_in_flight
        in_flight += 1
        peak_in_flight = max(peak_in_flight, in_flight)
        try:
            while not idle:
                if opened < max_conns:
                    opened += 1
                    idle.append(await connect(host, port))
                    break
                conn_free.clear()
                await conn_free.wait()
            conn = idle.pop()
            sent = time.perf_counter()
            try:
                status, headers, body = await conn.send(raw)
            except ConnectionClosed:
                rec.error("connection closed")
                opened -= 1
                return
            done = time.perf_counter()
            rec.ok(tag, planned, sent, done, status, headers, body)
            idle.append(conn)
            conn_free.set()
        finally:
            in_flight -= 1

    start = time.perf_counter() + 0.05
    sent_count = 0
    for i in range(total):
        planned = start + i / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            tag, raw = next(source)
        except StopIteration:
            break
        task = asyncio.create_task(one(tag, raw, planned))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent_count += 1
    if tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=spec.get("drain_timeout", 60))
        for t in pending:
            t.cancel()
            rec.error("timed out")
    for c in idle:
        c.close()
    return {
        "window": total / rate,
        "planned": total,
        "sent": sent_count,
        "connections_opened": opened,
        "peak_in_flight": peak_in_flight,
    }


async def run_rush(spec: dict[str, Any], rec: Recorder) -> dict[str, Any]:
    host, port = spec["host"], spec["port"]
    releases = []
    for group_no, group in enumerate(spec["groups"]):
        raws = [
            (tag, build(host, port, method, path, headers or {}, body))
            for tag, method, path, headers, body in group
        ]
        # Open every client's connection first (in batches, to stay under the listen backlog).
        conns: list[Connection] = []
        for i in range(0, len(raws), 200):
            conns += await asyncio.gather(*(connect(host, port) for _ in raws[i : i + 200]))
        await asyncio.sleep(spec.get("settle", 0.3))
        released = time.perf_counter()

        async def one(conn: Connection, tag: str, raw: bytes, released: float = released) -> None:
            try:
                status, headers, body = await conn.send(raw)
            except ConnectionClosed:
                rec.error("connection closed")
                return
            rec.ok(tag, released, released, time.perf_counter(), status, headers, body)

        await asyncio.gather(*(one(c, tag, raw) for c, (tag, raw) in zip(conns, raws, strict=True)))
        releases.append({"group": group_no, "released": released, "ended": time.perf_counter()})
        for c in conns:
            c.close()
        await asyncio.sleep(spec.get("pause", 0.5))
    return {"releases": releases}


async def main_async(spec: dict[str, Any]) -> dict[str, Any]:
    rec = Recorder(keep_body=bool(spec.get("keep_body")))
    mode = spec["mode"]
    began = time.perf_counter()
    if mode == "closed":
        info = await run_closed(spec, rec)
    elif mode == "open":
        info = await run_open(spec, rec)
    elif mode == "rush":
        info = await run_rush(spec, rec)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return {
        "mode": mode,
        "info": info,
        "rows": rec.rows,
        "errors": rec.errors,
        "elapsed": time.perf_counter() - began,
    }


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - plain asyncio works, a little slower
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(main_async(spec))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
