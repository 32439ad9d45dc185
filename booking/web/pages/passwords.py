"""Forgotten passwords: asking for a reset link, and setting a new password with it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking.clock import Clock
from booking.db import Database
from booking.kernel.errors import InvalidError, NotFoundError
from booking.people import auth
from booking.ratelimit import PASSWORD_RESET
from booking.web.pages import signin
from booking.web.pages.render import flash, page


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
    return _reset_page(request, token, None)


@post("/password/reset", include_in_schema=False, status_code=200)
async def reset(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Response[Any]:
    form = await request.form()
    token = str(form.get("token", ""))
    password = str(form.get("password", ""))
    if password != str(form.get("confirm", "")):
        return _reset_page(request, token, "The two passwords are not the same.", 422)
    try:
        await auth.reset_password(db, clock, token, password, ip=signin.client_ip(request))
    except (InvalidError, NotFoundError) as exc:
        return _reset_page(request, token, exc.detail, exc.status)
    flash(request, "Your password has been changed. Sign in with it now.")
    return Redirect(path="/login", status_code=303)


def _reset_page(
    request: Request[Any, Any, Any], token: str, error: str | None, status_code: int = 200
) -> Template:
    """The new-password form for the emailed token, with what was wrong with the last try."""
    return page(
        request,
        "booking/password_reset.html",
        actor=None,
        nav="login",
        token=token,
        error=error,
        status_code=status_code,
    )


HANDLERS = [forgot_form, forgot, reset_form, reset]
