"""Engine and transaction helpers.

Every use case runs in one transaction that the service owns (`transaction(...)`). On SQLite a
transaction that writes must begin IMMEDIATE, or two writers that both read first fail at once with
"database is locked"; on PostgreSQL seat allocation locks the session row instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from booking.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL SQLSTATEs worth one more try: serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=10, pool_timeout=60
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=max(5, settings.db_pool_size),
        pool_pre_ping=True,
        pool_timeout=60,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """SQLAlchemy's documented recipe: take over BEGIN so writers start IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine, the session factory and the transaction helpers a running app owns."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self.is_sqlite = settings.is_sqlite
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.is_sqlite
            else self.engine,
            expire_on_commit=False,
            autoflush=False,
        )
        # SQLite has one writer at a time anyway; queueing writers of this process here instead of
        # in SQLite's busy handler keeps a rush orderly and fast.
        self._sqlite_write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One writing transaction: commits on success, rolls back on any exception."""
        if self._sqlite_write_lock is not None:
            async with self._sqlite_write_lock, self._sessions() as session, session.begin():
                yield session
        else:
            async with self._sessions() as session, session.begin():
                yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (deferred on SQLite, so it never waits for writers)."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def is_retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return code in RETRYABLE_SQLSTATES
