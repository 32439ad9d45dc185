"""Start and stop an app server the way production does: uvicorn, one worker, pinned to one core."""

from __future__ import annotations

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
    """`python -m uvicorn --factory FACTORY` with BOOKING_* settings, as a subprocess."""

    def __init__(
        self,
        factory: str,
        *,
        env: dict[str, str],
        workdir: Path,
        name: str,
        health_path: str = "/health",
    ) -> None:
        self.factory = factory
        self.env = env
        self.workdir = workdir
        self.name = name
        self.health_path = health_path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{name}.log"

    def start(self, timeout: float = 60) -> Server:
        # The same flags `booking serve` passes to uvicorn.run: one worker, proxy headers, info log
        # level (so the access log is on, as in production).
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            self.factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--proxy-headers",
            "--log-level",
            "info",
        ]
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

    def memory(self) -> dict[str, Any]:
        """Peak (VmHWM) and current (VmRSS) resident memory of the app process, in MiB."""
        out: dict[str, Any] = {}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = round(int(value.split()[0]) / 1024, 1)
        except OSError:
            pass
        return out

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the app process has used so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = os.sysconf("SC_CLK_TCK")
            return (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            return None

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
