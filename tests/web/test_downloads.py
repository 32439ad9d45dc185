"""Every CSV download (pages and API) is UTF-8 with a byte order mark, so Excel reads names
right; says `text/csv; charset=utf-8` once; still parses with the csv module; and keeps text
that a spreadsheet would run as a formula inert."""

from __future__ import annotations

import codecs
import csv
import io
import re

import httpx

from booking import PROJECT_ROOT, bookings, catalogue
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.records.conftest import attended_session
from tests.web.conftest import Browser, person_id_of

TITLE = "=2+3 Évaluation des risques"


def read_csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(codecs.BOM_UTF8)
    assert response.content.count(codecs.BOM_UTF8) == 1
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_every_csv_download_has_a_bom_one_charset_and_inert_formulas(
    browser: Browser,
) -> None:
    world = browser.world
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="RISK-1", title=TITLE)
    )
    await attended_session(world, course.id, "lee@example.org")
    session_id = await support.make_session(
        world, course_id=course.id, facilitators=["trainer@example.org"]
    )
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(
        world.db,
        world.clock,
        kim,
        BookingRequest(session_id, special_requirements="@SUM(1) — Zoë needs a ramp"),
    )
    admin = {"Authorization": f"Bearer {world.admin_token}"}
    lee_id = await person_id_of(world, "lee@example.org")

    tables: dict[str, list[list[str]]] = {}
    await browser.sign_in("trainer@example.org")
    tables["roster page"] = read_csv(await browser.get(f"/sessions/{session_id}/roster/export.csv"))
    tables["roster API"] = read_csv(
        await browser.client.get(f"/api/v1/sessions/{session_id}/roster.csv", headers=admin)
    )
    await browser.sign_in("lee@example.org")
    tables["my record"] = read_csv(await browser.get("/me/record.csv"))
    await browser.sign_in("manager@example.org")
    tables["team"] = read_csv(await browser.get("/team.csv"))
    tables["person's record"] = read_csv(await browser.get(f"/people/{lee_id}/record.csv"))
    await browser.sign_in("admin@example.org")
    tables["compliance"] = read_csv(await browser.get("/admin/compliance.csv"))
    tables["journal page"] = read_csv(
        await browser.get("/admin/finance/journal.csv?from=2027-01-01&to=2027-12-31")
    )
    tables["journal API"] = read_csv(
        await browser.client.get(
            "/api/v1/finance/journal.csv?from=2027-01-01&to=2027-12-31", headers=admin
        )
    )

    # The first header cell is the header itself (the BOM is not part of it).
    assert tables["roster page"][0][0] == tables["roster API"][0][0] == "Booking"
    assert tables["my record"][0][0] == "Course code"
    assert tables["team"][0][0] == "Name"
    assert tables["compliance"][0][0] == "Unit code"
    assert tables["journal page"][0][0] == tables["journal API"][0][0] == "date"
    # Non-ASCII text survives, and text a spreadsheet would run stays text.
    for name in ("roster page", "roster API"):
        cells = [c for row in tables[name] for c in row]
        assert "'@SUM(1) — Zoë needs a ramp" in cells, name
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), name
    for name in ("my record", "person's record"):
        cells = [c for row in tables[name] for c in row]
        assert f"'{TITLE}" in cells, name
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), name


def test_no_response_names_a_charset_in_a_text_media_type() -> None:
    """Litestar appends "; charset=utf-8" to every text/* media type: naming it too sends it
    twice."""
    named = re.compile(r"media_type\s*=\s*[\"']text/[^\"']*charset", re.IGNORECASE)
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for package in ("booking", "billing")
        for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
        if named.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
