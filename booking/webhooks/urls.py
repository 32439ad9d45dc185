"""Which URLs an endpoint may have: https, to a host that resolves only to public addresses.

Checked when an endpoint is registered or changed, and again before every delivery (the name
may resolve elsewhere by then: a server-side request forgery guard, not only a form check).
`BOOKING_WEBHOOKS_ALLOW_PRIVATE=1` lifts both rules for tests and the demo."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from booking.kernel.errors import InvalidError

MAX_URL = 2000
RESOLVE_TIMEOUT = 5.0


class UrlRefused(Exception):
    """A delivery's URL broke the rule when it was about to be sent."""


def check_shape(url: str, *, allow_private: bool) -> str:
    """The URL cleaned, or `InvalidError` on the `url` field saying why not (no resolving)."""
    cleaned = url.strip()
    if not cleaned:
        raise InvalidError("Give the URL the events are sent to.", "url")
    if len(cleaned) > MAX_URL:
        raise InvalidError(f"Keep the URL to {MAX_URL} characters.", "url")
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise InvalidError("The URL is not valid.", "url") from exc
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        allowed = "https:// or http://" if allow_private else "https://"
        raise InvalidError(
            f"The URL must start with {allowed} (events are signed, not secret).", "url"
        )
    if not parts.hostname:
        raise InvalidError("The URL must name a host.", "url")
    if parts.username or parts.password:
        raise InvalidError("Leave user names and passwords out of the URL.", "url")
    return cleaned


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
    )
    return sorted({str(info[4][0]) for info in infos})


async def refusal(url: str, *, allow_private: bool) -> str | None:
    """Why `url` may not be called now, or None: checked at registration and before each
    delivery. Every address the host resolves to must be public."""
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = await resolve(host, parts.port or 443)
    except (OSError, TimeoutError, UnicodeError):
        return f"The host {host} cannot be found."
    private = [a for a in addresses if not is_public(a)]
    if not addresses or private:
        return (
            f"The host {host} resolves to a private, loopback or reserved address "
            f"({', '.join(private) or 'none'}); only public addresses can receive events."
        )
    return None


async def check_url(url: str, *, allow_private: bool) -> str:
    """The URL cleaned if it may receive events; `InvalidError` on the `url` field if not."""
    cleaned = check_shape(url, allow_private=allow_private)
    reason = await refusal(cleaned, allow_private=allow_private)
    if reason:
        raise InvalidError(reason, "url")
    return cleaned
