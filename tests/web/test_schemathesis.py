"""The documented schemas are true: schemathesis over the whole document, every phase.

The app is served by uvicorn on loopback (SQLite and PostgreSQL) with a small organisation, a
session and a booking in it; the schemathesis CLI reads `/api/v1/openapi.json` and runs its four
phases (examples, coverage, fuzzing, stateful) against every operation as an administrator, with
two checks: no answer is a server error, and every answer fits the schema the document gives for
its status and media type. The path parameters are pinned to the seeded objects, so operations
are exercised on things that exist rather than answering 404 throughout.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from booking import bookings, catalogue, people
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import DateInput, SessionInput
from booking.clock import FixedClock
from booking.db import Database
from tests import support

pytestmark = pytest.mark.asyncio
CLI = Path(sys.executable).with_name("schemathesis")
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = "not_a_server_error,response_schema_conformance"


async def seed(url: str, clock: FixedClock) -> dict[str, int | str]:
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, clock)
        start = clock.now() + timedelta(days=20)
        session = await catalogue.create_session(
            db,
            clock,
            world.admin,
            world.course_id,
            SessionInput(
                dates=[DateInput(start, start + timedelta(hours=3), support.LONDON)],
                capacity=3,
                facilitators=["trainer@example.org"],
            ),
        )
        lee = await people.actor_for_token(
            db, await people.create_token(db, clock, email="lee@example.org")
        )
        assert lee is not None
        booked = await bookings.book_place(db, clock, lee, BookingRequest(session_id=session.id))
        return {
            "token": world.admin_token,
            "course_id": world.course_id,
            "session_id": session.id,
            "booking_id": booked.booking.id,
            "person_id": lee.person_id or 0,
        }
    finally:
        await db.dispose()


def config(seeded: dict[str, int | str]) -> str:
    pinned = "\n".join(
        f'"path.{name}" = {value}' for name, value in seeded.items() if name != "token"
    )
    return f"""
workers = 1
request-timeout = 30
[generation]
max-examples = 8
allow-x00 = false
[parameters]
{pinned}
"""


async def test_every_answer_fits_the_document(
    db_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    seeded = await seed(db_url, clock)
    toml = tmp_path / "schemathesis.toml"
    toml.write_text(config(seeded), encoding="utf-8")
    app = create_app(support.settings_for(db_url))
    async with support.live_server(app) as base_url:
        run = await asyncio.create_subprocess_exec(
            str(CLI),
            "--config-file",
            str(toml),
            "run",
            f"{base_url}/api/v1/openapi.json",
            "--phases",
            PHASES,
            "--checks",
            CHECKS,
            "--header",
            f"Authorization: Bearer {seeded['token']}",
            "--no-color",
            "--seed",
            "20261205",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        out, _ = await asyncio.wait_for(run.communicate(), timeout=300)
    report = out.decode("utf-8", "replace")
    assert run.returncode == 0, report[-8000:]
    # Every operation was tested, and in every phase.
    assert "Tested: " in report and "Selected: " in report, report[-3000:]
    selected = report.split("Selected: ", 1)[1].split()[0]
    tested = report.split("Tested: ", 1)[1].split()[0]
    assert tested == selected.split("/")[0], report[-3000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert phase in report
