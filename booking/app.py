"""Composition root: `create_app(settings)` builds the Litestar app and wires everything."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp

from billing.web import billing_routes
from booking import PROJECT_ROOT, jobs, payments, people
from booking.clock import Clock, SystemClock
from booking.config import Settings
from booking.db import Database
from booking.kernel.errors import ServiceError
from booking.logs import RequestContextMiddleware
from booking.ratelimit import limiter_for
from booking.web import live, ops, problems
from booking.web.admission import WriteAdmission
from booking.web.api import contract
from booking.web.api.router import api_router
from booking.web.deps import provide_clock, provide_db, provide_page_actor
from booking.web.inputs import StrictRequest, ids_in_range
from booking.web.pages.formatting import template_globals
from booking.web.pages.routes import page_routes
from booking.web.security import SecurityMiddleware

STATIC_DIR = PROJECT_ROOT / "booking" / "static"
TEMPLATE_DIR = PROJECT_ROOT / "templates"


def create_app(
    settings: Settings, *, clock: Clock | None = None, run_worker: bool | None = None
) -> Litestar:
    """Build the app. The engine is created in the lifespan, on the server's own event loop."""
    settings.require_secret_key()
    clock = clock or SystemClock()
    worker_inline = settings.worker == "inline" if run_worker is None else run_worker
    channels = live.channels_plugin(settings)
    app = Litestar(
        route_handlers=_route_handlers(settings),
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "clock": Provide(provide_clock, sync_to_thread=False),
        },
        state=State({"settings": settings, "clock": clock}),
        lifespan=[_lifespan(settings, clock, channels, worker_inline=worker_inline)],
        plugins=[channels],
        middleware=[_session_cookie(settings).middleware],
        csrf_config=_csrf(settings),
        template_config=_templates(settings),
        exception_handlers=_exception_handlers(),
        # Bad input from outside is refused here, once for every route (booking/web/inputs.py).
        request_class=StrictRequest,
        before_request=ids_in_range,
        openapi_config=contract.openapi_config(),
        debug=False,
        # Logging is configured by the process (booking/logs.py: JSON lines with the request
        # id), not by Litestar, which would replace it with its own format.
        logging_config=None,
    )
    # Security, tags and problem responses for every API operation's document.
    contract.apply(app)
    app.asgi_handler = _outermost(app.asgi_handler, settings)
    return app


def _route_handlers(settings: Settings) -> list[Any]:
    return [
        ops.health,
        ops.favicon,
        ops.ready,
        api_router(),
        *page_routes(),
        # Billing's pages and the Stripe webhook; booking's listener rides on the port.
        *billing_routes(actor_provider=provide_page_actor, port=payments.port(settings)),
        live.live,
        create_static_files_router(
            path="/static", directories=[STATIC_DIR], include_in_schema=False
        ),
    ]


def _lifespan(
    settings: Settings, clock: Clock, channels: ChannelsPlugin, *, worker_inline: bool
) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings, application_name="booking-web")
        app.state.db = db
        app.state.limiter = limiter_for(settings.redis_url)
        app.state.remembered_tokens = people.RememberedTokens()
        live.connect(db, channels)
        try:
            # A database that is still starting up does not stop the app: retry with backoff.
            await db.wait_until_reachable(settings.db_connect_retry_seconds)
        except BaseException:
            await db.dispose()
            raise
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        if worker_inline:
            task = asyncio.create_task(jobs.run_forever(db, clock, settings, stop=stop))
        try:
            yield
        finally:
            # The server runs this after in-flight requests have finished (uvicorn waits for
            # them, up to BOOKING_SHUTDOWN_TIMEOUT); the worker finishes its send in progress
            # and releases the rest of its claims before the engine is closed.
            if task is not None:
                await jobs.stop_gracefully(task, stop, settings.shutdown_timeout)
            await app.state.limiter.aclose()
            await db.dispose()

    return lifespan


# Paths no browser form posts to and no page is served from. Litestar searches a path for these
# patterns anywhere (`findall`), so each is anchored: "/webhooks/" alone also matched the
# administrators' "/admin/webhooks/…" forms, which went without their CSRF check.
_NO_BROWSER_STATE = ["^/api/", "^/health$", "^/ready$", "^/webhooks/"]


def _session_cookie(settings: Settings) -> CookieBackendConfig:
    return CookieBackendConfig(
        secret=hashlib.sha256(settings.secret_key.encode()).digest(),
        key="booking_session",
        max_age=12 * 3600,
        httponly=True,
        secure=settings.base_url.startswith("https://"),
        samesite="lax",
        # Only the sign-in pages keep anything in it; the API, probes and webhooks never read
        # it, so they skip loading and re-signing the cookie (as they skip CSRF).
        exclude=_NO_BROWSER_STATE,
    )


def _csrf(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.base_url.startswith("https://"),
        cookie_samesite="lax",
        exclude=_NO_BROWSER_STATE,
    )


def _templates(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    def engine_callback(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals.update(template_globals(settings))

    return TemplateConfig(
        directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=engine_callback
    )


def _exception_handlers() -> dict[Any, Any]:
    return {
        ServiceError: problems.service_error_handler,
        ValidationException: problems.validation_error_handler,
        HTTPException: problems.http_error_handler,
        500: problems.internal_error_handler,
    }


def _outermost(handler: ASGIApp, settings: Settings) -> ASGIApp:
    """Outermost, around Litestar's own exception handling, so that every response (404s and
    errors included) carries the request id and is logged once with its status and duration.
    State-changing requests are admitted first come, first served, as many at a time as the
    database pool has connections (booking/web/admission.py)."""
    return RequestContextMiddleware(
        SecurityMiddleware(
            WriteAdmission(handler, limit=settings.db_pool_size),
            base_url=settings.base_url,
        )
    )
