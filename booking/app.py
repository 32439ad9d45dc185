"""Composition root: `create_app(settings)` builds the Litestar app and wires everything."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, get
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
from sqlalchemy import text

from booking import PROJECT_ROOT, jobs
from booking.clock import Clock, SystemClock
from booking.config import Settings
from booking.db import Database
from booking.services.errors import ServiceError
from booking.web import problems
from booking.web.api.routes import api_router
from booking.web.approval_pages import approval_routes
from booking.web.deps import provide_clock, provide_db
from booking.web.outbox_pages import outbox_routes
from booking.web.pages import page_routes, template_globals

STATIC_DIR = PROJECT_ROOT / "booking" / "static"
TEMPLATE_DIR = PROJECT_ROOT / "templates"


@get("/health", include_in_schema=False)
async def health(state: State) -> dict[str, str]:
    db: Database = state.db
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "ok"}


def create_app(
    settings: Settings, *, clock: Clock | None = None, run_worker: bool | None = None
) -> Litestar:
    """Build the app. The engine is created in the lifespan, on the server's own event loop."""
    settings.require_secret_key()
    clock = clock or SystemClock()
    worker_inline = settings.worker == "inline" if run_worker is None else run_worker

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings)
        app.state.db = db
        task: asyncio.Task[None] | None = None
        if worker_inline:
            task = asyncio.create_task(jobs.run_forever(db, clock, settings))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await db.dispose()

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
        exclude=["/api/", "/health", "/webhooks/"],
    )

    def engine_callback(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals.update(template_globals(settings))

    exception_handlers: dict[Any, Any] = {
        ServiceError: problems.service_error_handler,
        ValidationException: problems.validation_error_handler,
        HTTPException: problems.http_error_handler,
        500: problems.internal_error_handler,
    }

    return Litestar(
        route_handlers=[
            health,
            api_router(),
            *page_routes(),
            *outbox_routes(),
            *approval_routes(),
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
        middleware=[session_config.middleware],
        csrf_config=csrf,
        template_config=TemplateConfig(
            directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=engine_callback
        ),
        exception_handlers=exception_handlers,
        openapi_config=OpenAPIConfig(
            title="Workshop booking API",
            version="1",
            path="/api/v1",
            render_plugins=[ScalarRenderPlugin(path="/docs")],
            description="Book places on training sessions, manage waitlists and rosters.",
        ),
        debug=False,
    )
