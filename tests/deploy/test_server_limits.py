"""`booking serve` bounds what a client can make it hold (issue 15): request headers larger than
BOOKING_MAX_HEADER_BYTES get 431 and the connection closed; a connection whose request headers
do not arrive within BOOKING_HEADER_TIMEOUT is closed, however many there are."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import support
from tests.deploy.conftest import Processes, wait_ready

pytestmark = pytest.mark.asyncio

HEADER_TIMEOUT = 2.0


async def read_all(reader: asyncio.StreamReader, within: float) -> bytes:
    """Everything the server sends until it closes the connection (or `within` passes)."""
    chunks = []
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"still open after {within} s; got {b''.join(chunks)[:200]!r}")
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def test_serve_refuses_huge_headers_and_closes_half_sent_requests(
    processes: Processes, sqlite_template: Path, tmp_path: Path
) -> None:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "limits.db")
    app = processes.app(
        BOOKING_DATABASE_URL=url,
        BOOKING_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        BOOKING_MAX_HEADER_BYTES="16384",
    )
    await wait_ready([app])
    assert app.base_url
    where = urlsplit(app.base_url)
    host, port = where.hostname or "127.0.0.1", where.port or 80

    # A header of 10 MB: refused with 431 as soon as the limit is passed, and closed.
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Big: ")
    try:
        for _ in range(160):
            writer.write(b"a" * 65536)
            await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server closed it: what we want
    answer = await read_all(reader, within=10)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    writer.close()

    # 200 connections that start a request and never finish its headers: all closed within
    # the bound (with 408), and the server still answers others meanwhile.
    started = time.monotonic()
    idle = []
    for _ in range(200):
        r, w = await asyncio.open_connection(host, port)
        w.write(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        await w.drain()
        idle.append((r, w))
    r, w = await asyncio.open_connection(host, port)
    w.write(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Fine: " + b"b" * 8000 + b"\r\n\r\n")
    assert (await asyncio.wait_for(r.readline(), 10)).startswith(b"HTTP/1.1 200")
    w.close()
    answers = await asyncio.gather(*(read_all(r, within=HEADER_TIMEOUT + 8) for r, _ in idle))
    elapsed = time.monotonic() - started
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), {a[:40] for a in answers}
    assert elapsed < HEADER_TIMEOUT + 8, elapsed
    for _, w in idle:
        w.close()

    # A connection opened and never used is closed too (read_all fails if it stays open); a
    # kept-alive one idle between requests is not cut by the header clock (its idle time is the
    # keep-alive period).
    r, w = await asyncio.open_connection(host, port)
    await read_all(r, within=HEADER_TIMEOUT + 5)
    w.close()
    r, w = await asyncio.open_connection(host, port)
    for pause in (0.0, HEADER_TIMEOUT + 1):
        await asyncio.sleep(pause)
        w.write(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        await w.drain()
        assert (await response(r)).startswith(b"HTTP/1.1 200")
    w.close()


async def response(reader: asyncio.StreamReader) -> bytes:
    """One whole response (status line, headers, a Content-Length body)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await asyncio.wait_for(reader.readexactly(length), 10)
