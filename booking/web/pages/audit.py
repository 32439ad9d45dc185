"""The administrators' audit log (its own `actor` dependency: it is mounted with the public
pages, next to signing in)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Template

from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.web.deps import provide_page_actor
from booking.web.pages.render import page


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
