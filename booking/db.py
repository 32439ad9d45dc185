"""Engine and transaction helpers.

Every use case runs in one transaction that the service owns (`transaction(...)`). On SQLite a
transaction that writes must begin IMMEDIATE, or two writers that both read first fail at once with
"database is locked"; on PostgreSQL seat allocation locks the session row instead.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from booking import db_values
from booking.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL SQLSTATEs worth one more try: serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5
# PostgreSQL SQLSTATEs that mean "the database is not answering (for now)", not "your request is
# wrong": connection exceptions (class 08), operator intervention (57P01 admin shutdown by
# pg_terminate_backend or a restart, 57P02 crash, 57P03 cannot connect now — starting up or in
# recovery), query cancelled by the statement timeout (57014), too many connections (53300), and
# a write on a read-only server (25006 — a standby, or a primary just demoted in a failover).
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "57014", "53300", "25006"}
# Waiting for a new connection to open (asyncpg's own default is 60 s).
CONNECT_TIMEOUT_SECONDS = 10

log = logging.getLogger(__name__)


def create_engine(settings: Settings, *, application_name: str = "booking") -> AsyncEngine:
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=10, pool_timeout=60
        )
        _configure_sqlite(engine)
        db_values.install(engine)
        return engine
    max_overflow = (
        settings.db_max_overflow
        if settings.db_max_overflow is not None
        else max(5, settings.db_pool_size)
    )
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=max_overflow,
        # Pinged at checkout only after sitting idle (`_ping_when_idle`), not on every one.
        pool_pre_ping=False,
        pool_timeout=settings.db_pool_timeout,
        connect_args=_connect_args(settings, application_name),
        # Error messages (and so logs) name the statement but not its values: those can be
        # email addresses or token digests.
        hide_parameters=True,
    )
    _ping_when_idle(engine)
    db_values.install(engine)
    return engine


# A connection the server dropped (restart, failover, pg_terminate_backend) while it sat in the
# pool is noticed and replaced at checkout instead of failing a request — but only one that sat
# there longer than this: under load a connection comes back within milliseconds, and pinging it
# would cost a round trip at every checkout (two per booking) for a check a moment old.
IDLE_PING_SECONDS = 2.0
_RETURNED_AT = "returned_at"
# When the server was last seen cutting one of an engine's connections (`note_if_cut`): the others
# it held then were most likely cut with it (a failover, a restart, an administrator ending
# them all), so each of them is pinged at its next checkout, however recently it came back.
_CUT_AT: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def note_if_cut(engine: AsyncEngine, exc: BaseException, raw: Any) -> None:
    """After an error on one of the engine's driver connections (`kernel.driver`; SQLAlchemy's
    own connections invalidate the pool themselves): note a cut (`is_cut`, or asyncpg's
    connection found closed under it)."""
    is_closed = getattr(raw, "is_closed", None)
    if is_cut(exc) or (callable(is_closed) and is_closed()):
        _CUT_AT[engine.sync_engine] = time.monotonic()


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for idle connections only: a failed ping
    raises `DisconnectionError`, and the pool replaces the connection and checks out again."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None:
            return  # new
        if time.monotonic() - returned < IDLE_PING_SECONDS and returned > _CUT_AT.get(
            engine.sync_engine, -1.0
        ):
            return  # back a moment ago, and no cut seen since
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises, replace it
            raise DisconnectionError(f"pooled connection did not answer: {exc!r}") from exc
        if not alive:
            raise DisconnectionError("pooled connection did not answer")


def _connect_args(settings: Settings, application_name: str) -> dict[str, Any]:
    """Statement timeout and application name, in the form the driver takes them."""
    driver = make_url(settings.database_url).get_driver_name()
    timeout_ms = settings.db_statement_timeout_ms
    if driver == "asyncpg":
        server_settings = {"application_name": application_name}
        if timeout_ms > 0:
            server_settings["statement_timeout"] = str(timeout_ms)
        return {"server_settings": server_settings, "timeout": CONNECT_TIMEOUT_SECONDS}
    if driver.startswith("psycopg"):
        options = f"-c statement_timeout={timeout_ms}" if timeout_ms > 0 else ""
        return {
            "application_name": application_name,
            "options": options,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        }
    return {}


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

    def __init__(self, settings: Settings, *, application_name: str = "booking") -> None:
        self.settings = settings
        self.engine = create_engine(settings, application_name=application_name)
        self.is_sqlite = settings.is_sqlite
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.is_sqlite
            else self.engine,
            expire_on_commit=False,
            autoflush=False,
        )
        # Called with the channels a committed transaction announced (live updates).
        self.on_commit: Callable[[list[str]], None] | None = None
        # SQLite has one writer at a time anyway; queueing writers of this process here instead of
        # in SQLite's busy handler keeps a rush orderly and fast.
        self._sqlite_write_lock = asyncio.Lock() if self.is_sqlite else None
        path = settings.sqlite_path()
        self._loop_reader_path = None if path is None or "?" in str(path) else path
        self._loop_reader: sqlite3.Connection | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One writing transaction: commits on success, rolls back on any exception. Live-update
        events the use case announced (`announce`) go out only after the commit."""
        if self._sqlite_write_lock is not None:
            async with self._sqlite_write_lock, self._sessions() as session:
                async with session.begin():
                    yield session
                self._after_commit(session)
        else:
            async with self._sessions() as session:
                async with session.begin():
                    yield session
                self._after_commit(session)

    @property
    def write_lock(self) -> asyncio.Lock | None:
        """This process's SQLite writers' queue (None on PostgreSQL)."""
        return self._sqlite_write_lock

    def _after_commit(self, session: AsyncSession) -> None:
        self.publish(session.info.pop(EVENTS_KEY, None))

    def publish(self, events: set[str] | None) -> None:
        """Publish a committed transaction's live-update channels (`announce`)."""
        if events and self.on_commit is not None:
            try:
                self.on_commit(sorted(events))
            except Exception:  # live updates are a courtesy; the change is already committed
                log.exception("publishing live updates failed")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (deferred on SQLite, so it never waits for writers)."""
        async with self._read_sessions() as session, session.begin():
            yield session

    def loop_reader(self) -> sqlite3.Connection | None:
        """SQLite in a file: this process's connection for a read on the event loop's own
        thread (`kernel.driver.read_row`), opened at first use; None on PostgreSQL or in
        memory. Read only, and it never waits: in WAL mode a read does not wait for writers,
        and where one would (busy timeout 0) it raises, for the caller to take aiosqlite's
        thread as usual."""
        if self._loop_reader is None and self._loop_reader_path is not None:
            conn = sqlite3.connect(
                self._loop_reader_path, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=0")
            self._loop_reader = conn
        return self._loop_reader

    async def dispose(self) -> None:
        if self._loop_reader is not None:
            self._loop_reader.close()
            self._loop_reader = None
        await self.engine.dispose()

    async def ping(self, within: float = 5.0) -> None:
        """`SELECT 1` on a pooled connection; raises if the database does not answer in time."""
        async with asyncio.timeout(within), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def wait_until_reachable(self, within: float) -> None:
        """At start: try to reach the database, with backoff (0.5 s doubling to 5 s), for up to
        `within` seconds; then raise the last error. A database that is still starting up, or
        a network that is not there yet, does not stop the process."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        delay = 0.5
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.ping(within=CONNECT_TIMEOUT_SECONDS)
            except Exception as exc:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    log.error(
                        "the database is not answering after %d attempts; giving up: %s",
                        attempt,
                        describe(exc),
                    )
                    raise
                wait = min(delay, remaining)
                log.warning(
                    "the database is not answering yet (attempt %d); trying again in %.1fs: %s",
                    attempt,
                    wait,
                    describe(exc),
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, 5.0)
                continue
            if attempt > 1:
                log.info("the database answers (after %d attempts)", attempt)
            return

    async def schema_revisions(self) -> set[str]:
        """The Alembic revisions recorded in the database (empty if it was never migrated)."""
        async with self.engine.connect() as conn:
            if not await conn.run_sync(
                lambda sync: sync.dialect.has_table(sync, "alembic_version")
            ):
                return set()
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}


