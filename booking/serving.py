"""The HTTP server's own limits, which no app code can enforce: how large a request's headers
may be and how long they may take to arrive.

uvicorn's httptools protocol has neither (its `h11_max_incomplete_event_size` applies to the h11
protocol only, and its keep-alive timer starts only after a first response), so a client could
send a 10 MB header, or open hundreds of connections and never finish a request, and hold them
as long as it liked. `BoundedHttpToolsProtocol` answers 431 to headers over
`BOOKING_MAX_HEADER_BYTES` and closes a connection whose request headers are not complete within
`BOOKING_HEADER_TIMEOUT` seconds of their first byte (or of the connection opening).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from booking.config import Settings

_LIMITS = {"max_header_bytes": 65_536, "header_timeout": 15.0}
LINGER_SECONDS = 2.0


def configure(settings: Settings) -> None:
    """Set the limits for this process (each server process calls it from the app factory)."""
    _LIMITS["max_header_bytes"] = settings.max_header_bytes
    _LIMITS["header_timeout"] = settings.header_timeout


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What `booking serve` (and the tests' live server) give uvicorn besides host and port."""
    configure(settings)
    return {
        "http": "booking.serving:BoundedHttpToolsProtocol",
        # Idle keep-alive connections stay open longer than a reverse proxy keeps its idle
        # upstream connections (nginx: 60 s), so the proxy never sends a request on one the
        # app is just closing (a 502 there; the scale-out test's clients saw it as a reset).
        "timeout_keep_alive": 75,
    }


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a size and a time limit on request headers."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_bytes = 0
        self._reading_headers = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False
        self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped until the connection closes (see _refuse)
        if not self._reading_headers and (self.cycle is None or self.cycle.response_complete):
            # The first bytes of the next request on a kept-alive connection.
            self._start_header_clock()
        if self._reading_headers:
            # Counted before parsing: headers that end within this chunk count up to their end.
            end = data.find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else end + 4
            if self._header_bytes > _LIMITS["max_header_bytes"]:
                self._stop_header_clock()
                self._refuse(431, "Request Header Fields Too Large")
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._stop_header_clock()
        super().on_headers_complete()

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        self._reading_headers = True
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(
            float(_LIMITS["header_timeout"]), self._headers_too_slow
        )

    def _stop_header_clock(self) -> None:
        self._reading_headers = False
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._reading_headers and not self.transport.is_closing():
            self._reading_headers = False
            self._refuse(408, "Request Timeout")

    def eof_received(self) -> None:
        if self._refused:
            self.transport.close()
        super().eof_received()

    def _refuse(self, status: int, reason: str) -> None:
        """Answer and close. Closing a socket with unread input resets it, and a reset can
        destroy the answer before the client reads it; so stop sending, drop what still
        arrives, and close when the client does or after LINGER_SECONDS (a lingering close)."""
        self._refused = True
        body = f"{status} {reason}\n".encode()
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\n".encode()
            + b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
