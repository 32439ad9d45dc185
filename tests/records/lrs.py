"""A real learning record store for the tests: ralph-malph 5.1.0 on loopback, in its own
virtual environment (its pins clash with ours), made once under a cache directory and reused.

Its filesystem backend refuses every write after the first; run with the append operation
instead (a three-line launcher module). Users are written to its auth file directly (bcrypt),
which is what `ralph auth` does, without the CLI's start-up time."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

RALPH = "ralph-malph[cli,lrs]==5.1.0"
CACHE = Path(
    os.environ.get("BOOKING_TEST_CACHE", Path.home() / ".cache" / "booking-tests")
).expanduser()
VENV = CACHE / "ralph-venv"
MARKER = VENV / ".installed-5.1.0"
LAUNCHER = """\
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND
from ralph.api import app  # noqa: E402
"""


@dataclass(frozen=True)
class Lrs:
    url: str
    username: str
    password: str


class LrsUnavailable(Exception):
    """ralph could not be installed or started here; the reason says why."""


def ensure_venv() -> Path:
    """The virtual environment's python, installing ralph the first time (about a minute).
    Each test worker process asks; the first installs under a lock the others wait for (two
    making the environment at once broke each other's on a new machine)."""
    python = VENV / "bin" / "python"
    if MARKER.exists() and python.exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "ralph-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if MARKER.exists() and python.exists():
            return python
        return _install(python)


def _install(python: Path) -> Path:
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(VENV)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", RALPH, "requests"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise LrsUnavailable(
            f"could not install {RALPH} into {VENV}: {exc} {detail.decode(errors='replace')[-500:]}"
        ) from exc
    MARKER.write_text("ok\n")
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_lrs(workdir: Path) -> Iterator[Lrs]:
    python = ensure_venv()
    username, password = "booking", "lrs-test-password"
    digest = subprocess.run(
        [
            str(python),
            "-c",
            "import bcrypt, sys; "
            "print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())",
            password,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    auth = workdir / "auth.json"
    auth.write_text(
        json.dumps(
            [
                {
                    "agent": {"mbox": f"mailto:{username}@example.org", "objectType": "Agent"},
                    "scopes": ["all"],
                    "hash": digest,
                    "username": username,
                }
            ]
        )
    )
    (workdir / "launcher.py").write_text(LAUNCHER)
    data = workdir / "statements"
    data.mkdir(exist_ok=True)
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "RALPH_AUTH_FILE": str(auth),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(data),
    }
    log = (workdir / "ralph.log").open("wb")
    process = subprocess.Popen(
        [str(python), "-m", "uvicorn", "launcher:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise LrsUnavailable(
                    "ralph exited at start: " + (workdir / "ralph.log").read_text()[-1000:]
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/__heartbeat__", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise LrsUnavailable("ralph did not answer within 60 s")
            time.sleep(0.2)
        yield Lrs(url, username, password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
