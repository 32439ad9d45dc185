"""Workload F, the bare framework: a Litestar app whose one route returns a small constant.

Served by the same uvicorn command and settings as the booking app, so the ratio of booking
throughput to this shows what the booking work itself costs:

    python -m uvicorn --factory bench.bare_app:app_factory
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/constant")
async def constant() -> dict[str, str]:
    return {"status": "ok"}


def app_factory() -> Litestar:
    return Litestar(route_handlers=[constant], debug=False)
