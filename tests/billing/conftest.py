"""Billing fixtures: `localstripe` (the real `stripe` SDK's counterpart) started once per test
session on loopback, with a small HTTP server that records the webhooks it signs and sends."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import support

WEBHOOK_SECRET = "whsec_billing_tests"


@dataclass
class Webhooks:
    """Deliveries localstripe made: (Stripe-Signature header, raw body)."""

    received: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()

    async def wait_for(
        self, event_type: str, intent_id: str, within: float = 10
    ) -> tuple[str, bytes]:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while True:
                    with self.lock:
                        for sig, body in self.received:
                            text = body.decode()
                            if f'"{event_type}"' in text and intent_id in text:
                                return sig, body
                    await asyncio.sleep(0.1)
        raise AssertionError(f"localstripe sent no {event_type} for {intent_id}")


@dataclass
class LocalStripe:
    url: str
    webhooks: Webhooks
    hook_url: str

    def reset(self) -> None:
        httpx.delete(f"{self.url}/_config/data", timeout=10)
        register = httpx.post(
            f"{self.url}/_config/webhooks/tests",
            data={"url": self.hook_url, "secret": WEBHOOK_SECRET},
            timeout=10,
        )
        register.raise_for_status()
        self.webhooks.clear()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def _localstripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    executable = Path(sys.executable).parent / "localstripe"
    command = [str(executable)] if executable.exists() else [shutil.which("localstripe") or ""]
    if not command[0]:
        pytest.skip("localstripe is not installed (pip install -e '.[test]')")
    webhooks = Webhooks()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with webhooks.lock:
                webhooks.received.append((self.headers.get("Stripe-Signature") or "", body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook_server.serve_forever, daemon=True).start()
    port = _free_port()
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.skip(f"localstripe exited at start: {log.read_text()[-500:]}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{url}/v1/customers", auth=("sk_test_x", ""), timeout=1)
                break
            if time.monotonic() > deadline:
                pytest.skip("localstripe did not answer within 20 s")
            time.sleep(0.2)
        hook_port = hook_server.server_address[1]
        yield LocalStripe(url, webhooks, f"http://127.0.0.1:{hook_port}/")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        hook_server.shutdown()


@pytest.fixture
def localstripe(_localstripe_server: LocalStripe) -> LocalStripe:
    _localstripe_server.reset()
    return _localstripe_server


def stripe_settings(db_url: str, ls: LocalStripe) -> Any:
    return support.settings_for(
        db_url,
        stripe_api_key="sk_test_billing",
        stripe_api_base=ls.url,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_publishable_key="pk_test_billing",
    )
