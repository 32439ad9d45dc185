"""`booking serve | worker | db upgrade | demo | admin create | token create`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from booking.clock import SystemClock
from booking.config import ConfigError, Settings
from booking.db import Database, describe

log = logging.getLogger("booking.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="booking", description="Workshop booking server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app (with the worker inline by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="app processes (uvicorn workers)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="SQLite + demo data: migrate, load demo data if empty, and serve",
    )

    sub.add_parser("worker", help="run the worker on its own (sweeps, outbox delivery)")

    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to the latest schema")
    db_sub.add_parser("check", help="fail if the models and the migrations disagree")

    sub.add_parser("demo", help="load the demo data (migrates first)")

    admin = sub.add_parser("admin", help="administrators")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_create = admin_sub.add_parser("create", help="create or promote an admin; prints a token")
    admin_create.add_argument("--email", required=True)
    admin_create.add_argument("--name", required=True)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    token_create = token_sub.add_parser("create", help="print a new token")
    who = token_create.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="a token acting as this person, with their roles")
    who.add_argument("--service", help="a machine client's token (needs --scope records)")
    token_create.add_argument("--scope", default=None, choices=["records"])

    args = parser.parse_args(argv)
    try:
        demo = bool(getattr(args, "demo", False)) or args.command == "demo"
        settings = Settings.from_env(demo=demo)
        from booking import logs

        logs.configure(settings)
        return _dispatch(args, settings)
    except ConfigError as exc:
        print(f"booking: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from booking.kernel.errors import ServiceError

        if isinstance(exc, ServiceError):
            print(f"booking: {exc.detail}", file=sys.stderr)
            return 1
        raise


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from booking import migrations

    if args.command == "db":
        if args.db_command == "upgrade":
            migrations.upgrade(settings.database_url)
            print("database is at the latest revision")
        else:
            migrations.check(settings.database_url)
            print("models and migrations agree")
        return 0
    if args.command == "demo":
        migrations.upgrade(settings.database_url)
        loaded = asyncio.run(_load_demo(settings))
        print("demo data loaded" if loaded else "demo data already present; nothing loaded")
        return 0
    if args.command == "admin":
        migrations.upgrade(settings.database_url)
        from booking import people

        token = _run(
            settings,
            lambda db: people.create_admin(db, SystemClock(), email=args.email, name=args.name),
        )
        print(f"administrator {args.email.strip().lower()} is ready; API token:")
        print(token)
        return 0
    if args.command == "token":
        from booking import people

        if args.service and args.scope != "records":
            print("booking: service tokens need --scope records", file=sys.stderr)
            return 2
        token = _run(
            settings,
            lambda db: people.create_token(
                db,
                SystemClock(),
                email=args.email,
                service=args.service,
                scope="records" if args.service else "person",
            ),
        )
        print(token)
        return 0
    if args.command == "worker":
        return _worker(settings)
    if args.command == "serve":
        return _serve(args, settings)
    raise AssertionError(args.command)


def _run(settings: Settings, fn):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        db = Database(settings)
        try:
            return await fn(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


async def _load_demo(settings: Settings) -> bool:
    from booking.demo import load_demo

    db = Database(settings)
    try:
        return await load_demo(db, SystemClock())
    finally:
        await db.dispose()


def _worker(settings: Settings) -> int:
    """The worker on its own. SIGTERM or SIGINT stops it gracefully (the send in progress is
    finished, the other claimed messages are released); a second signal stops it at once."""
    from booking import jobs

    async def go() -> int:
        db = Database(settings, application_name="booking-worker")
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            if stop.is_set() and task is not None:
                log.warning("second %s: stopping now", signal.Signals(signum).name)
                task.cancel()
                return
            log.info("%s: finishing the current tick, then stopping", signal.Signals(signum).name)
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            try:
                await db.wait_until_reachable(settings.db_connect_retry_seconds)
            except Exception as exc:
                print(f"booking: the database is not answering: {describe(exc)}", file=sys.stderr)
                return 1
            if stop.is_set():
                return 0
            task = asyncio.create_task(jobs.run_forever(db, SystemClock(), settings, stop=stop))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):  # a second signal
                await jobs.stop_gracefully(task, stop, settings.shutdown_timeout)
            if task.done() and not task.cancelled() and (error := task.exception()) is not None:
                raise error
            return 0
        finally:
            await db.dispose()

    return asyncio.run(go())


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import os

    import uvicorn

    from booking import migrations, serving

    if args.demo:
        migrations.upgrade(settings.database_url)
        if asyncio.run(_load_demo(settings)):
            print("demo data loaded")
        # The app factory reads the environment again in each worker process.
        os.environ["BOOKING_DEMO"] = "1"
    settings.require_secret_key()
    from booking import logs

    log.info(
        "serving on http://%s:%s with %d process(es); worker %s",
        args.host,
        args.port,
        max(1, args.workers),
        "inline" if settings.worker == "inline" else "off (run `booking worker`)",
    )
    uvicorn.run(
        "booking.cli:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers if args.workers > 1 else None,
        # X-Forwarded-For/-Proto are trusted from the addresses in FORWARDED_ALLOW_IPS
        # (uvicorn's own variable; 127.0.0.1 by default): the reverse proxy.
        proxy_headers=True,
        log_config=logs.log_config(settings),
        log_level=settings.log_level,
        # The app writes one access line per request itself (with the request id).
        access_log=False,
        server_header=False,
        # Bounded request headers (size and time) and the keep-alive period: booking/serving.py.
        **serving.uvicorn_options(settings),
        # In-flight requests get this long to finish after SIGTERM before being cut.
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
    )
    return 0


def app_factory():  # type: ignore[no-untyped-def]
    """For uvicorn/granian: `uvicorn --factory booking.cli:app_factory`."""
    import gc

    from booking import serving
    from booking.app import create_app

    settings = Settings.from_env()
    # Each server process builds its app here: its HTTP protocol's limits come from the same
    # settings.
    serving.configure(settings)
    app = create_app(settings)
    # What is imported and built by now lives as long as the server process: move it out of
    # the collector's reach, so full collections walk request garbage only (full collections
    # over the ~1,900 imported modules' objects were the pages' p99: bench/README.md).
    gc.collect()
    gc.freeze()
    return app


if __name__ == "__main__":
    raise SystemExit(main())
