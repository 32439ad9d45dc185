"""Conditional GET and HEAD for documents that clients poll (the calendar feeds).

The ETag is a hash of the body, so anything that changes the document changes it; Last-Modified
is when the data it shows last changed. A request whose validators match gets 304 with no body
(If-None-Match, compared weakly, takes precedence over If-Modified-Since: RFC 9110 13.2.2). HEAD
gets the GET's headers, Content-Length included, and no body.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Request, Response
from litestar.response.base import ASGIResponse


class _HeadResponse(Response[bytes]):
    """The response to GET, sent without its body."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        response = super().to_asgi_response(*args, **kwargs)
        response.body = b""
        response.is_head_response = True
        return response


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _weak_match(header: str, etag: str) -> bool:
    wanted = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in wanted or etag in wanted


def _not_modified_since(header: str, modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False  # not an HTTP-date: ignored (RFC 9110 13.1.3)
    if since.tzinfo is None:
        return False
    return modified.replace(microsecond=0) <= since


def conditional_response(
    request: Request[Any, Any, Any],
    body: bytes,
    *,
    media_type: str,
    modified: datetime,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """`body` as the answer to a GET or HEAD, or 304 if the client already holds it."""
    etag = entity_tag(body)
    validators = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
        **(headers or {}),
    }
    if_none_match = request.headers.get("if-none-match")
    if_modified_since = request.headers.get("if-modified-since")
    if if_none_match is not None:
        unchanged = _weak_match(if_none_match, etag)
    else:
        unchanged = if_modified_since is not None and _not_modified_since(
            if_modified_since, modified
        )
    if unchanged:
        return Response(b"", status_code=304, headers=validators)
    cls = _HeadResponse if request.method == "HEAD" else Response
    return cls(body, media_type=media_type, headers=validators)
