"""Certificates: a course whose record rules award one gives each completion a certificate; its
PDF (read back with pypdf) names the learner, the course, the date and the verification link;
the public verification page answers valid or not found; a recertification gets a new
certificate and the old one keeps its date; only the person, their managers (direct or
indirect) and administrators get the PDF."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from booking import catalogue, people, records
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.db import Database
from tests import support
from tests.records.test_http import client_for, token

FIRST = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
RENEWED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LINK = re.compile(r"http://127\.0\.0\.1:8000/certificates/([A-Za-z0-9_-]{20,})")


@pytest.fixture
async def site(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[support.World, str]]:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "certificates.db")
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
        await people.upsert_people(
            db,
            world.clock,
            world.admin,
            [
                people.PersonInput("boss@example.org", "Bo Boss", "P011", None, "ORG", "Director"),
                people.PersonInput(
                    "manager@example.org",
                    "Mo Manager",
                    "P001",
                    "boss@example.org",
                    "ADULT",
                    "Team Manager",
                ),
            ],
        )
        course = await catalogue.create_course(
            db,
            world.clock,
            world.admin,
            CourseInput(code="FA-1", title="First Aid at Work", certification_months=36),
        )
        await _award(world, course.id)
        yield world, url
    finally:
        await db.dispose()


async def _award(world: support.World, course_id: int) -> None:
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        course_id,
        completion_mode=None,
        criteria=[],
        mandatory=False,
        due_within_days=None,
        certificate=True,
    )


async def _complete(world: support.World, code: str, at: datetime) -> None:
    accepted, _ = await records.record_completions(
        world.db,
        world.clock,
        world.admin,
        [records.CompletionInput(code, at, learner_email="lee@example.org", source="import")],
    )
    assert accepted == 1


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def _course(http: httpx.AsyncClient, who: dict[str, str], code: str) -> dict[str, Any]:
    record = (await http.get("/api/v1/me/record", headers=who)).json()
    course: dict[str, Any] = next(c for c in record["courses"] if c["course_code"] == code)
    return course


async def test_the_pdf_names_learner_course_date_and_link_and_the_link_verifies(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    await _complete(world, "FA-1", FIRST)
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        course = await _course(http, lee, "FA-1")
        cert_url = course["certificate_url"]
        assert cert_url and course["completions"][0]["certificate_url"] == cert_url
        got = await http.get(cert_url, headers=lee)
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        text = _text(got.content)
        assert "Lee Learner" in text and "First Aid at Work" in text
        assert "10 March 2026 (2026-03-10)" in text and "Valid until 10 March 2029" in text
        link = LINK.search(text.replace("\n", ""))
        assert link, text
        code = link.group(1)
        assert f"Verification code: {code}" in text

        valid = await http.get(f"/certificates/{code}")
        assert valid.status_code == 200
        assert "This certificate is valid" in valid.text and "Lee Learner" in valid.text
        assert "First Aid at Work" in valid.text and "10 March 2026" in valid.text
        assert "10 March 2029" in valid.text
        assert "lee@example.org" not in valid.text and "P003" not in valid.text
        forged = await http.get(f"/certificates/{code[:-2]}xx")
        assert forged.status_code == 404 and "Not found" in forged.text
        assert (await http.get("/certificates/" + "x" * 300)).status_code == 404


async def test_only_the_person_their_managers_and_admins_get_the_pdf(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    await _complete(world, "FA-1", FIRST)
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        cert_url = (await _course(http, lee, "FA-1"))["certificate_url"]
        for email, status in [
            ("lee@example.org", 200),
            ("manager@example.org", 200),
            ("boss@example.org", 200),
            ("admin@example.org", 200),
            ("kim@example.org", 404),
            ("trainer@example.org", 404),
        ]:
            got = await http.get(cert_url, headers=await token(world, email))
            assert got.status_code == status, email
        lms = await people.create_token(world.db, world.clock, service="lms", scope="records")
        service = await http.get(cert_url, headers={"Authorization": f"Bearer {lms}"})
        assert service.status_code == 404
        assert (await http.get(cert_url)).status_code == 401
        assert (await http.get("/api/v1/certificates/999999", headers=lee)).status_code == 404


async def test_a_recertification_gets_a_new_certificate_and_the_old_keeps_its_date(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    await _complete(world, "FA-1", FIRST)
    await _complete(world, "FA-1", RENEWED)
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        course = await _course(http, lee, "FA-1")
        new_url, old_url = (c["certificate_url"] for c in course["completions"])
        assert course["certificate_url"] == new_url != old_url
        assert course["previous"][0]["certificate_url"] == old_url
        new_text = _text((await http.get(new_url, headers=lee)).content)
        old_text = _text((await http.get(old_url, headers=lee)).content)
        assert "20 November 2026" in new_text and "10 March 2026" not in new_text
        assert "10 March 2026" in old_text and "20 November 2026" not in old_text
        new_code = LINK.search(new_text.replace("\n", ""))
        old_code = LINK.search(old_text.replace("\n", ""))
        assert new_code and old_code and new_code.group(1) != old_code.group(1)
        old_page = await http.get(f"/certificates/{old_code.group(1)}")
        assert old_page.status_code == 200 and "10 March 2026" in old_page.text


async def test_no_certificate_without_the_rule_and_one_for_each_completion_once_it_is_on(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    await _complete(world, "SAFE-1", FIRST)
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        safe = await _course(http, lee, "SAFE-1")
        assert safe["certificate_url"] is None
        assert safe["completions"][0]["certificate_url"] is None
        await _award(world, world.course_id)
        safe = await _course(http, lee, "SAFE-1")
        assert safe["certificate_url"] is not None
        text = _text((await http.get(safe["certificate_url"], headers=lee)).content)
        assert "Safeguarding Adults" in text and "10 March 2026" in text
