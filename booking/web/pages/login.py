"""Signing in and out: the login page (demo picker, email and password), single sign-on, and
signing out. `signin.py` starts and ends the browser session for each of them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking import oidc, people
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import NotFoundError
from booking.kernel.views import PersonView
from booking.people import auth
from booking.ratelimit import LOGIN
from booking.web.deps import current_actor
from booking.web.pages import signin
from booking.web.pages.forms import form_fields
from booking.web.pages.render import VARY_HTMX, is_htmx, page, safe_next

PENDING_KEY = "oidc"
_ROLE_GROUPS = (
    ("admin", "Administrators"),
    ("trainer", "Trainers"),
    ("budget_holder", "Budget holders"),
    ("learner", "Learners"),
)


def _people_groups(everyone: list[PersonView]) -> list[tuple[str, list[PersonView]]]:
    """Each person once, under their most powerful role."""
    groups: dict[str, list[PersonView]] = {role: [] for role, _ in _ROLE_GROUPS}
    for person in everyone:
        role = next((r for r, _ in _ROLE_GROUPS if r in person.roles), "learner")
        groups[role].append(person)
    return [(label, groups[role]) for role, label in _ROLE_GROUPS if groups[role]]


async def login_page(
    request: Request[Any, Any, Any],
    db: Database,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
    email: str = "",
) -> Template:
    settings: Settings = request.app.state.settings
    groups = _people_groups(await people.list_people(db, active_only=True)) if settings.demo else []
    return page(
        request,
        "booking/login.html",
        actor=await current_actor(request),
        nav="login",
        headers=VARY_HTMX,
        groups=groups,
        next_path=next_path,
        error=error,
        email=email,
        sso=oidc.enabled(settings),
        status_code=status_code,
    )


@get("/login", include_in_schema=False)
async def login_form(
    request: Request[Any, Any, Any],
    db: Database,
    next_: str | None = Parameter(query="next", required=False),
) -> Response[Any]:
    next_path = safe_next(next_)
    if is_htmx(request):
        # An htmx request whose sign-in lapsed was redirected here: load the whole page instead
        # of swapping a login page into a table row.
        return Response(
            content="",
            status_code=200,
            headers={"HX-Redirect": f"/login?next={quote(next_path)}"},
        )
    return await login_page(request, db, next_path=next_path)


@post("/login", include_in_schema=False, status_code=200)
async def login(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Response[Any]:
    settings: Settings = request.app.state.settings
    form = await form_fields(request)
    next_path = safe_next(form.get("next"))
    if settings.demo and form.get("person_id"):
        return await _demo_login(request, db, clock, form.get("person_id", ""), next_path)
    email = form.get("email", "").strip().lower()
    password = form.get("password", "")
    if not email or not password:
        return await login_page(
            request,
            db,
            next_path=next_path,
            email=email,
            error="Enter your email address and password.",
            status_code=422,
        )
    return await _password_login(request, db, clock, email, password, next_path)


async def _demo_login(
    request: Request[Any, Any, Any], db: Database, clock: Clock, person: str, next_path: str
) -> Response[Any]:
    """Demo only: pick anyone. Outside demo mode the field is ignored."""
    try:
        person_id: int | None = int(person)
    except ValueError:
        person_id = None
    actor = await people.actor_for_person(db, person_id) if person_id is not None else None
    if actor is None:
        return await login_page(
            request, db, next_path=next_path, error="Choose who to sign in as.", status_code=422
        )
    return await signin.complete(request, db, clock, actor, "demo", next_path)


async def _password_login(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    email: str,
    password: str,
    next_path: str,
) -> Response[Any]:
    """Failed attempts are counted per address and per client; too many wait (429)."""
    limiter = request.app.state.limiter
    ip = signin.client_ip(request)
    wait = await limiter.blocked(LOGIN, f"email:{email}") or await limiter.blocked(
        LOGIN, f"ip:{ip}"
    )
    if wait:
        await audit.record_now(db, clock, action="login.throttled", actor_label=email, ip=ip)
        response = await login_page(
            request,
            db,
            next_path=next_path,
            email=email,
            status_code=429,
            error=f"Too many failed attempts. Wait {max(1, wait // 60)} minutes and try again, "
            "or reset your password.",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    actor = await auth.check_password(db, clock, email, password)
    if actor is None:
        await limiter.count(LOGIN, f"email:{email}")
        await limiter.count(LOGIN, f"ip:{ip}")
        await audit.record_now(db, clock, action="login.failed", actor_label=email, ip=ip)
        return await login_page(
            request,
            db,
            next_path=next_path,
            email=email,
            status_code=422,
            error="That email address and password do not match an account.",
        )
    await limiter.reset(LOGIN, f"email:{email}")
    return await signin.complete(request, db, clock, actor, "password", next_path)


@post("/logout", include_in_schema=False, status_code=200)
async def logout(request: Request[Any, Any, Any], db: Database, clock: Clock) -> Response[Any]:
    return await signin.sign_out(request, db, clock)


# ---------------------------------------------------------------------------------------------
# Single sign-on (OpenID Connect)


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
        return await login_page(request, db, next_path="/courses", error=str(exc), status_code=400)
    actor = await _person_signed_on(db, claims)
    if actor is None:
        return await _nobody_here(request, db, clock, claims, ip)
    assert pending is not None
    return await signin.complete(request, db, clock, actor, "oidc", pending.next_path)


async def _person_signed_on(db: Database, claims: dict[str, Any]) -> Actor | None:
    return await auth.person_for_claims(
        db,
        auth.Claims(
            email=claims.get("email"),
            personnel_number=claims.get("personnel_number") or claims.get("employee_number"),
            subject=str(claims.get("sub")),
        ),
    )


async def _nobody_here(
    request: Request[Any, Any, Any], db: Database, clock: Clock, claims: dict[str, Any], ip: str
) -> Template:
    """Signed on at the provider, but no account here matches: say so, and record it."""
    await audit.record_now(
        db,
        clock,
        action="login.failed",
        actor_label=str(claims.get("email") or claims.get("sub")),
        ip=ip,
        details={"reason": "no matching person"},
    )
    return await login_page(
        request,
        db,
        next_path="/courses",
        status_code=403,
        error="You signed in, but there is no account here for "
        f"{claims.get('email') or 'you'}. Ask the training team to add you.",
    )


HANDLERS = [login_form, login, logout]
SSO_HANDLERS = [sso_start, sso_callback]
