"""Deployment tests: real processes (`booking serve`, `booking worker`) over PostgreSQL, with an
SMTP server (aiosmtpd) in the test process counting what arrives.

Each test gets a database of its own (created, migrated, dropped). Every process a test starts
is stopped in a `finally`, by its own pid; its output goes to a file whose tail is shown when an
assertion fails.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests import support

_db_numbers = itertools.count(1)
MESSAGE_ID = re.compile(r"<outbox-(\d+)\.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a database of the test's own -------------------------------------------------------------


@pytest.fixture
def deploy_db() -> Iterator[str]:
    reason = support.run_blocking(support.postgres_available)
    if reason:
        if os.environ.get("CI") and os.environ.get("BOOKING_REQUIRE_POSTGRES", "1") == "1":
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    name = f"booking_deploy_{os.getpid()}_{next(_db_numbers)}"
    url = support.run_blocking(lambda: support.create_pg_database(name))
    try:
        support.run_blocking(lambda: asyncio.to_thread(support.migrate, url))
        yield url
    finally:
        support.run_blocking(lambda: support.drop_pg_database(name))


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


# --- an SMTP server that counts ---------------------------------------------------------------


@dataclass
class Received:
    message_id: str
    to: str
    subject: str


@dataclass
class Sink:
    """Records each message as its DATA arrives (before answering 250), then waits `delay`
    seconds: a sender killed during that wait leaves a message the server has but the sender
    never saw accepted — exactly the case at-least-once delivery sends again."""

    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(
                Received(str(msg["Message-ID"]), str(msg["To"]), str(msg["Subject"]))
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def outbox_ids(self) -> Counter[int]:
        """How many times each outbox row's message arrived (by its Message-ID)."""
        ids: Counter[int] = Counter()
        for r in self.all():
            m = MESSAGE_ID.search(r.message_id)
            assert m, f"unexpected Message-ID {r.message_id!r}"
            ids[int(m.group(1))] += 1
        return ids


@dataclass
class Smtp:
    host: str
    port: int
    sink: Sink


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp("127.0.0.1", port, sink)
    finally:
        controller.stop()


# --- processes --------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    base_url: str | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not gone within 15 s."""
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout=10)


class Processes:
    """Starts `python -m booking.cli ...` processes for one test and stops them all."""

    def __init__(self, tmp_path: Path, base_env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.base_env = base_env
        self.started: list[Proc] = []
        self._n = itertools.count(1)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log_path = self.tmp_path / f"{name}-{next(self._n)}.log"
        full_env = {
            k: v for k, v in os.environ.items() if not k.startswith("BOOKING_") and k != "CI"
        }
        full_env.update(self.base_env)
        full_env.update(env)
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "booking.cli", *args],
                cwd=self.tmp_path,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc = Proc(name, popen, log_path)
        self.started.append(proc)
        return proc

    def app(self, **env: str) -> Proc:
        port = free_port()
        proc = self._spawn(
            "app",
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            {"BOOKING_WORKER": "off", **env},
        )
        proc.base_url = f"http://127.0.0.1:{port}"
        return proc

    def worker(self, **env: str) -> Proc:
        return self._spawn("worker", ["worker"], env)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} {p.pid} ---\n{p.log_tail()}" for p in self.started)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.alive():
                proc.signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.signal(signal.SIGKILL)
                proc.popen.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path, {"BOOKING_SECRET_KEY": support.SECRET})
    try:
        yield procs
    finally:
        procs.stop_all()


async def wait_ready(procs: list[Proc], within: float = 120.0) -> None:
    """Until every app answers 200 on /ready (or one exits, or time is up)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        for proc in procs:
            assert proc.base_url
            while True:
                if not proc.alive():
                    raise AssertionError(f"{proc.name} exited:\n{proc.log_tail()}")
                try:
                    if (await http.get(f"{proc.base_url}/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{proc.name} not ready:\n{proc.log_tail()}")
                await asyncio.sleep(0.1)


async def wait_until(predicate: Any, within: float, what: str, poll: float = 0.1) -> None:
    """Await `predicate()` (sync or async) until it is true, or fail saying `what`."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(poll)
