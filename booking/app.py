"""Composition root: `create_app(settings)` builds the Litestar app and wires everything."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from billing.web import billing_routes
from booking import PROJECT_ROOT, jobs, payments
from booking.clock import Clock, SystemClock
from booking.config import Settings
from booking.db import Database
from booking.kernel.errors import ServiceError
from booking.logs import RequestContextMiddleware
from booking.ratelimit import limiter_for
from booking.web import live, ops, problems
from booking.web.admin_pages import admin_routes
from booking.web.admission import WriteAdmission
from booking.web.api.routes import api_router
from booking.web.approval_pages import approval_routes
from booking.web.auth_pages import auth_routes
from booking.web.deps import provide_clock, provide_db, provide_page_actor
from booking.web.inputs import StrictRequest, ids_in_range
from booking.web.outbox_pages import outbox_routes
from booking.web.pages import page_routes, template_globals
from booking.web.records_pages import records_routes
from booking.web.roster_pages import roster_routes
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

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings, application_name="booking-web")
        app.state.db = db
        app.state.limiter = limiter_for(settings.redis_url)
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

    channels = live.channels_plugin(settings)
    key = hashlib.sha256(settings.secret_key.encode()).digest()
    secure_cookies = settings.base_url.startswith("https://")
    session_config = CookieBackendConfig(
        secret=key,
        key="booking_session",
        max_age=12 * 3600,
        httponly=True,
        secure=secure_cookies,
        samesite="lax",
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=secure_cookies,
        cookie_samesite="lax",
        exclude=["/api/", "/health", "/ready", "/webhooks/"],
    )

    def engine_callback(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals.update(template_globals(settings))

    exception_handlers: dict[Any, Any] = {
        ServiceError: problems.service_error_handler,
        ValidationException: problems.validation_error_handler,
        HTTPException: problems.http_error_handler,
        500: problems.internal_error_handler,
    }

    app = Litestar(
        route_handlers=[
            ops.health,
            ops.favicon,
            ops.ready,
            api_router(),
            *page_routes(),
            *outbox_routes(),
            *approval_routes(),
            *auth_routes(),
            *admin_routes(),
            *roster_routes(),
            *records_routes(),
            # Billing's pages and the Stripe webhook; booking's listener rides on the port.
            *billing_routes(actor_provider=provide_page_actor, port=payments.port(settings)),
            live.live,
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], include_in_schema=False
            ),
        ],
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "clock": Provide(provide_clock, sync_to_thread=False),
        },
        state=State({"settings": settings, "clock": clock}),
        lifespan=[lifespan],
        plugins=[channels],
        middleware=[session_config.middleware],
        csrf_config=csrf,
        template_config=TemplateConfig(
            directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=engine_callback
        ),
        exception_handlers=exception_handlers,
        # Bad input from outside is refused here, once for every route (booking/web/inputs.py).
        request_class=StrictRequest,
        guards=[ids_in_range],
        openapi_config=OpenAPIConfig(
            title="Workshop booking API",
            version="1",
            path="/api/v1",
            render_plugins=[ScalarRenderPlugin(path="/docs")],
            description="Book places on training sessions, manage waitlists and rosters.",
        ),
        debug=False,
        # Logging is configured by the process (booking/logs.py: JSON lines with the request
        # id), not by Litestar, which would replace it with its own format.
        logging_config=None,
    )
    # Outermost, around Litestar's own exception handling, so that every response (404s and
    # errors included) carries the request id and is logged once with its status and duration.
    # State-changing requests are admitted first come, first served, as many at a time as
    # the database pool has connections (booking/web/admission.py).
    app.asgi_handler = RequestContextMiddleware(
        SecurityMiddleware(
            WriteAdmission(app.asgi_handler, limit=settings.db_pool_size),
            base_url=settings.base_url,
        )
    )
    return app
