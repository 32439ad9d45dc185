"""Start and stop an app server the way production does: uvicorn, one worker, pinned to one core.

`kind="granian"` serves the same factory with Granian instead, configured as closely as it allows
(see `granian_command`), to compare the two servers (issue 20: `python -m bench --server both`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
SERVER_CORE = "0"
CLIENT_CORE = "1"
SERVER_KINDS = ("uvicorn", "granian")


def uvicorn_command(factory: str, port: int) -> list[str]:
    # As `booking serve` runs uvicorn (`bench/serve.py`): the app's JSON access line, uvicorn's
    # access log off, bounded headers, proxy headers.
    return [sys.executable, "-m", "bench.serve", factory, str(port)]


def granian_command(factory: str, port: int) -> list[str]:
    """Granian set up like the uvicorn command above: ASGI (with lifespan, which the app's
    start-up and shutdown need), the same factory, one worker process with one single-threaded
    Rust runtime, HTTP/1.1 only with keep-alive, uvloop, `info` log level with the access log on.
    Differences that remain: Granian has no `--proxy-headers` (no request here carries
    X-Forwarded-* headers, so uvicorn's does nothing but look), and its worker is a child of a
    supervising main process (the Server sums both processes' CPU time)."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--runtime-threads",
        "1",
        "--runtime-mode",
        "st",
        "--http",
        "1",
        "--loop",
        "uvloop",
        "--log-level",
        "info",
        "--access-log",
        factory,
    ]


def process_tree(pid: int) -> list[int]:
    """PID and all its descendants (from /proc/PID/task/*/children), parents first."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return out


def pinned(cmd: list[str], core: str) -> list[str]:
    """`taskset -c CORE cmd` where taskset exists and the machine has more than one core."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", core, *cmd]
    return cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKING_", "BENCH_"))}
    # The app must import the booking package from this checkout, whatever the current directory.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
    )
    env.update(extra)
    return env


class Server:
    """`python -m uvicorn --factory FACTORY` (or Granian's equivalent) with BOOKING_* settings,
    as a subprocess."""

    def __init__(
        self,
        factory: str,
        *,
        env: dict[str, str],
        workdir: Path,
        name: str,
        health_path: str = "/health",
        kind: str = "uvicorn",
    ) -> None:
        if kind not in SERVER_KINDS:
            raise ValueError(f"unknown server {kind!r}; one of {', '.join(SERVER_KINDS)}")
        self.kind = kind
        self.factory = factory
        self.env = env
        self.workdir = workdir
        self.name = name
        self.health_path = health_path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{name}-{kind}.log"

    def start(self, timeout: float = 60) -> Server:
        build = granian_command if self.kind == "granian" else uvicorn_command
        cmd = build(self.factory, self.port)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        # Links, cookies and the Origin check use the address the server really answers on.
        env = {"BOOKING_BASE_URL": self.url, **self.env}
        self.proc = subprocess.Popen(
            pinned(cmd, SERVER_CORE),
            cwd=self.workdir,
            env=clean_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server {self.name} exited with {self.proc.returncode}; see {self.log_path}:\n"
                    + self.log_path.read_text(errors="replace")[-3000:]
                )
            try:
                r = httpx.get(f"{self.url}{self.health_path}", timeout=2)
                if r.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"server {self.name} did not answer within {timeout}s; see {self.log_path}"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def app_pid(self) -> int:
        """The process that runs the app: uvicorn's own process (one worker, no supervisor);
        Granian's worker, the last descendant of its main process."""
        return process_tree(self.pid)[-1]

    def memory(self) -> dict[str, Any]:
        """Peak (VmHWM) and current (VmRSS) resident memory of the app process, in MiB."""
        out: dict[str, Any] = {}
        try:
            for line in Path(f"/proc/{self.app_pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = round(int(value.split()[0]) / 1024, 1)
        except OSError:
            pass
        return out

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server's processes (Granian: main and worker) have used
        so far."""
        total = 0.0
        try:
            for pid in process_tree(self.pid):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None
        return total

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
