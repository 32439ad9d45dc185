"""HTML pages (server-rendered, enhanced with htmx). Filled in by the pages work."""

from __future__ import annotations

from typing import Any

from booking.config import Settings


def page_routes() -> list[Any]:
    return []


def template_globals(settings: Settings) -> dict[str, Any]:
    return {"demo": settings.demo}
