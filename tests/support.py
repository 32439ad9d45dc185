"""Test support: databases built by the migrations, factories, and a live HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from sqlalchemy import select

from booking import catalogue, migrations, people, serving, signing
from booking.catalogue import CourseInput, DateInput, SessionInput
from booking.clock import FixedClock
from booking.config import Settings
from booking.db import Database
from booking.kernel.actors import Actor
from booking.models import AccountRequest

T = TypeVar("T")

PG_URL = os.environ.get(
    "BOOKING_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SECRET = "test-secret-key-" + "x" * 40
# A Monday in early March 2027: before the clocks go forward in Europe/London (28 March).
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LONDON = "Europe/London"

TABLES = (
    "idempotency_keys, outbox, booking_history, bookings, session_facilitators, session_dates, "
    "sessions, rooms, courses, api_tokens, people, org_units"
)


async def postgres_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    import asyncpg

    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "skip with this reason"
        return f"PostgreSQL not reachable at {PG_URL}: {exc!r}"
    await conn.close()
    return None


async def create_pg_database(name: str) -> str:
    import asyncpg

    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{name}"


async def drop_pg_database(name: str) -> None:
    import asyncpg

    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrate(url: str) -> None:
    migrations.upgrade(url)


def fresh_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


async def truncate_pg_url(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # Every table the migrations made (new ones included), not a list that goes stale.
        names = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ]
        if names:
            quoted = ", ".join(f'"{n}"' for n in names)
            await conn.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def empty_sqlite(path: Path) -> str:
    """Delete every row from a migrated SQLite file (faster than copying a fresh one, and the
    URL stays the same, so an app built for it can be reused)."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT IN ('alembic_version', 'sqlite_sequence')"
            )
        ]
        for name in names:
            conn.execute(f'DELETE FROM "{name}"')
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            conn.execute("DELETE FROM sqlite_sequence")
        conn.commit()
    finally:
        conn.close()
    return f"sqlite+aiosqlite:///{path}"


def run_blocking(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a fresh loop in another thread (from sync fixtures,
    which may be set up while the test loop is running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(_call(make))).result()


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


def settings_for(url: str, **overrides: Any) -> Settings:
    return replace(Settings(database_url=url, secret_key=SECRET, worker="off"), **overrides)


# --- factories -------------------------------------------------------------------------------


@dataclass
class World:
    """A small organisation: an admin, a manager with two reports, a trainer, a course."""

    db: Database
    clock: FixedClock
    admin: Actor
    admin_token: str
    course_id: int


async def make_world(db: Database, clock: FixedClock) -> World:
    admin_token = await people.create_admin(db, clock, email="admin@example.org", name="Ada Admin")
    admin = await people.actor_for_token(db, admin_token)
    assert admin is not None
    await people.upsert_org_units(
        db,
        clock,
        admin,
        [
            people.OrgUnitInput("ORG", "The Council"),
            people.OrgUnitInput("ADULT", "Adult Services", "ORG"),
            people.OrgUnitInput("CHILD", "Children's Services", "ORG"),
        ],
    )
    await people.upsert_people(
        db,
        clock,
        admin,
        [
            people.PersonInput(
                "manager@example.org", "Mo Manager", "P001", None, "ADULT", "Team Manager"
            ),
            people.PersonInput(
                "trainer@example.org",
                "Tia Trainer",
                "P002",
                None,
                "ORG",
                "Trainer",
                roles=["learner", "trainer"],
            ),
            people.PersonInput(
                "lee@example.org",
                "Lee Learner",
                "P003",
                "manager@example.org",
                "ADULT",
                "Social Worker",
            ),
            people.PersonInput(
                "kim@example.org",
                "Kim Learner",
                "P004",
                "manager@example.org",
                "CHILD",
                "Social Worker",
            ),
        ],
    )
    course = await catalogue.create_course(
        db, clock, admin, CourseInput(code="SAFE-1", title="Safeguarding Adults")
    )
    return World(db, clock, admin, admin_token, course.id)


async def make_course(world: World, **fields: Any) -> Any:
    """Mental Health First Aid (MHFA), with whatever else the test needs (price, policy, ...)."""
    return await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="MHFA", title="Mental Health First Aid", **fields),
    )


async def add_budget_holder(world: World, email: str = "bud@example.org") -> None:
    """Bea Budget, a learner who also holds budgets (the billing tests' approver)."""
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                email,
                "Bea Budget",
                "P009",
                None,
                "ORG",
                "Director",
                roles=["learner", "budget_holder"],
            )
        ],
    )


async def actor(db: Database, email: str) -> Actor:
    token = await people.create_token(db, FixedClock(T0), email=email)
    found = await people.actor_for_token(db, token)
    assert found is not None
    return found


async def make_session(
    world: World,
    *,
    capacity: int = 10,
    course_id: int | None = None,
    start: datetime | None = None,
    hours: float = 3,
    waitlist_mode: str = "auto",
    offer_hours: int = 24,
    facilitators: list[str] | None = None,
    **kwargs: Any,
) -> int:
    start = start or (world.clock.now() + timedelta(days=14))
    view = await catalogue.create_session(
        world.db,
        world.clock,
        world.admin,
        course_id or world.course_id,
        SessionInput(
            dates=[DateInput(start, start + timedelta(hours=hours), LONDON)],
            capacity=capacity,
            waitlist_mode=waitlist_mode,
            offer_hours=offer_hours,
            facilitators=facilitators or [],
            **kwargs,
        ),
    )
    return view.id


async def make_learners(world: World, n: int, prefix: str = "rush") -> list[str]:
    emails = [f"{prefix}{i:04d}@example.org" for i in range(n)]
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(e, f"Learner {i}", None, None, "ADULT", "Officer")
            for i, e in enumerate(emails)
        ],
    )
    return emails


# --- a live server ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def live_server(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port (or `port`), in this event loop."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        backlog=2048,
        limit_concurrency=None,
        # As `booking serve`: bounded request headers, and idle connections outlive the
        # clients' own 5 s keep-alive, so a client never reuses one the server is closing.
        **serving.uvicorn_options(settings_for("sqlite://")),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def client(base_url: str, token: str | None = None, **kw: Any) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60, **kw)


async def actor_for_service(db: Database, name: str = "lms") -> Actor:
    token = await people.create_token(db, FixedClock(T0), service=name, scope="records")
    found = await people.actor_for_token(db, token)
    assert found is not None
    return found


def days(n: int) -> timedelta:
    return timedelta(days=n)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def empty_sqlite_url(url: str) -> None:
    """Empty the SQLite database behind `url` (see `empty_sqlite`)."""
    empty_sqlite(Path(url.partition(":///")[2]))


async def waiting_account_request(world: World, email: str = "requester@example.net") -> int:
    """A confirmed account request from the public form, waiting in the administrators' queue."""
    settings = settings_for("sqlite://")
    email = email.lower()
    sent = people.AccountRequestInput(
        name="Rae Requester",
        email=email,
        organisation="Partner Trust",
        job_role="Carer",
        staff_type="external",
        reason="Moving and handling training",
    )
    await people.request_account(world.db, world.clock, settings, sent, ip=None)
    async with world.db.reading() as s:
        request_id = await s.scalar(select(AccountRequest.id).where(AccountRequest.email == email))
    assert request_id is not None
    token = signing.sign(
        SECRET,
        "account-request",
        {"r": request_id, "e": email},
        world.clock.now() + timedelta(days=1),
    )
    await people.confirm_account_request(world.db, world.clock, settings, token, ip=None)
    return request_id
