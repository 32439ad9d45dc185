"""Single sign-on, password reset pages, and the administrators' audit log."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking import oidc
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError, NotFoundError
from booking.people import auth
from booking.ratelimit import PASSWORD_RESET
from booking.web import signin
from booking.web.deps import provide_page_actor
from booking.web.pages import _login_page, flash, page, safe_next

PENDING_KEY = "oidc"


@get("/login/sso", include_in_schema=False)
async def sso_start(
    request: Request[Any, Any, Any],
    next_: str | None = Parameter(query="next", required=False),
) -> Redirect:
    settings = request.app.state.settings
    if not oidc.enabled(settings):
        raise NotFoundError("Single sign-on is not set up on this site.")
    url, pending = await oidc.start(settings, safe_next(next_))
    request.set_session({**(request.session or {}), PENDING_KEY: asdict(pending)})
    return Redirect(path=url, status_code=303)


@get("/login/sso/callback", include_in_schema=False)
async def sso_callback(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    code: str | None = Parameter(query="code", required=False),
    state_: str | None = Parameter(query="state", required=False),
) -> Response[Any]:
    settings = request.app.state.settings
    if not oidc.enabled(settings):
        raise NotFoundError("Single sign-on is not set up on this site.")
    session = dict(request.session or {})
    saved = session.pop(PENDING_KEY, None)
    # The pending sign-in is spent whatever happens next: a replayed callback finds nothing.
    request.set_session(session)
    pending = oidc.Pending(**saved) if isinstance(saved, dict) else None
    ip = signin.client_ip(request)
    try:
        claims = await oidc.finish(settings, pending, code=code, state=state_)
    except oidc.SignOnError as exc:
        await audit.record_now(
            db, clock, action="login.failed", actor_label="sso", ip=ip, details={"reason": str(exc)}
        )
        return await _login_page(request, db, next_path="/courses", error=str(exc), status_code=400)
    actor = await auth.person_for_claims(
        db,
        auth.Claims(
            email=claims.get("email"),
            personnel_number=claims.get("personnel_number") or claims.get("employee_number"),
            subject=str(claims.get("sub")),
        ),
    )
    if actor is None:
        await audit.record_now(
            db,
            clock,
            action="login.failed",
            actor_label=str(claims.get("email") or claims.get("sub")),
            ip=ip,
            details={"reason": "no matching person"},
        )
        return await _login_page(
            request,
            db,
            next_path="/courses",
            status_code=403,
            error="You signed in, but there is no account here for "
            f"{claims.get('email') or 'you'}. Ask the training team to add you.",
        )
    assert pending is not None
    return await signin.complete(request, db, clock, actor, "oidc", pending.next_path)


@get("/password/forgot", include_in_schema=False)
async def forgot_form(request: Request[Any, Any, Any]) -> Template:
    return page(request, "booking/password_forgot.html", actor=None, nav="login", sent=False)


@post("/password/forgot", include_in_schema=False, status_code=200)
async def forgot(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Template:
    form = await request.form()
    email = str(form.get("email", "")).strip().lower()
    ip = signin.client_ip(request)
    limiter = request.app.state.limiter
    wait = await limiter.blocked(PASSWORD_RESET, f"ip:{ip}") or await limiter.blocked(
        PASSWORD_RESET, f"email:{email}"
    )
    if wait:
        return page(
            request,
            "booking/password_forgot.html",
            actor=None,
            nav="login",
            sent=False,
            error="Too many requests. Please wait a while and try again.",
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    await limiter.count(PASSWORD_RESET, f"ip:{ip}")
    await limiter.count(PASSWORD_RESET, f"email:{email}")
    if email:
        await auth.request_reset(db, clock, request.app.state.settings, email, ip=ip)
    # The same answer whether or not the address has an account.
    return page(request, "booking/password_forgot.html", actor=None, nav="login", sent=True)


@get("/password/reset", include_in_schema=False)
async def reset_form(
    request: Request[Any, Any, Any], token: str = Parameter(query="token", default="")
) -> Template:
    return page(
        request, "booking/password_reset.html", actor=None, nav="login", token=token, error=None
    )


@post("/password/reset", include_in_schema=False, status_code=200)
async def reset(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Response[Any]:
    form = await request.form()
    token = str(form.get("token", ""))
    password = str(form.get("password", ""))
    if password != str(form.get("confirm", "")):
        return page(
            request,
            "booking/password_reset.html",
            actor=None,
            nav="login",
            token=token,
            error="The two passwords are not the same.",
            status_code=422,
        )
    try:
        await auth.reset_password(db, clock, token, password, ip=signin.client_ip(request))
    except (InvalidError, NotFoundError) as exc:
        return page(
            request,
            "booking/password_reset.html",
            actor=None,
            nav="login",
            token=token,
            error=exc.detail,
            status_code=exc.status,
        )
    flash(request, "Your password has been changed. Sign in with it now.")
    return Redirect(path="/login", status_code=303)


@get("/admin/audit", include_in_schema=False, dependencies={"actor": Provide(provide_page_actor)})
async def audit_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    action: str | None = Parameter(query="action", required=False),
) -> Template:
    items = await audit.recent(db, actor, action=(action or "").strip()[:64] or None)
    return page(
        request, "booking/audit.html", actor=actor, nav="audit", items=items, action=action or ""
    )


def auth_routes() -> list[Any]:
    return [
        Router(
            path="/",
            route_handlers=[
                sso_start,
                sso_callback,
                forgot_form,
                forgot,
                reset_form,
                reset,
                audit_page,
            ],
            include_in_schema=False,
        )
    ]
