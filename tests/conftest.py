"""Fixtures: every database is built by `alembic upgrade head`, on SQLite and on PostgreSQL.

PostgreSQL tests run against BOOKING_TEST_POSTGRES_URL (default the local `test` database's
server) in a database of their own, and skip with the reason when no server answers.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from booking.clock import FixedClock
from booking.db import Database
from tests import support


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    support.migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    reason = support.run_blocking(support.postgres_available)
    if reason:
        if os.environ.get("CI") and os.environ.get("BOOKING_REQUIRE_POSTGRES", "1") == "1":
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    name = f"booking_test_{os.getpid()}"
    url = support.run_blocking(lambda: support.create_pg_database(name))
    support.run_blocking(lambda: asyncio.to_thread(support.migrate, url))
    yield url
    support.run_blocking(lambda: support.drop_pg_database(name))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(support.T0)


@pytest.fixture(scope="session")
def sqlite_shared(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file for the session, emptied before each test that uses it."""
    path = tmp_path_factory.mktemp("shared") / "booking.db"
    support.fresh_sqlite(sqlite_template, path)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, sqlite_shared: Path) -> Iterator[str]:
    """A migrated, empty database on each backend (the same URL for every test, so apps built
    for it can be reused)."""
    if request.param == "sqlite":
        yield support.empty_sqlite(sqlite_shared)
        return
    url: str = request.getfixturevalue("pg_url")
    support.run_blocking(lambda: support.truncate_pg_url(url))
    yield url


@pytest.fixture
def pg_only_url(pg_url: str) -> Iterator[str]:
    """An empty PostgreSQL database (for tests that only make sense there)."""
    support.run_blocking(lambda: support.truncate_pg_url(pg_url))
    yield pg_url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(support.settings_for(db_url))
    yield database
    await database.dispose()


@pytest.fixture
async def world(db: Database, clock: FixedClock) -> support.World:
    return await support.make_world(db, clock)


# The tests that share the one local Redis (rate-limit counters, live-update channels, which are
# global across Redis's numbered databases) run in the same worker when the suite runs on
# several (`pytest -n 2 --dist loadgroup`, as ./scripts/test does), so none sees another's counts.
REDIS_MODULES = frozenset({"test_live.py", "test_bulk_booking.py", "test_booking_rate_limits.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in REDIS_MODULES:
            item.add_marker(pytest.mark.xdist_group("redis"))