EVENTS_KEY = "booking.events"


def announce(session: AsyncSession, *channels: str) -> None:
    """Say that something on these channels changed, to be published once the transaction
    commits (never before, and not at all if it rolls back)."""
    session.info.setdefault(EVENTS_KEY, set()).update(channels)


def is_retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return code in RETRYABLE_SQLSTATES


def _sqlstate(exc: BaseException) -> str | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def is_unavailable(exc: BaseException) -> bool:
    """True when the error means the database cannot be reached or is not serving right now
    (down, restarting, failing over, overloaded, too slow), as opposed to a bug or a conflict.
    The web layer answers these with 503 and the worker simply tries again at its next tick."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            return True
        code = _sqlstate(exc)
        return code is not None and (code.startswith("08") or code in UNAVAILABLE_SQLSTATES)
    if isinstance(exc, PoolTimeoutError | DisconnectionError):
        return True
    # Opening a new connection fails with the driver's or the socket's own errors.
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    code = _sqlstate(exc)
    if code is not None:
        return code.startswith("08") or code in UNAVAILABLE_SQLSTATES
    return _connection_gone(exc)


def _connection_gone(exc: BaseException) -> bool:
    """asyncpg's own error for a connection closed in the middle of an operation."""
    try:
        from asyncpg.exceptions import ConnectionDoesNotExistError
    except ImportError:  # pragma: no cover - asyncpg is only installed for PostgreSQL
        return False
    return isinstance(exc, ConnectionDoesNotExistError)


# The server ended the connection (an administrator, a failover, a crash): 57P01, 57P02.
CUT_SQLSTATES = {"57P01", "57P02"}


def is_cut(exc: BaseException) -> bool:
    """True when PostgreSQL's connection was lost under a statement — cut by the server, a
    failover or the network — as opposed to the database being slow, full, read-only or
    unreachable (`is_unavailable` covers those too). A transaction cut before its COMMIT was
    sent has been rolled back, so it can run again on a new connection (`kernel.tx`)."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    code = _sqlstate(orig)
    if code is not None:
        return code.startswith("08") or code in CUT_SQLSTATES
    return isinstance(orig, ConnectionResetError | BrokenPipeError) or _connection_gone(orig)


def describe(exc: BaseException) -> str:
    """One line about a database error, without the SQL statement."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else ''}".rstrip(": ")
