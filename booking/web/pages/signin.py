"""Starting and ending a browser session (shared by every way of signing in)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.people import auth
from booking.web.pages.render import FLASH_KEY


def client_ip(request: Request[Any, Any, Any]) -> str:
    # uvicorn's proxy_headers already put the forwarded client address here behind a proxy.
    return request.client.host if request.client else "unknown"


def session_cookie(request: Request[Any, Any, Any], value: str, *, max_age: int | None) -> Cookie:
    settings = request.app.state.settings
    return Cookie(
        key=auth.SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.base_url.startswith("https://"),
        samesite="lax",
    )


async def complete(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    method: str,
    next_path: str,
) -> Response[Any]:
    """A new server-side session for `actor` (the old one, if any, is ended: no fixation)."""
    assert actor.person_id is not None
    await auth.end_session(db, request.cookies.get(auth.SESSION_COOKIE))
    sid = await auth.start_session(db, clock, actor.person_id, method)
    await audit.record_now(
        db,
        clock,
        action="login.succeeded",
        actor=actor,
        ip=client_ip(request),
        details={"method": method},
    )
    # Nothing from before signing in carries over in the cookie session either.
    request.clear_session()
    settings = request.app.state.settings
    return Redirect(
        path=next_path,
        status_code=303,
        cookies=[session_cookie(request, sid, max_age=settings.session_max_hours * 3600)],
    )


async def sign_out(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Response[Any]:
    sid = request.cookies.get(auth.SESSION_COOKIE)
    actor = request.scope.get("state", {}).get("actor")
    await auth.end_session(db, sid)
    if sid:
        await audit.record_now(
            db,
            clock,
            action="logout",
            actor=actor if isinstance(actor, Actor) else None,
            ip=client_ip(request),
        )
    request.clear_session()
    request.set_session({FLASH_KEY: "You are signed out."})
    return Redirect(
        path="/login", status_code=303, cookies=[session_cookie(request, "", max_age=0)]
    )
