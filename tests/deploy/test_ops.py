"""Operations: request ids and JSON access lines, readiness against the schema, and the database
going away and coming back under a running app (a TCP proxy in front of PostgreSQL that the test
switches off and on), including an app that starts before its database does.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from booking.logs import ACCESS_LOGGER, JsonFormatter, RequestIdFilter
from booking.web.ops import ReleaseSchema, release_schema, schema_state
from booking.web.problems import DATABASE_DOWN
from tests import support
from tests.deploy.conftest import free_port


@contextlib.contextmanager
def access_lines() -> Iterator[io.StringIO]:
    """The access logger's records as JSON lines, whatever the test run's logging set-up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger(ACCESS_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return support.fresh_sqlite(sqlite_template, tmp_path / "ops.db")


async def test_request_id_is_echoed_or_made_and_each_request_is_one_json_line(
    sqlite_url: str,
) -> None:
    app = create_app(support.settings_for(sqlite_url), run_worker=False)
    with access_lines() as lines:
        async with AsyncTestClient(app) as http:
            given = await http.get("/api/v1/me", headers={"X-Request-ID": "lb-7f3a.42"})
            made = await http.get("/no-such-page")
            refused = await http.get("/api/v1/me", headers={"X-Request-ID": "no spaces\tor tabs"})
    assert given.status_code == 401 and given.headers["x-request-id"] == "lb-7f3a.42"
    assert made.status_code == 404 and re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])

    entries = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [(e["path"], e["status"]) for e in entries] == [
        ("/api/v1/me", 401),
        ("/no-such-page", 404),
        ("/api/v1/me", 401),
    ]
    first = entries[0]
    assert first["request_id"] == "lb-7f3a.42"
    assert first["method"] == "GET" and first["logger"] == ACCESS_LOGGER
    assert first["level"] == "info" and isinstance(first["duration_ms"], float)
    assert set(first) >= {"time", "level", "logger", "message", "request_id", "method", "path"}
    assert entries[1]["request_id"] == made.headers["x-request-id"]


def test_schema_state() -> None:
    release = ReleaseSchema(heads=frozenset({"c"}), known=frozenset({"a", "b", "c"}))
    assert schema_state(set(), release) == "empty"
    assert schema_state({"c"}, release) == "at head"
    assert schema_state({"b"}, release) == "behind"
    assert schema_state({"d"}, release) == "ahead"  # a newer release migrated it: rolling upgrade


async def test_ready_needs_the_schema_this_release_was_built_for(sqlite_url: str) -> None:
    path = sqlite_url.partition(":///")[2]
    release = release_schema()
    [head] = release.heads
    older = next(r for r in release.known if r != head)

    def set_revision(revision: str | None) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM alembic_version")
            if revision:
                conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))

    app = create_app(support.settings_for(sqlite_url), run_worker=False)
    async with AsyncTestClient(app) as http:
        ready = await http.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["schema"]["state"] == "at head"

        set_revision(older)
        behind = await http.get("/ready")
        assert behind.status_code == 503
        assert behind.headers["content-type"].startswith("application/problem+json")
        assert "booking db upgrade" in behind.json()["detail"]
        assert (await http.get("/health")).status_code == 200  # alive, just not ready

        set_revision("ffffffffffff")  # unknown to this release: a newer one migrated it
        assert (await http.get("/ready")).json()["checks"]["schema"]["state"] == "ahead"

        set_revision(None)
        assert (await http.get("/ready")).status_code == 503


# --- the database goes away and comes back ----------------------------------------------------


class Proxy:
    """A TCP proxy to PostgreSQL that can be switched off (listener closed, every connection
    cut) and on again, on the same port: the database as the app sees it in an outage or a
    failover."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


@contextlib.asynccontextmanager
async def proxy_to(url: str) -> AsyncIterator[tuple[Proxy, str]]:
    hostport = url.split("@", 1)[1].split("/", 1)[0]
    host, _, port = hostport.partition(":")
    proxy = Proxy((host, int(port or 5432)))
    try:
        yield proxy, url.replace(f"@{hostport}/", f"@127.0.0.1:{proxy.port}/")
    finally:
        await proxy.down()


@pytest.mark.postgres
async def test_app_waits_for_the_database_then_rides_out_an_outage(deploy_db: str) -> None:
    db = Database(support.settings_for(deploy_db))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
    finally:
        await db.dispose()

    async with proxy_to(deploy_db) as (proxy, via_proxy):
        settings = replace(support.settings_for(via_proxy), db_connect_retry_seconds=30)
        app = create_app(settings, run_worker=False)

        async def database_comes_up_late() -> None:
            await asyncio.sleep(1.5)
            await proxy.up()

        late = asyncio.create_task(database_comes_up_late())
        started = time.monotonic()
        async with support.live_server(app) as base:
            waited = time.monotonic() - started
            await late
            assert waited >= 1.4, "the app started before its database answered"
            async with support.client(base, world.admin_token) as http:
                assert (await http.get("/ready")).status_code == 200
                assert (await http.get("/api/v1/courses")).status_code == 200

                await proxy.down()
                api = await http.get("/api/v1/courses")
                assert api.status_code == 503, api.text
                assert api.headers["content-type"].startswith("application/problem+json")
                assert api.json()["detail"] == DATABASE_DOWN
                assert api.headers["retry-after"] == "5"
                health = await http.get("/health")
                assert health.status_code == 503
                assert health.json()["detail"] == DATABASE_DOWN
                assert (await http.get("/ready")).status_code == 503
                page = await http.get("/calendar/not-a-real-token.ics")
                assert page.status_code == 503
                assert page.headers["content-type"].startswith("text/html")
                assert "try again shortly" in page.text

                # Back up (a restart, or the standby promoted behind the same address): the
                # same app answers again, with no restart.
                await proxy.up()
                ok = None
                for _ in range(50):
                    ok = await http.get("/api/v1/courses")
                    if ok.status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert ok is not None and ok.status_code == 200, ok.text if ok else None
                assert (await http.get("/ready")).status_code == 200


async def test_start_gives_up_when_the_database_never_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`booking serve` and `booking worker` wait this way before starting; past the limit the
    process exits with the error (the service manager restarts it)."""
    closed_port = free_port()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/x"
    db = Database(support.settings_for(url))
    started = time.monotonic()
    try:
        with caplog.at_level(logging.INFO, logger="booking.db"), pytest.raises(OSError):
            await db.wait_until_reachable(2.0)
    finally:
        await db.dispose()
    assert time.monotonic() - started >= 2.0
    retries = [r for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retries) >= 2  # 0.5 s, 1 s, ... backoff
    assert any("giving up" in r.getMessage() for r in caplog.records)
