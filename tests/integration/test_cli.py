"""The bootstrap commands, run as a new user would, in an empty directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "booking.cli", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_admin_and_tokens_print_the_token_last(tmp_path: Path) -> None:
    url = {"BOOKING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    admin = run(
        ["admin", "create", "--email", "Boss@Example.org", "--name", "Boss"], tmp_path, **url
    )
    assert admin.returncode == 0, admin.stderr
    admin_token = admin.stdout.strip().splitlines()[-1]
    assert admin_token.startswith("bk_")

    person = run(["token", "create", "--email", "boss@example.org"], tmp_path, **url)
    assert person.returncode == 0, person.stderr
    service = run(["token", "create", "--service", "lms", "--scope", "records"], tmp_path, **url)
    assert service.returncode == 0, service.stderr
    tokens = {
        admin_token,
        person.stdout.strip().splitlines()[-1],
        service.stdout.strip().splitlines()[-1],
    }
    assert len(tokens) == 3

    unknown = run(["token", "create", "--email", "nobody@example.org"], tmp_path, **url)
    assert unknown.returncode != 0
    assert "nobody@example.org" in unknown.stderr
    no_scope = run(["token", "create", "--service", "lms"], tmp_path, **url)
    assert no_scope.returncode != 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_in_an_empty_directory(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "BOOKING_WORKER_INTERVAL": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "booking.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read() if proc.stdout else ""
                    raise AssertionError(f"server did not start:\n{out}") from None
                time.sleep(0.3)
        assert health.json() == {"status": "ok"}
        assert (tmp_path / "booking.db").exists()
        assert (tmp_path / ".booking-secret-key").exists()
        login = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status_code == 200
        # The demo's pick-a-person sign-in lists the demo people, the administrator among them.
        assert "Sign in as Demo Admin" in login.text
        assert login.text.count("Sign in as ") >= 40
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
