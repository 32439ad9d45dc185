"""A real HTTP receiver on loopback for webhook tests: it records every request (headers and
body, as sent) and answers the statuses it is told, in order (then 200)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int) -> None:
        with self.lock:
            self.statuses[:] = list(statuses)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]

    def delivered(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]


@contextlib.contextmanager
def running_receiver(*statuses: int, always: int | None = None) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 (a free port); `always` answers that status to everything."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            receiver = holder["r"]
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status = always if always is not None else receiver.next_status()
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                receiver.received.append(Received(self.path, headers, body, status))
            reply = b"ok" if status < 300 else b"receiver is down " + b"x" * 2000
            self.send_response(status)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", list(statuses))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
