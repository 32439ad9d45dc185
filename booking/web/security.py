"""Security headers on every response, and an Origin check on state-changing form posts.

CSRF tokens already guard every HTML POST (Litestar's CSRF middleware); the Origin check adds a
second line: a browser always sends Origin on a cross-site POST, and one from another site is
refused before anything runs. The bearer-token API and the Stripe webhook are exempt from both,
as they do not use cookies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'self'; "
    "frame-ancestors 'none'; object-src 'none'"
)
HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"DENY",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=(), payment=(self)",
    b"cross-origin-opener-policy": b"same-origin",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = ("/api/", "/webhooks/")
# The API reference page loads its viewer from a CDN; it shows public documentation only.
NO_CSP = ("/api/v1/docs",)


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, *, base_url: str) -> None:
        self.app = app
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}".lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        method = str(scope.get("method", "GET"))
        if method in UNSAFE and not path.startswith(EXEMPT) and not self._same_origin(scope):
            await _forbidden(send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in HEADERS.items():
                    if name not in present:
                        headers.append((name, value))
                if b"content-security-policy" not in present and not path.startswith(NO_CSP):
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _same_origin(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is None:
            return True  # not a browser cross-site request (browsers send Origin on those)
        value = origin.decode("latin-1").lower()
        host = headers.get(b"host", b"").decode("latin-1").lower()
        scheme = scope.get("scheme", "http")
        return value in (self.origin, f"{scheme}://{host}")


async def _forbidden(send: Send) -> None:
    body = b"This form was sent from another site and has been refused."
    start: Any = {
        "type": "http.response.start",
        "status": 403,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *HEADERS.items(),
        ],
    }
    end: Any = {"type": "http.response.body", "body": body}
    await send(start)
    await send(end)
