"""What every page handler answers with: a full page or an htmx fragment, and the one-time
flash message the next page shows.

Pages are server-rendered and work without JavaScript; with htmx (`HX-Request: true`) a fragment
is swapped in place instead."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request
from litestar.response import Template

from booking.kernel.actors import Actor

FLASH_KEY = "flash"
VARY_HTMX = {"Vary": "HX-Request"}
# Pages are personal: keep them out of shared caches and off the disk of a shared computer.
NO_STORE = {"Cache-Control": "no-store"}


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def safe_next(value: str | None, default: str = "/courses") -> str:
    """Only a path on this site: never `//host` or a scheme, which would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(c in value for c in "\r\n\\"):
        return default
    return value


def _session_dict(request: Request[Any, Any, Any]) -> dict[str, Any]:
    session = request.scope.get("session")
    return session if isinstance(session, dict) else {}


def flash(request: Request[Any, Any, Any], message: str) -> None:
    """A one-time message for the next page (kept in the signed session cookie)."""
    session = dict(_session_dict(request))
    session[FLASH_KEY] = message
    request.set_session(session)


def _pop_flash(request: Request[Any, Any, Any]) -> str | None:
    session = _session_dict(request)
    if FLASH_KEY not in session:
        return None
    remaining = dict(session)
    message = remaining.pop(FLASH_KEY)
    request.set_session(remaining)
    return message if isinstance(message, str) else None


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    actor: Actor | None,
    status_code: int = 200,
    nav: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A full page: the layout gets the user, the navigation marker and any flash message.

    Always `text/html`, whatever the handler's return annotation: Litestar otherwise takes the
    handler's media type, which is JSON for a handler annotated `Any`."""
    return Template(
        template_name=template,
        context={"actor": actor, "nav": nav, "flash": _pop_flash(request), **context},
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        media_type=MediaType.HTML,
    )


def partial(
    template: str, *, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Template:
    """An htmx fragment; `text/html` for the same reason as `page`."""
    return Template(
        template_name=template,
        context=context,
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        media_type=MediaType.HTML,
    )
