"""The database driver itself, for the few statements every booking runs (`bookings.lean`).

A statement through SQLAlchemy costs ~240 µs of CPU here before the driver sees it (the
execution context, the greenlet hop, result processing; 420 µs for an ORM entity), against
~55 µs for the same statement sent by asyncpg (bench/README.md, "The lean booking path"). So the
booking path's handful of statements go to the driver of a connection checked out from the same
pool: the same connections, the same pool limits and idle ping, the same SQLite write lock.

Statements are written once, as SQLAlchemy Core, and compiled once per dialect: the driver gets
the SQL SQLAlchemy would have sent. Values are converted where the two differ: SQLite keeps a
timestamp as text in UTC and a boolean as 0/1 (as SQLAlchemy stores them) and gives JSON as
text (`entity`). Only asyncpg and aiosqlite are spoken (`speaks`): with another driver the
caller takes its SQLAlchemy path.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, TypeVar

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, Date, inspect
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement

from booking.db import Database, is_unavailable

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

Row = Mapping[str, Any]
M = TypeVar("M")
T = TypeVar("T")


class Driver:
    """One transaction's connection, spoken to through its driver. Statements are SQLAlchemy
    Core statements, compiled once per dialect (`_compiled`) and sent with their values in the
    compiled order."""

    def __init__(self, connection: Any, engine: Engine) -> None:
        self._conn = connection
        self._dialect = dialect = engine.dialect
        # The engine's `before_cursor_execute` listeners hear of these statements too (query
        # counts in the tests and the benchmark; `db_values` has nothing to check without a
        # compiled context).
        self._heard = engine.dispatch.before_cursor_execute
        self.sqlite = dialect.name == "sqlite"
        # Live-update channels to publish once the transaction commits (as `db.announce`).
        self.events: set[str] = set()

    def _sql(
        self, stmt: ClauseElement, params: Mapping[str, Any], *, heard: bool = True
    ) -> tuple[str, list[Any]]:
        text, names, defaults = _compiled(stmt, self._dialect)
        args = [params[n] if n in params else defaults[n] for n in names]
        if heard:
            self._heard(None, None, text, args, None, False)
        if self.sqlite:
            args = [stored_time(a) if isinstance(a, datetime) else a for a in args]
        return text, args

    async def row(self, stmt: ClauseElement, **params: Any) -> Row | None:
        text, args = self._sql(stmt, params)
        if not self.sqlite:
            return await self._conn.fetchrow(text, *args)  # type: ignore[no-any-return]
        async with self._conn.execute(text, args) as cursor:
            found = await cursor.fetchone()
            if found is None:
                return None
            return dict(zip([d[0] for d in cursor.description], found, strict=True))

    async def rows(self, stmt: ClauseElement, **params: Any) -> list[Row]:
        text, args = self._sql(stmt, params)
        if not self.sqlite:
            return await self._conn.fetch(text, *args)  # type: ignore[no-any-return]
        async with self._conn.execute(text, args) as cursor:
            found = await cursor.fetchall()
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r, strict=True)) for r in found]

    async def execute(self, stmt: ClauseElement, **params: Any) -> None:
        text, args = self._sql(stmt, params)
        if self.sqlite:
            await self._conn.execute(text, args)
        else:
            await self._conn.execute(text, *args)

    async def execute_many(self, stmt: ClauseElement, rows: list[dict[str, Any]]) -> None:
        """The statement once per set of values (the driver's executemany)."""
        if not rows:
            return
        sent = [self._sql(stmt, r, heard=i == 0) for i, r in enumerate(rows)]
        await self._conn.executemany(sent[0][0], [args for _, args in sent])

    async def value(self, stmt: ClauseElement, **params: Any) -> Any:
        found = await self.row(stmt, **params)
        return None if found is None else next(iter(found.values()))

    async def in_thread(self, work: Callable[[InThread], T]) -> T:
        """SQLite: `work`'s statements, run one after another in aiosqlite's own thread — one
        hop between threads for all of them instead of one each (the hops were most of a
        booking's CPU on SQLite). Heard by the listeners once `work` is done."""
        assert self.sqlite, "PostgreSQL has no thread to hop to: await each statement"
        sent: list[tuple[str, list[Any]]] = []
        try:
            # aiosqlite's own way to run a function in its thread, with its sqlite3 connection.
            return await self._conn._execute(  # type: ignore[no-any-return]
                lambda: work(InThread(self, self._conn._conn, sent))
            )
        finally:
            for text, args in sent:
                self._heard(None, None, text, args, None, False)


class InThread:
    """A `Driver`'s statements, synchronously, on SQLite's connection in its worker thread."""

    def __init__(self, outer: Driver, connection: Any, sent: list[tuple[str, list[Any]]]) -> None:
        self._outer = outer
        self._conn = connection
        self._sent = sent

    def _run(self, stmt: ClauseElement, params: Mapping[str, Any]) -> Any:
        text, args = self._outer._sql(stmt, params, heard=False)
        self._sent.append((text, args))
        return self._conn.execute(text, args)

    def row(self, stmt: ClauseElement, **params: Any) -> Row | None:
        cursor = self._run(stmt, params)
        found = cursor.fetchone()
        names = [d[0] for d in cursor.description] if cursor.description else []
        cursor.close()
        return None if found is None else dict(zip(names, found, strict=True))

    def rows(self, stmt: ClauseElement, **params: Any) -> list[Row]:
        cursor = self._run(stmt, params)
        names = [d[0] for d in cursor.description]
        found: list[Row] = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        cursor.close()
        return found

    def value(self, stmt: ClauseElement, **params: Any) -> Any:
        found = self.row(stmt, **params)
        return None if found is None else next(iter(found.values()))

    def execute(self, stmt: ClauseElement, **params: Any) -> None:
        self._run(stmt, params).close()

    def execute_many(self, stmt: ClauseElement, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        sent = [self._outer._sql(stmt, r, heard=False) for r in rows]
        self._sent.append(sent[0])
        self._conn.executemany(sent[0][0], [args for _, args in sent]).close()


# A use case's statements as a program: a generator that yields each statement it needs (the
# method to run it with, the statement, its values) and is sent the result. `run` drives it: on
# PostgreSQL each statement is awaited in turn; on SQLite the whole program runs in aiosqlite's
# thread, one hop for all its statements, as `Driver.in_thread`. The same code for both, and
# no statement's result can be used before it is known.
Step = tuple[str, ClauseElement, Any]
Steps = Generator[Step, Any, T]


def ask(method: str, stmt: ClauseElement, **params: Any) -> Generator[Step, Any, Any]:
    """One statement of a program: `found = yield from ask("row", STATEMENT, id=1)`."""
    return (yield (method, stmt, params))


def ask_many(stmt: ClauseElement, rows: list[dict[str, Any]]) -> Generator[Step, Any, None]:
    """The statement once per set of values (the driver's executemany)."""
    yield ("execute_many", stmt, rows)


async def run(d: Driver, program: Steps[T]) -> T:
    """Drive a program of statements on this transaction's connection (see `Step`)."""
    if d.sqlite:
        return await d.in_thread(partial(_run_in_thread, program))
    result: Any = None
    try:
        while True:
            method, stmt, params = program.send(result)
            if method == "execute_many":
                await d.execute_many(stmt, params)
                result = None
            else:
                result = await getattr(d, method)(stmt, **params)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _run_in_thread(program: Steps[T], t: InThread) -> T:
    result: Any = None
    try:
        while True:
            method, stmt, params = program.send(result)
            if method == "execute_many":
                t.execute_many(stmt, params)
                result = None
            else:
                result = getattr(t, method)(stmt, **params)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


_CACHE: dict[tuple[int, str], tuple[str, tuple[str, ...], dict[str, Any]]] = {}


def _compiled(stmt: ClauseElement, dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The statement's SQL for this dialect, its parameters' names in order, and the values
    it carries itself. (No expanding `IN`: a list of constants goes in as literal columns.)"""
    key = (id(stmt), dialect.name)
    found = _CACHE.get(key)
    if found is None:
        compiled: Any = stmt.compile(dialect=dialect)
        text = str(compiled)
        # Values SQLAlchemy renders into the SQL at execution (an `aggregate_strings`
        # separator), rendered here once.
        inline = {compiled.bind_names[b]: b for b in compiled.literal_execute_params}
        for name, bind in inline.items():
            literal = compiled.render_literal_value(bind.effective_value, bind.type)
            text = text.replace(f"__[POSTCOMPILE_{name}]", literal)
        if "__[POSTCOMPILE_" in text:
            raise ValueError(f"an expanding parameter the driver cannot send: {text}")
        names = tuple(n for n in compiled.positiontup or () if n not in inline)
        found = _CACHE[key] = (text, names, dict(compiled.params))
    return found


def stored_time(value: datetime) -> str:
    """A timestamp as SQLAlchemy keeps it in SQLite: UTC, no offset, microseconds."""
    return value.astimezone(UTC).strftime(_SQLITE_TIME)


def read_time(value: Any) -> datetime | None:
    """A timestamp as read: a datetime from asyncpg, text from SQLite or from inside JSON."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if value is not None and value.tzinfo else value
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def entity(model: type[M], row: Row, prefix: str, *, sqlite: bool) -> M:
    """A transient instance of `model` (never added to a session) from the row's columns named
    `prefix` + attribute: for the code that takes model objects (views, domain facts). Its
    values go straight into the instance's dict, as the ORM's loading does, not through the
    attribute events a constructor fires (`transient`)."""
    return transient(
        model,
        {key: convert(row[prefix + key]) for key, convert in _converters(model, sqlite=sqlite)},
    )


def transient(model: type[M], values: dict[str, Any]) -> M:
    """`model(**values)` without the attribute events the constructor fires for each value
    (a fifth of the lean booking's CPU under the profiler): the values go straight into the
    instance's dict, as the ORM's own loading puts them. For objects never added to a session."""
    instance: M = inspect(model).class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


_CONVERTERS: dict[tuple[type[Any], bool], list[tuple[str, Callable[[Any], Any]]]] = {}


def _converters(model: type[Any], *, sqlite: bool) -> list[tuple[str, Callable[[Any], Any]]]:
    found = _CONVERTERS.get((model, sqlite))
    if found is None:
        found = _CONVERTERS[(model, sqlite)] = [
            (attr.key, _converter(attr.columns[0].type, sqlite=sqlite))
            for attr in inspect(model).column_attrs
        ]
    return found


def _same(value: Any) -> Any:
    return value


def _converter(type_: Any, *, sqlite: bool) -> Callable[[Any], Any]:
    if isinstance(type_, DateTimeUTC):
        return read_time
    if not sqlite:
        return _same
    if isinstance(type_, JSON):
        return _read_json
    if isinstance(type_, Boolean):
        return lambda v: None if v is None else bool(v)
    if isinstance(type_, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    return _same


def _read_json(value: Any) -> Any:
    return json.loads(value) if value is not None else None


def speaks(db: Database) -> bool:
    """Whether the engine's driver is one this module speaks."""
    return db.engine.dialect.driver in ("asyncpg", "aiosqlite")


@asynccontextmanager
async def transaction(db: Database) -> AsyncIterator[Driver]:
    """One writing transaction on the driver: committed when the block ends, rolled back when it
    raises; on SQLite `BEGIN IMMEDIATE` after this process's write lock (as `db.transaction`).
    Live-update channels noted in `Driver.events` are published after the commit. The driver's
    own errors come out as SQLAlchemy's (`_translated`), so retries and 503s work as elsewhere."""
    async with AsyncExitStack() as stack:
        if db.write_lock is not None:
            await stack.enter_async_context(db.write_lock)
        conn = await stack.enter_async_context(db.engine.connect())
        try:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            driver = Driver(raw, db.engine.sync_engine)
            if driver.sqlite:
                await raw.execute("BEGIN IMMEDIATE")
                try:
                    yield driver
                except BaseException:
                    await raw.execute("ROLLBACK")
                    raise
                await raw.execute("COMMIT")
            else:
                async with raw.transaction():
                    yield driver
        except Exception as exc:
            await _give_up_on_driver_error(conn, exc)
            raise
    db.publish(driver.events)


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[Driver]:
    """A connection for one read statement, outside any transaction (its own snapshot; on
    SQLite no lock is taken, so it never waits for a writer)."""
    async with db.engine.connect() as conn:
        try:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            yield Driver(raw, db.engine.sync_engine)
        except Exception as exc:
            await _give_up_on_driver_error(conn, exc)
            raise


async def _give_up_on_driver_error(conn: AsyncConnection, exc: Exception) -> None:
    """After an error from the driver itself, the connection is closed rather than pooled: the
    pool's reset cannot tell (its adapter never saw this transaction), and a connection cut in
    the middle of a statement must not serve the next request. The error is raised again as
    SQLAlchemy's (`_translated`)."""
    translated = _translated(exc)
    if translated is exc:
        return
    with suppress(Exception):
        await conn.invalidate()
    raise translated from exc


# asyncpg's errors for a connection that is closed, or was cut while a statement or its error
# was still under way ("cannot switch to state …; another operation is in progress"): the
# database went away under the request, as with a failover, so a 503 like any unavailability.
# (And sqlite3's `OperationalError`: the database is locked or cannot be opened.)
_CONNECTION_BROKEN = ("InterfaceError", "InternalClientError", "OperationalError")


def _translated(exc: Exception) -> Exception:
    """A driver's error as SQLAlchemy would have raised it; anything else unchanged."""
    module = type(exc).__module__
    if not (module.startswith(("asyncpg", "sqlite3")) or isinstance(exc, OSError)):
        return exc
    if is_unavailable(exc) or isinstance(exc, OSError) or type(exc).__name__ in _CONNECTION_BROKEN:
        return OperationalError(None, None, exc, hide_parameters=True)
    code = getattr(exc, "sqlstate", None)
    if (isinstance(code, str) and code.startswith("23")) or type(exc).__name__ == "IntegrityError":
        return IntegrityError(None, None, exc, hide_parameters=True)
    return DBAPIError(None, None, exc, hide_parameters=True)


__all__ = [
    "Driver",
    "InThread",
    "entity",
    "read_time",
    "reading",
    "speaks",
    "stored_time",
    "transaction",
    "transient",
]
