"""Fixtures for the notification tests: a real SMTP server (aiosmtpd) and a real CalDAV server
(radicale) on loopback, each started once per test session, and settings that point at them."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from aiosmtpd.controller import Controller

from booking.config import Settings
from booking.mailer import SmtpMailer
from tests import support


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    raw: bytes
    mail_from: str
    rcpt_tos: list[str]

    def parsed(self) -> EmailMessage:
        return cast(EmailMessage, email.message_from_bytes(self.raw, policy=email.policy.default))


@dataclass
class Inbox:
    """What the SMTP server has received, in order (filled from the server's own thread)."""

    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.received.append(Received(bytes(raw), envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.received.clear()

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def messages(self) -> list[EmailMessage]:
        return [r.parsed() for r in self.all()]

    def to(self, address: str) -> list[EmailMessage]:
        return [r.parsed() for r in self.all() if address in r.rcpt_tos]


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Iterator[Inbox]:
    smtp_server.inbox.clear()
    yield smtp_server.inbox
    smtp_server.inbox.clear()


@pytest.fixture
def settings(db_url: str, smtp_server: SmtpServer) -> Settings:
    return support.settings_for(
        db_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from="training@example.org",
        base_url="https://training.example.org",
    )


@pytest.fixture
def mailer(settings: Settings, inbox: Inbox) -> SmtpMailer:
    return SmtpMailer(settings)


@pytest.fixture(scope="session")
def radicale_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A CalDAV server (radicale, from PyPI) on loopback, without authentication."""
    folder: Path = tmp_path_factory.mktemp("radicale")
    port = free_port()
    log = open(folder / "radicale.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--config",
            "",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "none",
            "--storage-filesystem-folder",
            str(folder / "collections"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    "radicale exited: " + (folder / "radicale.log").read_text(errors="replace")
                )
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("radicale did not answer within 20 s") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
