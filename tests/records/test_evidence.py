"""Evidence of training done elsewhere over the API: sending it (checked by content, at most
10 MB), who may see its file, the deciders' queue, approving (a completion with source
`evidence`, in the record and the feed) and declining with a comment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from booking import catalogue, notifications, people
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.db import Database
from booking.models import AuditEvent, Outbox
from tests import support
from tests.records.test_http import client_for, token

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
WHEN = "2026-10-01T09:00:00Z"


@pytest.fixture
async def site(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[support.World, str]]:
    url = support.fresh_sqlite(sqlite_template, tmp_path / "evidence.db")
    db = Database(support.settings_for(url))
    try:
        world = await support.make_world(db, FixedClock(support.T0))
        await people.upsert_people(
            db,
            world.clock,
            world.admin,
            [
                people.PersonInput("owner@example.org", "Olu Owner", "P010", None, "ORG", "Lead"),
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
        await catalogue.create_course(
            db,
            world.clock,
            world.admin,
            CourseInput(code="FIRE-1", title="Fire Safety", owner_email="owner@example.org"),
        )
        yield world, url
    finally:
        await db.dispose()


async def _send(
    http: httpx.AsyncClient,
    who: dict[str, str],
    content: bytes,
    *,
    name: str = "certificate.pdf",
    course: str = "FIRE-1",
) -> httpx.Response:
    return await http.post(
        "/api/v1/me/evidence",
        headers=who,
        data={"course_code": course, "completed_at": WHEN, "note": "Done at my last job"},
        files={"file": (name, content, "application/octet-stream")},
    )


async def test_a_pdf_is_kept_pending_and_only_the_right_people_see_its_file(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        sent = await _send(http, lee, PDF)
        assert sent.status_code == 201, sent.text
        body = sent.json()
        assert body["state"] == "pending" and body["course_code"] == "FIRE-1"
        assert body["completed_at"].startswith("2026-10-01T09:00:00")
        assert body["note"] == "Done at my last job" and body["filename"] == "certificate.pdf"
        assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
        assert body["decided_by"] is None and body["decided_at"] is None and body["comment"] is None
        assert body["submitted_at"]
        file_url = f"/api/v1/evidence/{body['id']}/file"
        for email, status in [
            ("lee@example.org", 200),
            ("manager@example.org", 200),
            ("boss@example.org", 200),  # the manager's manager: indirect
            ("owner@example.org", 200),
            ("admin@example.org", 200),
            ("kim@example.org", 404),
            ("trainer@example.org", 404),
        ]:
            got = await http.get(file_url, headers=await token(world, email))
            assert got.status_code == status, email
            if status == 200:
                assert got.content == PDF
                assert got.headers["content-type"].startswith("application/pdf")
                assert got.headers["content-disposition"].startswith("attachment")
        png = await _send(http, lee, PNG, name="scan.jpeg")
        assert png.status_code == 201 and png.json()["content_type"] == "image/png"
        assert png.json()["filename"] == "scan.png"
    async with world.db.reading() as s:
        topics = list(await s.scalars(select(Outbox.topic).where(Outbox.topic.like("evidence%"))))
        actions = list(await s.scalars(select(AuditEvent.action)))
    assert topics == ["evidence.submitted", "evidence.submitted"]
    assert actions.count("evidence.submitted") == 2


async def test_a_renamed_executable_an_unknown_course_and_an_11_mb_file_are_refused(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        exe = await _send(http, lee, EXE, name="certificate.pdf")
        assert exe.status_code == 422
        assert exe.headers["content-type"].startswith("application/problem+json")
        assert "not a PDF, PNG or JPEG" in exe.json()["detail"] and exe.json()["field"] == "file"
        unknown = await _send(http, lee, PDF, course="NOPE-9")
        assert unknown.status_code == 422 and unknown.json()["field"] == "course_code"
        huge = await _send(http, lee, PDF + b"\x00" * 11_000_000)
        assert huge.status_code == 413
        assert huge.headers["content-type"].startswith("application/problem+json")
        just_over = await _send(http, lee, PDF + b"\x00" * (10_000_001 - len(PDF)))
        assert just_over.status_code == 413
        bad_date = await http.post(
            "/api/v1/me/evidence",
            headers=lee,
            data={"course_code": "FIRE-1", "completed_at": "yesterday"},
            files={"file": ("a.pdf", PDF, "application/pdf")},
        )
        assert bad_date.status_code == 422 and bad_date.json()["field"] == "completed_at"
        nothing = await http.post("/api/v1/me/evidence", headers=lee, data={"x": "y"})
        assert nothing.status_code == 422
        queue = await http.get("/api/v1/evidence", headers=await token(world, "owner@example.org"))
        assert queue.json() == {"items": [], "next_cursor": None}


async def _records_feed(http: httpx.AsyncClient, world: support.World) -> list[dict[str, Any]]:
    lms = await people.create_token(world.db, world.clock, service="lms", scope="records")
    got = await http.get("/api/v1/records", headers={"Authorization": f"Bearer {lms}"})
    items: list[dict[str, Any]] = got.json()["items"]
    return items


async def test_the_owner_approves_evidence_into_the_record_and_the_feed(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        owner = await token(world, "owner@example.org")
        evidence_id = (await _send(http, lee, PDF)).json()["id"]
        queue = await http.get("/api/v1/evidence?state=pending", headers=owner)
        assert queue.status_code == 200
        assert [i["id"] for i in queue.json()["items"]] == [evidence_id]
        assert queue.json()["next_cursor"] is None
        admin_queue = await http.get(
            "/api/v1/evidence", headers=await token(world, "admin@example.org")
        )
        assert [i["id"] for i in admin_queue.json()["items"]] == [evidence_id]
        assert (await http.get("/api/v1/evidence", headers=lee)).status_code == 403

        decision = f"/api/v1/evidence/{evidence_id}/decision"
        body = {"decision": "approve", "comment": "Certificate checked"}
        kim = await token(world, "kim@example.org")
        assert (await http.post(decision, json=body, headers=kim)).status_code == 404
        manager = await token(world, "manager@example.org")
        assert (await http.post(decision, json=body, headers=manager)).status_code == 403
        assert (await http.post(decision, json=body, headers=lee)).status_code == 403
        bad = await http.post(decision, json={"decision": "maybe"}, headers=owner)
        assert bad.status_code == 422
        approved = await http.post(decision, json=body, headers=owner)
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "approved"
        assert approved.json()["decided_by"]["email"] == "owner@example.org"
        again = await http.post(decision, json=body, headers=owner)
        assert again.status_code == 409

        record = (await http.get("/api/v1/me/record", headers=lee)).json()
        fire = next(c for c in record["courses"] if c["course_code"] == "FIRE-1")
        assert fire["status"] == "complete" and fire["source"] == "evidence"
        assert fire["completed_at"].startswith("2026-10-01T09:00:00")
        feed = await _records_feed(http, world)
        done = [i for i in feed if i["type"] == "completion" and i["course_code"] == "FIRE-1"]
        assert len(done) == 1 and done[0]["source"] == "evidence"
    async with world.db.reading() as s:
        topics = list(await s.scalars(select(Outbox.topic).where(Outbox.topic.like("evidence%"))))
        assert "evidence.decided" in topics
        assert await s.scalar(select(AuditEvent.id).where(AuditEvent.action == "evidence.approved"))


async def test_the_admin_declines_with_a_comment_the_learner_sees(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        evidence_id = (await _send(http, lee, PDF)).json()["id"]
        admin = await token(world, "admin@example.org")
        declined = await http.post(
            f"/api/v1/evidence/{evidence_id}/decision",
            json={"decision": "decline", "comment": "This is a different course"},
            headers=admin,
        )
        assert declined.status_code == 200
        assert declined.json()["state"] == "declined"
        assert declined.json()["comment"] == "This is a different course"
        mine = await http.get(f"/api/v1/evidence/{evidence_id}", headers=lee)
        assert mine.json()["comment"] == "This is a different course"
        record = (await http.get("/api/v1/me/record", headers=lee)).json()
        assert all(
            c["course_code"] != "FIRE-1" or c["status"] != "complete" for c in record["courses"]
        )
        pending = await http.get("/api/v1/evidence?state=pending", headers=admin)
        assert pending.json()["items"] == []
        all_declined = await http.get("/api/v1/evidence?state=declined", headers=admin)
        assert [i["id"] for i in all_declined.json()["items"]] == [evidence_id]


async def test_the_emails_reach_a_team_mailbox_owner_and_the_learner(
    site: tuple[support.World, str],
) -> None:
    world, url = site
    await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="TEAM-1", title="Team Course", owner_email="team@example.org"),
    )
    async with client_for(url, world) as http:
        lee = await token(world, "lee@example.org")
        sent = await _send(http, lee, PDF, course="TEAM-1")
        admin = await token(world, "admin@example.org")
        await http.post(
            f"/api/v1/evidence/{sent.json()['id']}/decision",
            json={"decision": "decline", "comment": "Not this course"},
            headers=admin,
        )
    settings = support.settings_for(url)
    async with world.db.reading() as s:
        rows = list(await s.scalars(select(Outbox).where(Outbox.topic.like("evidence.%"))))
        rendered = [await notifications.render_row(s, r, settings, world.clock.now()) for r in rows]
    by_topic = {r.topic: r for r in rendered}
    told = by_topic["evidence.submitted"]
    assert told.to_email == "team@example.org"
    assert "Team Course" in told.subject and "Lee Learner" in told.text
    assert "/evidence" in told.text
    decided = by_topic["evidence.decided"]
    assert decided.to_email == "lee@example.org"
    assert "declined" in decided.subject and "Not this course" in decided.text
