"""Operations endpoints for load balancers and orchestrators.

- `GET /health`: liveness: the process is up and the database answers `SELECT 1`.
- `GET /ready`: readiness: the database answers *and* its schema is the one this release was
  built for (Alembic's revision in the database against the migration scripts' head). Before
  `booking db upgrade` has run, a new release is not ready and receives no traffic.

A database that is newer than this release (a revision the scripts do not know) counts as ready:
that is the middle of a rolling upgrade, where `booking db upgrade` ran first and the previous
release keeps serving until it is restarted (migrations are written to be compatible with the
release before them; see docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.response import File

from booking import PROJECT_ROOT, migrations
from booking.db import Database, describe, is_unavailable
from booking.web.problems import DATABASE_DOWN, RETRY_AFTER_SECONDS, problem

PROBE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class ReleaseSchema:
    """The revisions this release's migration scripts define."""

    heads: frozenset[str]
    known: frozenset[str]


@functools.cache
def release_schema() -> ReleaseSchema:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config(""))
    return ReleaseSchema(
        heads=frozenset(script.get_heads()),
        known=frozenset(rev.revision for rev in script.walk_revisions()),
    )


def schema_state(in_database: set[str], release: ReleaseSchema) -> str:
    """`at head`, `ahead` (migrated by a newer release), `behind`, or `empty`."""
    if not in_database:
        return "empty"
    if in_database == release.heads:
        return "at head"
    if in_database - release.known:
        return "ahead"
    return "behind"


def _unavailable(detail: str, **extra: Any) -> Response[Any]:
    response = problem(503, detail, title="Not ready", kind="not-ready", **extra)
    response.headers.update({"Retry-After": str(RETRY_AFTER_SECONDS)})
    return response


# Browsers ask for /favicon.ico on their own (for a PDF, or before reading the page's <link>):
# answered from the static folder, cacheable for a week, rather than a 404 on every page.
FAVICON = PROJECT_ROOT / "booking" / "static" / "favicon.ico"
FAVICON_MAX_AGE = 7 * 24 * 3600


@get("/favicon.ico", include_in_schema=False, sync_to_thread=False)
def favicon() -> File:
    return File(
        FAVICON,
        media_type="image/x-icon",
        content_disposition_type="inline",
        headers={"Cache-Control": f"public, max-age={FAVICON_MAX_AGE}"},
    )


@get("/health", include_in_schema=False, cache=False)
async def health(state: State) -> dict[str, str]:
    db: Database = state.db
    # Any failure here is answered 503 by the problem mapping (booking/web/problems.py).
    await db.ping(within=PROBE_TIMEOUT_SECONDS)
    return {"status": "ok"}


@get("/ready", include_in_schema=False, cache=False)
async def ready(state: State) -> Response[Any]:
    db: Database = state.db
    release = await asyncio.to_thread(release_schema)
    try:
        await db.ping(within=PROBE_TIMEOUT_SECONDS)
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            in_database = await db.schema_revisions()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        return _unavailable(DATABASE_DOWN, checks={"database": describe(exc)})
    current = schema_state(in_database, release)
    schema = {
        "state": current,
        "database": sorted(in_database),
        "release": sorted(release.heads),
    }
    if current == "empty":
        return _unavailable(
            "The database has no schema yet: run `booking db upgrade`.",
            checks={"database": "ok", "schema": schema},
        )
    if current == "behind":
        return _unavailable(
            f"The database schema is at {', '.join(sorted(in_database))} but this release needs "
            f"{', '.join(sorted(release.heads))}: run `booking db upgrade`.",
            checks={"database": "ok", "schema": schema},
        )
    return Response({"status": "ready", "checks": {"database": "ok", "schema": schema}})
