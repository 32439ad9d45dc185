"""An integrator's client, generated from the OpenAPI document, works against the real server.

`openapi-python-client` generates a typed client (attrs models, httpx) from the document the app
serves — with no warning: every operation, body, answer and problem is one it understands. The
test then drives that client against the app served by uvicorn on loopback, on SQLite and on
PostgreSQL: list courses, read a session, book (201), be refused (409, the `reasons` read through
the typed `Problem`), quote and cancel, download the roster CSV, read the records feed.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from booking import people
from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from tests import support

pytestmark = pytest.mark.asyncio
PACKAGE = "generated_booking_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client, generated once per test run into a temporary folder and imported."""
    folder = tmp_path_factory.mktemp("client")
    app = create_app(support.settings_for(f"sqlite+aiosqlite:///{folder / 'unused.db'}"))
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(app.openapi_schema.to_schema()), encoding="utf-8")
    config = folder / "config.json"
    # No formatting pass (the generator would look for ruff on PATH); PDF, XLSX and CSV bodies
    # are bytes (the generator knows JSON, text and octet-stream by name), as docs/api.md says.
    config.write_text(
        json.dumps(
            {
                "post_hooks": [],
                "project_name_override": PACKAGE,
                "content_type_overrides": {
                    "application/pdf": "application/octet-stream",
                    # CSV uploads (cost codes, completions): the generator reads text/csv only
                    # as an answer.
                    "text/csv": "application/octet-stream",
                    XLSX: "application/octet-stream",
                },
            }
        )
    )
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(spec), "--meta", "none"]
        + ["--output-path", str(folder / PACKAGE), "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Warning" not in output and "Skipping" not in output, output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_generated_client_drives_the_server(
    generated: ModuleType, db_url: str, clock: FixedClock
) -> None:
    seed = Database(support.settings_for(db_url))
    world = await support.make_world(seed, clock)
    lee_token = await people.create_token(seed, clock, email="lee@example.org")
    records_token = await people.create_token(seed, clock, service="lms", scope="records")
    await seed.dispose()
    models = module("models")
    app = create_app(support.settings_for(db_url))
    async with support.live_server(app) as base_url:
        admin = generated.AuthenticatedClient(base_url=base_url, token=world.admin_token)
        lee = generated.AuthenticatedClient(base_url=base_url, token=lee_token)
        lms = generated.AuthenticatedClient(base_url=base_url, token=records_token)

        # The administrator schedules a session (typed body) for the world's course.
        start = clock.now() + timedelta(days=10)
        body = models.SessionIn.from_dict(
            {
                "dates": [
                    {
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=3)).isoformat(),
                        "timezone": support.LONDON,
                    }
                ],
                "capacity": 2,
                "facilitators": ["trainer@example.org"],
            }
        )
        made = await module("api.sessions.create_session").asyncio_detailed(
            world.course_id, client=admin, body=body
        )
        assert made.status_code == 201, made.content
        session_id = made.parsed.id

        # A learner lists the catalogue and reads the session.
        courses = await module("api.courses.list_courses").asyncio_detailed(client=lee)
        assert courses.status_code == 200, courses.content
        assert world.course_id in [c.id for c in courses.parsed.items]
        session = await module("api.sessions.get_session").asyncio(session_id, client=lee)
        assert isinstance(session, models.SessionView)
        assert (session.id, session.capacity, session.booked) == (session_id, 2, 0)
        assert str(session.status) == "open"

        # Book: 201 with a typed booking; again: 409, the reasons read through `Problem`.
        book = module("api.bookings.create_booking")
        booked = await book.asyncio_detailed(session_id, client=lee, body=models.BookingIn())
        assert booked.status_code == 201, booked.content
        assert isinstance(booked.parsed, models.BookingView)
        assert str(booked.parsed.state) == "booked"
        refused = await book.asyncio_detailed(session_id, client=lee, body=models.BookingIn())
        assert refused.status_code == 409
        assert isinstance(refused.parsed, models.Problem)
        assert [r.code for r in refused.parsed.reasons] == ["already_booked"]
        assert refused.parsed.reasons[0].booking_id == booked.parsed.id

        # The roster as CSV, downloaded by the administrator: the learner is on it.
        csv = await module("api.roster.roster_csv").asyncio_detailed(session_id, client=admin)
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        assert "lee@example.org" in csv.content.decode("utf-8-sig")

        # Quote, then cancel with the quoted fee.
        quote = await module("api.billing.cancellation_quote").asyncio_detailed(
            booked.parsed.id, client=lee
        )
        assert quote.status_code == 200, quote.content
        fee = quote.parsed.fee
        cancel_in = models.CancelIn.from_dict(
            {"reason": "Clash with a meeting", "quoted_fee": fee.to_dict() if fee else None}
        )
        cancelled = await module("api.bookings.cancel_booking").asyncio_detailed(
            booked.parsed.id, client=lee, body=cancel_in
        )
        assert cancelled.status_code == 200, cancelled.content
        assert str(cancelled.parsed.state) == "cancelled"

        # The records service sends a completion and reads it back from the feed.
        sent = await module("api.records.post_completions").asyncio_detailed(
            client=lms,
            body=[
                models.CompletionIn.from_dict(
                    {
                        "learner_email": "lee@example.org",
                        "course_code": "SAFE-1",
                        # The server runs on the real clock: a completion in its past.
                        "completed_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                        "source": "elearning",
                    }
                )
            ],
        )
        assert sent.status_code == 200, sent.content
        assert sent.parsed.accepted == 1
        feed = await module("api.records.records_feed").asyncio_detailed(client=lms)
        assert feed.status_code == 200, feed.content
        assert [(i.course_code, i.learner.email) for i in feed.parsed.items] == [
            ("SAFE-1", "lee@example.org")
        ]
        assert feed.parsed.next_cursor
