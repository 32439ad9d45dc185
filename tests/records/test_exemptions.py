"""Exemptions and extensions over the API (API.md, "Mandatory learning"): who may ask (the
line manager, directly or up the chain, or an administrator), what is refused, who decides,
and what an approved one does to the record and the compliance counts, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from booking import records
from booking.db import Database
from booking.models import AuditEvent, Outbox
from tests import support
from tests.records.exemption_world import ExWorld, body, client_for, headers, make_ex_world


@pytest.fixture
async def ex(db_url: str, world: support.World) -> AsyncIterator[ExWorld]:
    yield await make_ex_world(world, db_url)


async def _audit(db: Database) -> list[str]:
    async with db.reading() as s:
        return list(await s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


async def _emails(db: Database, topic: str) -> list[Outbox]:
    async with db.reading() as s:
        return list(await s.scalars(select(Outbox).where(Outbox.topic == topic)))


async def test_who_may_ask(ex: ExWorld) -> None:
    async with client_for(ex) as http:
        manager, boss = await headers(ex, "manager"), await headers(ex, "boss")
        r = await http.post("/api/v1/exemptions", json=body(), headers=manager)
        assert r.status_code == 201, r.text
        got = r.json()
        assert got["state"] == "pending" and got["kind"] == "exemption"
        assert got["learner"] == {
            "id": ex.ids["lee"],
            "email": "lee@example.org",
            "name": "Lee Learner",
        }
        assert got["course"] == {
            "id": ex.course_id,
            "code": "SAFE-1",
            "title": "Safeguarding Adults",
        }
        assert got["requested_by"] == {"id": ex.ids["manager"], "email": "manager@example.org"}
        assert got["until"] is None and got["due_at"] is None
        assert got["decided_by"] is None and got["decided_at"] is None and got["comment"] is None
        assert set(got) == {
            "id", "kind", "state", "learner", "course", "reason", "until", "due_at",
            "requested_by", "decided_by", "decided_at", "comment",
        }  # fmt: skip
        # Indirect: Bo manages Mo, who manages Lee.
        r = await http.post("/api/v1/exemptions", json=body(course_code="FIRE-1"), headers=boss)
        assert r.status_code == 201, r.text
        admin = await headers(ex, "admin")
        assert (
            await http.post("/api/v1/exemptions", json=body(), headers=admin)
        ).status_code == 201
        for who in ("lee", "kim", "trainer", "owner"):
            r = await http.post("/api/v1/exemptions", json=body(), headers=await headers(ex, who))
            assert r.status_code == 403, (who, r.text)
        # Not for oneself, administrator or not.
        r = await http.post(
            "/api/v1/exemptions", json=body(learner_email="admin@example.org"), headers=admin
        )
        assert r.status_code == 403
        # Lee is not Bo's manager: the chain goes up, not down.
        lee = await headers(ex, "lee")
        r = await http.post(
            "/api/v1/exemptions", json=body(learner_email="boss@example.org"), headers=lee
        )
        assert r.status_code == 403
    assert (await _audit(ex.world.db)).count("exemption.requested") == 3
    # The owner is told (with links); the mailbox-owned course goes to the administrators.
    requested = await _emails(ex.world.db, "exemption.requested")
    recipients = sorted(r.recipient_id or 0 for r in requested)
    assert recipients == sorted([ex.ids["owner"], ex.ids["admin"], ex.ids["owner"]])


async def test_bad_requests_are_refused(ex: ExWorld) -> None:
    now = ex.world.clock.now()
    async with client_for(ex) as http:
        manager = await headers(ex, "manager")
        cases = [
            (body(kind="extension"), 422, "due_at"),
            (body(kind="extension", due_at=now - timedelta(days=1)), 422, "due_at"),
            (body(until=now.date() - timedelta(days=1)), 422, "until"),
            (body(kind="holiday"), 422, "kind"),
            (body(reason="   "), 422, "reason"),
            (body(learner_email="nobody@example.org"), 422, "learner_email"),
            (body(course_code="NOPE"), 422, "course_code"),
        ]
        for data, status, field in cases:
            r = await http.post("/api/v1/exemptions", json=data, headers=manager)
            assert r.status_code == status, (data, r.text)
            assert field in r.text, r.text
        r = await http.post("/api/v1/exemptions", json={"x": 1}, headers=manager)
        assert r.status_code in (400, 422)
    async with ex.world.db.reading() as s:
        assert (await s.scalars(select(Outbox).where(Outbox.topic.like("exemption%")))).all() == []


async def test_owner_approves_an_exemption_and_the_record_changes(ex: ExWorld) -> None:
    until = ex.world.clock.now().date() + timedelta(days=60)
    async with client_for(ex) as http:
        manager, owner = await headers(ex, "manager"), await headers(ex, "owner")
        admin = await headers(ex, "admin")
        record_url = f"/api/v1/people/{ex.ids['lee']}/record"
        before = (await http.get(record_url, headers=admin)).json()
        assert [i["course_code"] for i in before["required"]] == ["FIRE-1", "SAFE-1"]
        assert before["compliance"]["required"] == 2 and before["compliance"]["exempt"] == 0
        made = (
            await http.post("/api/v1/exemptions", json=body(until=until), headers=manager)
        ).json()
        assert made["until"] == until.isoformat()
        # The requester cannot decide it; a stranger cannot see it.
        url = f"/api/v1/exemptions/{made['id']}/decision"
        r = await http.post(url, json={"decision": "approve"}, headers=manager)
        assert r.status_code == 403
        r = await http.post(url, json={"decision": "approve"}, headers=await headers(ex, "kim"))
        assert r.status_code == 404
        r = await http.post(url, json={"decision": "approve", "comment": "Fine"}, headers=owner)
        assert r.status_code == 200, r.text
        decided = r.json()
        assert decided["state"] == "approved" and decided["comment"] == "Fine"
        assert decided["decided_by"] == {"id": ex.ids["owner"], "email": "owner@example.org"}
        assert decided["decided_at"] is not None
        again = await http.post(url, json={"decision": "decline"}, headers=admin)
        assert again.status_code == 409 and "already been decided" in again.text

        after = (await http.get(record_url, headers=admin)).json()
        assert [i["course_code"] for i in after["required"]] == ["FIRE-1"]
        assert after["compliance"]["required"] == 1 and after["compliance"]["exempt"] == 1
        safe = next(c for c in after["courses"] if c["course_code"] == "SAFE-1")
        assert safe["exemption"] == {"until": until.isoformat()}
        mine = (await http.get("/api/v1/me/record", headers=await headers(ex, "lee"))).json()
        assert mine["compliance"]["exempt"] == 1

        # Past its end date the course is required again.
        ex.world.clock.set(ex.world.clock.now() + timedelta(days=61))
        expired = (await http.get(record_url, headers=admin)).json()
        assert [i["course_code"] for i in expired["required"]] == ["FIRE-1", "SAFE-1"]
        assert expired["compliance"]["exempt"] == 0
    assert "exemption.approved" in await _audit(ex.world.db)
    told = await _emails(ex.world.db, "exemption.decided")
    assert sorted(r.recipient_id or 0 for r in told) == sorted([ex.ids["manager"], ex.ids["lee"]])


async def test_extension_moves_the_due_date(ex: ExWorld) -> None:
    now = ex.world.clock.now()
    due = (now + timedelta(days=90)).replace(microsecond=0)
    async with client_for(ex) as http:
        manager, admin = await headers(ex, "manager"), await headers(ex, "admin")
        made = await http.post(
            "/api/v1/exemptions",
            json=body(kind="extension", due_at=due.isoformat()),
            headers=manager,
        )
        assert made.status_code == 201, made.text
        assert made.json()["due_at"].startswith(due.strftime("%Y-%m-%dT%H:%M:%S"))
        # The course has an owner with an account, but an administrator may decide too.
        r = await http.post(
            f"/api/v1/exemptions/{made.json()['id']}/decision",
            json={"decision": "approve"},
            headers=admin,
        )
        assert r.status_code == 200
        # Past the course's own due date (30 days), not past the extension's.
        ex.world.clock.set(now + timedelta(days=40))
        record = (await http.get(f"/api/v1/people/{ex.ids['lee']}/record", headers=admin)).json()
        safe = next(i for i in record["required"] if i["course_code"] == "SAFE-1")
        fire = next(i for i in record["required"] if i["course_code"] == "FIRE-1")
        assert safe["due_at"].startswith(due.strftime("%Y-%m-%dT%H:%M:%S"))
        assert safe["overdue"] is False and safe["extension"]["due_at"] == safe["due_at"]
        assert fire["overdue"] is True and fire["extension"] is None
        assert record["compliance"]["exempt"] == 0 and record["compliance"]["required"] == 2


async def test_admin_declines_with_a_comment_and_lists_by_role(ex: ExWorld) -> None:
    async with client_for(ex) as http:
        manager, owner = await headers(ex, "manager"), await headers(ex, "owner")
        admin, lee = await headers(ex, "admin"), await headers(ex, "lee")
        safe = (await http.post("/api/v1/exemptions", json=body(), headers=manager)).json()
        fire = (
            await http.post("/api/v1/exemptions", json=body(course_code="FIRE-1"), headers=admin)
        ).json()
        r = await http.post(
            f"/api/v1/exemptions/{fire['id']}/decision",
            json={"decision": "decline", "comment": "Everyone does fire safety"},
            headers=admin,
        )
        assert r.status_code == 200
        assert r.json()["state"] == "declined"
        assert r.json()["comment"] == "Everyone does fire safety"

        def ids(r: object) -> list[int]:
            return [i["id"] for i in r.json()["items"]]  # type: ignore[attr-defined]

        everything = await http.get("/api/v1/exemptions", headers=admin)
        assert everything.json()["next_cursor"] is None
        assert ids(everything) == [safe["id"], fire["id"]]
        pending = await http.get("/api/v1/exemptions", params={"state": "pending"}, headers=admin)
        assert ids(pending) == [safe["id"]]
        # The owner sees their course's; the requester what they asked; others nothing.
        assert ids(await http.get("/api/v1/exemptions", headers=owner)) == [safe["id"]]
        assert ids(await http.get("/api/v1/exemptions", headers=manager)) == [safe["id"]]
        assert ids(await http.get("/api/v1/exemptions", headers=lee)) == []
        bad = await http.get("/api/v1/exemptions", params={"state": "odd"}, headers=admin)
        assert bad.status_code == 422
    assert "exemption.declined" in await _audit(ex.world.db)


async def test_compliance_report_leaves_exempt_courses_out(ex: ExWorld) -> None:
    async with client_for(ex) as http:
        admin = await headers(ex, "admin")
        before = (await http.get("/api/v1/reports/compliance", headers=admin)).json()["items"]
        made = (await http.post("/api/v1/exemptions", json=body(), headers=admin)).json()
        await http.post(
            f"/api/v1/exemptions/{made['id']}/decision", json={"decision": "approve"}, headers=admin
        )
        after = (await http.get("/api/v1/reports/compliance", headers=admin)).json()["items"]
    total = sum(r["required"] for r in before)
    assert sum(r["required"] for r in after) == total - 1
    assert sum(r["exempt"] for r in before) == 0 and sum(r["exempt"] for r in after) == 1


async def test_compliance_counts_follow_an_extension(ex: ExWorld) -> None:
    now = ex.world.clock.now()
    async with client_for(ex) as http:
        admin = await headers(ex, "admin")
        made = await http.post(
            "/api/v1/exemptions",
            json=body(kind="extension", due_at=(now + timedelta(days=90)).isoformat()),
            headers=admin,
        )
        await http.post(
            f"/api/v1/exemptions/{made.json()['id']}/decision",
            json={"decision": "approve"},
            headers=admin,
        )
    # 40 days on, past the 30 days every mandatory course gives: Lee's SAFE-1 is due, not late.
    ex.world.clock.set(now + timedelta(days=40))
    rows = await records.compliance_by_status(ex.world.db, ex.world.clock, ex.world.admin)
    (adult,) = [r for r in rows if r.row.org_unit == "ADULT" and r.row.staff_type == "payroll"]
    # Mo and Lee in ADULT, two mandatory courses each: only Lee's SAFE-1 is not late.
    assert (adult.due, adult.overdue) == (1, 3)


def test_dates_are_iso() -> None:
    assert body(until=date(2027, 1, 2))["until"] == "2027-01-02"
