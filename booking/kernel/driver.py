"""The database driver itself, for the few statements every booking runs (`bookings.lean`).

A statement through SQLAlchemy costs ~240 µs of CPU here before the driver sees it (the
execution context, the greenlet hop, result processing; 420 µs for an ORM entity), against
~55 µs for the same statement sent by asyncpg (bench/README.md, "The lean booking path"). So the
booking path's handful of statements go to the driver of a connection checked out from the same
pool: the same connections, the same pool limits and idle ping, the same SQLite write lock.

Statements are written once, as SQLAlchemy Core, and compiled once per dialect: the driver gets
the SQL SQLAlchemy would have sent. Values are converted where the two differ: SQLite keeps a
timestamp as text in UTC and a boolean as 0/1 (as SQLAlchemy stores them) and gives JSON as
text (`driver_values`). Only asyncpg and aiosqlite are spoken (`speaks`): with another driver the
caller takes its SQLAlchemy path.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import greenlet_spawn

from booking.db import Database, is_unavailable, note_if_cut
from booking.kernel import tx
from booking.kernel.driver_values import Row, entity, read_time, stored_time, transient

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
        # SQLite: `BEGIN IMMEDIATE` waits to go with the first statements to aiosqlite's thread
        # (`transaction`: one hop fewer); whether it has begun.
        self._begin_first = False
        self.begun = False

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

    # On SQLite each method is one hop to aiosqlite's thread (`in_thread`), not one per step
    # of aiosqlite's cursor (execute, fetch, close: three).
    async def row(self, stmt: ClauseElement, **params: Any) -> Row | None:
        if self.sqlite:
            return await self.in_thread(lambda t: t.row(stmt, **params))
        text, args = self._sql(stmt, params)
        return await self._conn.fetchrow(text, *args)  # type: ignore[no-any-return]

    async def rows(self, stmt: ClauseElement, **params: Any) -> list[Row]:
        if self.sqlite:
            return await self.in_thread(lambda t: t.rows(stmt, **params))
        text, args = self._sql(stmt, params)
        return await self._conn.fetch(text, *args)  # type: ignore[no-any-return]

    async def execute(self, stmt: ClauseElement, **params: Any) -> None:
        if self.sqlite:
            return await self.in_thread(lambda t: t.execute(stmt, **params))
        text, args = self._sql(stmt, params)
        await self._conn.execute(text, *args)

    async def execute_many(self, stmt: ClauseElement, rows: list[dict[str, Any]]) -> None:
        """The statement once per set of values (the driver's executemany)."""
        if self.sqlite:
            return await self.in_thread(lambda t: t.execute_many(stmt, rows))
        if not rows:
            return
        sent = [self._sql(stmt, r, heard=i == 0) for i, r in enumerate(rows)]
        await self._conn.executemany(sent[0][0], [args for _, args in sent])

    async def value(self, stmt: ClauseElement, **params: Any) -> Any:
        found = await self.row(stmt, **params)
        return None if found is None else next(iter(found.values()))

    async def in_thread(self, work: Callable[[InThread], T], *, commit: bool = False) -> T:
        """SQLite: `work`'s statements, run one after another in aiosqlite's own thread — one
        hop between threads for all of them instead of one each (the hops were most of a
        booking's CPU on SQLite). Heard by the listeners once `work` is done. With `commit`, the
        transaction is committed in the same hop once `work` returns: the last of its work."""
        assert self.sqlite, "PostgreSQL has no thread to hop to: await each statement"
        sent: list[tuple[str, list[Any]]] = []
        begin, self._begin_first = self._begin_first, False

        def job() -> T:
            connection = self._conn._conn
            if begin:
                connection.execute("BEGIN IMMEDIATE").close()
                self.begun = True
            done = work(InThread(self, connection, sent))
            if commit and self.begun:
                # The transaction's COMMIT in the same hop (`transaction` then has none to send).
                connection.execute("COMMIT").close()
                self.begun = False
            return done

        try:
            # aiosqlite's own way to run a function in its thread, with its sqlite3 connection.
            return await self._conn._execute(job)  # type: ignore[no-any-return]
        finally:
            for text, args in sent:
                self._heard(None, None, text, args, None, False)


class InThread:
    """A `Driver`'s statements, synchronously, on SQLite's connection in its worker thread."""

    def __init__(self, outer: Driver, connection: Any, sent: list[tuple[str, list[Any]]]) -> None:
        self._outer = outer
        self._conn = connection
        self._sent = sent
        # The transaction's live-update channels (`Driver.events`).
        self.events = outer.events

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


def speaks(db: Database) -> bool:
    """Whether the engine's driver is one this module speaks."""
    return db.engine.dialect.driver in ("asyncpg", "aiosqlite")


@asynccontextmanager
async def transaction(db: Database) -> AsyncIterator[Driver]:
    """One writing transaction on the driver: committed when the block ends, rolled back when it
    raises; on SQLite `BEGIN IMMEDIATE` after this process's write lock (as `db.transaction`),
    sent to aiosqlite's thread with the first statements.
    Live-update channels noted in `Driver.events` are published after the commit. The driver's
    own errors come out as SQLAlchemy's (`_translated`), so retries and 503s work as elsewhere."""
    async with AsyncExitStack() as stack:
        if db.write_lock is not None:
            await stack.enter_async_context(db.write_lock)
        raw = await stack.enter_async_context(_checked_out(db))
        driver = Driver(raw, db.engine.sync_engine)
        tx.reached("working")
        if driver.sqlite:
            driver._begin_first = True
            try:
                yield driver
            except BaseException:
                if driver.begun:
                    await raw.execute("ROLLBACK")
                raise
            tx.reached("committing")
            if driver.begun:
                await raw.execute("COMMIT")
        else:
            transaction = raw.transaction()
            await transaction.start()
            try:
                yield driver
            except BaseException:
                if raw.is_closed():  # the server rolled back: `tx.with_retry` may run it again
                    tx.reached("cut")
                else:  # (a rollback that fails raises the driver's error: the connection goes)
                    await transaction.rollback()
                raise
            tx.reached("committing")
            await transaction.commit()
    db.publish(driver.events)


async def read_row(db: Database, stmt: ClauseElement, **params: Any) -> Row | None:
    """One read statement outside any transaction (its own snapshot). On SQLite in a file it
    runs right here, on the event loop's thread and the database's reading connection
    (`Database.loop_reader`): an indexed read takes less CPU than the hop to aiosqlite's thread
    and back, which every API request's token read paid (bench/README.md, "A read on the
    loop's thread"). Where SQLite would have it wait, it takes that hop instead."""
    reader = db.loop_reader()
    if reader is not None:
        d = Driver(None, db.engine.sync_engine)
        sent: list[tuple[str, list[Any]]] = []
        try:
            found = InThread(d, reader, sent).row(stmt, **params)
        except sqlite3.OperationalError:  # busy or locked: wait in aiosqlite's thread
            pass
        else:
            for text, args in sent:
                d._heard(None, None, text, args, None, False)
            # Then the loop's turn for what waits (bookings' answers from aiosqlite's thread):
            # without it, a rush's requests ran their reads back to back ahead of them, and the
            # seats sold out in 300 ms instead of 110 (bench/README.md).
            await asyncio.sleep(0)
            return found
    async with reading(db) as d:
        return await d.row(stmt, **params)


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[Driver]:
    """A connection for one read statement, outside any transaction (its own snapshot; on
    SQLite no lock is taken, so it never waits for a writer)."""
    async with _checked_out(db) as raw:
        yield Driver(raw, db.engine.sync_engine)


@asynccontextmanager
async def _checked_out(db: Database) -> AsyncIterator[Any]:
    """The driver's own connection, checked out of the engine's pool (its limits, its idle
    ping) without SQLAlchemy's `Connection` around it, and given back when the block ends. A
    block that ends cleanly has committed or rolled back what it began (or, reading, began
    nothing: asyncpg's connections, and ours to SQLite outside `BEGIN`, are in autocommit), so
    the pool's reset on return — a rollback, on SQLite a hop to aiosqlite's thread for nothing —
    is skipped: ~16 µs for the checkout and return instead of ~55 µs (PostgreSQL) and ~165 µs
    (SQLite) through `engine.connect()`. After an error the pool resets the connection as
    usual, and after an error from the driver itself closes it (`_give_up_on_driver_error`)."""
    proxied = await db.engine.raw_connection()
    try:
        yield proxied.driver_connection
    except BaseException as exc:
        note_if_cut(db.engine, exc, proxied.driver_connection)  # the others pinged before use
        await _give_up_on_driver_error(proxied, exc)
        raise
    # Not `close()`: SQLAlchemy's own "returned, already reset", as `Connection.close` tells
    # the pool after it has rolled back itself.
    proxied._close_special(transaction_reset=True)


async def _give_up_on_driver_error(proxied: PoolProxiedConnection, exc: BaseException) -> None:
    """After an error the connection goes back through the pool's reset; after an error from
    the driver itself it is closed rather than pooled: the reset cannot tell (SQLAlchemy's
    adapter never saw this transaction), and a connection cut in the middle of a statement must
    not serve the next request. The driver's error is raised again as SQLAlchemy's
    (`_translated`)."""
    translated = _translated(exc) if isinstance(exc, Exception) else exc
    if translated is exc:
        with suppress(Exception):
            await greenlet_spawn(proxied.close)
        return
    with suppress(Exception):
        await greenlet_spawn(proxied.invalidate)
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
    "read_row",
    "reading",
    "speaks",
    "stored_time",
    "transaction",
    "transient",
]
