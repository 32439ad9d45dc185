"""Every administrative change leaves an audit row: who, what (a dotted action), on what.

The state-changing routes come from the app's route table. Each is either driven here, as the
person who may use it, with input that changes something — and must then have written an audit
row naming the actor, the action and the target — or is listed in SELF_SERVICE with why it is
not an administrative change. A new route is in neither list, and fails the test until someone
decides."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

import billing.services as billing
from billing.domain.money import Money
from booking import approvals, bookings, catalogue, people, records, roster, webhooks
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.models import AuditEvent, Outbox
from booking.payments import reference
from tests import support
from tests.web.conftest import Browser, person_id_of
from tests.web.test_admin_pages import form_fields

# What people do for themselves, or what is not a person's change: not in the audit log.
SELF_SERVICE = {
    ("POST", "/login"): "signing in (login.* events are audited by the sign-in code)",
    ("POST", "/logout"): "signing out",
    ("POST", "/password/forgot"): "asking for one's own reset link",
    ("POST", "/password/reset"): "one's own password (password.changed is audited there)",
    ("POST", "/me/calendar-feed/reset"): "one's own calendar link",
    ("POST", "/sessions/{session_id:int}/book"): "a learner booking for themselves",
    ("POST", "/bookings/{booking_id:int}/cancel"): "a learner cancelling their own place",
    ("POST", "/bookings/{booking_id:int}/accept"): "a learner answering their own offer",
    ("POST", "/bookings/{booking_id:int}/decline"): "a learner answering their own offer",
    ("POST", "/api/v1/bookings/{booking_id:int}/accept"): "a learner answering their own offer",
    ("POST", "/api/v1/bookings/{booking_id:int}/decline"): "a learner answering their own offer",
    ("POST", "/webhooks/stripe"): "Stripe, not a person",
    ("POST", "/admin/people/import"): "a preview: reads the file, writes nothing",
    ("POST", "/admin/units/import"): "a preview: reads the file, writes nothing",
    ("POST", "/account-request"): "asking for an account (account_request.submitted is audited)",
    ("POST", "/account-request/confirm"): "one's own address (account_request.confirmed)",
    # Certificates and evidence (issue 18)
    ("POST", "/me/evidence"): "a learner's own evidence (evidence.submitted is audited)",
    ("POST", "/api/v1/me/evidence"): "a learner's own evidence (evidence.submitted is audited)",
}
ADMIN = "admin@example.org"
TRAINER = "trainer@example.org"
MANAGER = "manager@example.org"
_numbers = itertools.count(1)


@dataclass
class Call:
    """One request, as whom, and the audit action it must leave."""

    path: str
    who: str
    action: str
    method: str = "POST"
    json: Any = None
    form: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    content: bytes | None = None
    # Some changes need the clock past a session's start (attendance).
    at: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ctx:
    world: support.World
    browser: Browser


Driver = Callable[[Ctx], Awaitable[Call]]


async def _session(ctx: Ctx, *, days: int = 14, approval: list[str] | None = None) -> int:
    n = next(_numbers)
    course = await catalogue.create_course(
        ctx.world.db,
        ctx.world.clock,
        ctx.world.admin,
        CourseInput(code=f"AUD-{n}", title=f"Audited {n}", approval=approval or []),
    )
    # Sixteen hours apart: Lee and the trainer are on all of them without a clash, and sessions
    # made `days` apart never meet either (3 and 14 days are 16.5 slots apart, so starts differ
    # by at least 8 hours whatever the count reaches).
    start = ctx.world.clock.now() + timedelta(days=days, hours=16 * n)
    return await support.make_session(
        ctx.world, course_id=course.id, start=start, facilitators=[TRAINER]
    )


async def _booked(ctx: Ctx, session_id: int, email: str = "lee@example.org") -> int:
    who = await support.actor(ctx.world.db, email)
    done = await bookings.book_place(ctx.world.db, ctx.world.clock, who, BookingRequest(session_id))
    return done.booking.id


async def _started(ctx: Ctx) -> tuple[int, int, Any]:
    """A session with Lee booked, and the moment one hour after it starts."""
    session_id = await _session(ctx, days=3)
    booking_id = await _booked(ctx, session_id)
    view = await catalogue.get_session(ctx.world.db, ctx.world.clock, ctx.world.admin, session_id)
    return session_id, booking_id, view.dates[0].start + timedelta(hours=1)


async def _request(ctx: Ctx, approval: str) -> int:
    session_id = await _session(ctx, approval=[approval])
    await _booked(ctx, session_id)
    actor = await support.actor(ctx.world.db, MANAGER if approval == "manager" else ADMIN)
    waiting = await approvals.list_waiting(ctx.world.db, ctx.world.clock, actor)
    return max(w.id for w in waiting)


def _dates(ctx: Ctx, days: int = 40) -> list[dict[str, Any]]:
    # Between the sessions above (which start on a multiple of eight hours and last three).
    start = ctx.world.clock.now() + timedelta(days=days, hours=8 * next(_numbers) + 4)
    end = start + timedelta(hours=2)
    return [{"start": start.isoformat(), "end": end.isoformat(), "timezone": support.LONDON}]


def _csv_completion() -> str:
    day = (support.T0 - timedelta(days=100 + next(_numbers))).date().isoformat()
    return f"learner_email,course_code,completed_at\nkim@example.org,SAFE-1,{day}\n"


# --- the JSON API ----------------------------------------------------------------------------


async def put_org_units(ctx: Ctx) -> Call:
    n = next(_numbers)
    body = [{"code": f"U{n}", "name": f"Unit {n}", "parent_code": "ORG"}]
    return Call("/api/v1/org-units", ADMIN, "org_units.upserted", "PUT", json=body)


async def put_people(ctx: Ctx) -> Call:
    n = next(_numbers)
    body = [{"email": f"new{n}@example.org", "name": f"New {n}", "org_unit": "ORG"}]
    return Call("/api/v1/people", ADMIN, "people.upserted", "PUT", json=body)


async def api_create_course(ctx: Ctx) -> Call:
    body = {"code": f"NEW-{next(_numbers)}", "title": "New course"}
    return Call("/api/v1/courses", ADMIN, "course.created", json=body)


async def api_update_course(ctx: Ctx) -> Call:
    body = {"code": "SAFE-1", "title": "Safeguarding Adults (2027)"}
    return Call(f"/api/v1/courses/{ctx.world.course_id}", ADMIN, "course.changed", "PUT", body)


async def api_record_rules(ctx: Ctx) -> Call:
    path = f"/api/v1/courses/{ctx.world.course_id}/record-rules"
    return Call(path, ADMIN, "course.record_rules_changed", "PUT", json={"mandatory": True})


async def api_create_session(ctx: Ctx) -> Call:
    body = {"dates": _dates(ctx), "capacity": 5}
    path = f"/api/v1/courses/{ctx.world.course_id}/sessions"
    return Call(path, ADMIN, "session.created", json=body)


async def api_patch_session(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    return Call(
        f"/api/v1/sessions/{session_id}", ADMIN, "session.changed", "PATCH", {"capacity": 30}
    )


async def api_cancel_session(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    path = f"/api/v1/sessions/{session_id}/cancel"
    return Call(path, ADMIN, "session.cancelled", json={"reason": "Trainer ill"})


async def api_copy_session(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    path = f"/api/v1/sessions/{session_id}/copy"
    return Call(path, ADMIN, "session.created", json={"dates": _dates(ctx, 60)})


async def api_invite_waitlisted(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    path = f"/api/v1/sessions/{session_id}/invite-waitlisted"
    return Call(path, ADMIN, "session.waitlist_invited", json={})


async def api_book_for_someone(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    path = f"/api/v1/sessions/{session_id}/bookings"
    return Call(path, ADMIN, "booking.made_on_behalf", json={"learner_email": "kim@example.org"})


async def api_cancel_someones_booking(ctx: Ctx) -> Call:
    booking_id = await _booked(ctx, await _session(ctx))
    path = f"/api/v1/bookings/{booking_id}/cancel"
    return Call(path, ADMIN, "booking.cancelled", json={"reason": "Left the organisation"})


async def api_decide(ctx: Ctx) -> Call:
    request_id = await _request(ctx, "manager")
    path = f"/api/v1/approvals/{request_id}/decision"
    return Call(path, MANAGER, "approval.approved", json={"decision": "approve"})


async def api_completions(ctx: Ctx) -> Call:
    body = [
        {
            "learner_email": "lee@example.org",
            "course_code": "SAFE-1",
            "completed_at": (ctx.world.clock.now() - timedelta(days=next(_numbers))).isoformat(),
        }
    ]
    return Call("/api/v1/records/completions", ADMIN, "records.completions_added", json=body)


async def api_import_completions(ctx: Ctx) -> Call:
    return Call(
        "/api/v1/records/completions/import",
        ADMIN,
        "records.completions_added",
        content=_csv_completion().encode(),
    )


async def api_attendance(ctx: Ctx) -> Call:
    session_id, booking_id, at = await _started(ctx)
    body = {"marks": [{"booking_id": booking_id, "status": "no_show"}]}
    path = f"/api/v1/sessions/{session_id}/attendance"
    return Call(path, TRAINER, "attendance.marked", json=body, at=at)


async def api_move(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    booking_id = await _booked(ctx, session_id)
    view = await catalogue.get_session(ctx.world.db, ctx.world.clock, ctx.world.admin, session_id)
    other = await support.make_session(
        ctx.world,
        course_id=view.course_id,
        start=view.dates[0].start + timedelta(days=7, hours=4),
        facilitators=[TRAINER],
    )
    body = {"session_id": other, "reason": "Clash with a hearing"}
    return Call(f"/api/v1/bookings/{booking_id}/move", TRAINER, "booking.moved", json=body)


async def api_message(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    await _booked(ctx, session_id)
    body = {"subject": "Parking", "body": "Use the rear car park."}
    return Call(f"/api/v1/sessions/{session_id}/messages", TRAINER, "session.messaged", json=body)


async def api_cost_code(ctx: Ctx) -> Call:
    body = {
        "code": f"AUD-{next(_numbers)}",
        "description": "Audited",
        "budget_holder_email": MANAGER,
        "active_from": "2027-01-01",
    }
    return Call("/api/v1/cost-codes", ADMIN, "cost_code.created", json=body)


async def api_import_cost_codes(ctx: Ctx) -> Call:
    text = (
        "code,description,budget_holder_email,active_from\n"
        f"IMP-{next(_numbers)},Imported,{MANAGER},2027-01-01\n"
    )
    return Call(
        "/api/v1/cost-codes/import",
        ADMIN,
        "cost_codes.imported",
        content=text.encode(),
        extra={"headers": {"Content-Type": "text/csv"}},
    )


async def api_waive_fee(ctx: Ctx) -> Call:
    booking_id = await _booked(ctx, await _session(ctx))
    # A fee owed on the booking, as a late cancellation would leave it.
    async with ctx.world.db.transaction() as s:
        await billing.record(
            s,
            kind="cancellation_fee",
            amount=Money(3000, "GBP"),
            reference=reference(booking_id),
            description="Late cancellation",
            actor="test",
            now=ctx.world.clock.now(),
            cost_code="AS-4410",
        )
    path = f"/api/v1/bookings/{booking_id}/waive-fee"
    return Call(path, ADMIN, "fee.waived", json={"reason": "Bereavement"})


# --- the pages -------------------------------------------------------------------------------


async def page_requeue(ctx: Ctx) -> Call:
    await _booked(ctx, await _session(ctx))
    async with ctx.world.db.transaction() as s:
        outbox_id = await s.scalar(select(Outbox.id).order_by(Outbox.id.desc()).limit(1))
        await s.execute(update(Outbox).where(Outbox.id == outbox_id).values(status="failed"))
    return Call(f"/admin/outbox/{outbox_id}/requeue", ADMIN, "outbox.requeued", form={})


async def page_decide(ctx: Ctx) -> Call:
    request_id = await _request(ctx, "manager")
    form = {"decision": "decline", "comment": "Not this year"}
    return Call(f"/approvals/{request_id}/decide", MANAGER, "approval.declined", form=form)


async def page_create_session(ctx: Ctx) -> Call:
    url = f"/admin/courses/{ctx.world.course_id}/sessions/new"
    await ctx.browser.sign_in(ADMIN)
    fields = form_fields((await ctx.browser.get(url)).text, url)
    day = (ctx.world.clock.now() + timedelta(days=50 + next(_numbers))).date().isoformat()
    fields.update(date_0=day, start_0="09:30", end_0="12:30", capacity="12")
    return Call(url, ADMIN, "session.created", form=fields)


async def page_edit_session(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    url = f"/sessions/{session_id}/edit"
    await ctx.browser.sign_in(ADMIN)
    fields = form_fields((await ctx.browser.get(url)).text, url)
    return Call(url, ADMIN, "session.changed", form={**fields, "capacity": "25"})


async def page_copy_session(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    url = f"/sessions/{session_id}/copy"
    await ctx.browser.sign_in(ADMIN)
    fields = form_fields((await ctx.browser.get(url)).text, url)
    day = (ctx.world.clock.now() + timedelta(days=70 + next(_numbers))).date().isoformat()
    form = {**fields, "date_0": day, "start_0": "09:00", "end_0": "12:00"}
    return Call(url, ADMIN, "session.created", form=form)


async def page_cancel_session(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    form = {"reason": "Room flooded"}
    return Call(f"/sessions/{session_id}/cancel-session", ADMIN, "session.cancelled", form=form)


async def page_mark_one(ctx: Ctx) -> Call:
    session_id, booking_id, at = await _started(ctx)
    form = {"booking_id": str(booking_id), "status": "attended"}
    return Call(
        f"/sessions/{session_id}/attendance", TRAINER, "attendance.marked", form=form, at=at
    )


async def page_mark_all(ctx: Ctx) -> Call:
    session_id, _, at = await _started(ctx)
    path = f"/sessions/{session_id}/attendance/all"
    return Call(path, TRAINER, "attendance.marked", form={}, at=at)


async def page_add_learner(ctx: Ctx) -> Call:
    session_id = await _session(ctx)
    form = {"email": "kim@example.org", "reason": "Late nomination"}
    return Call(f"/sessions/{session_id}/add-learner", TRAINER, "booking.override", form=form)


async def page_remove(ctx: Ctx) -> Call:
    booking_id = await _booked(ctx, await _session(ctx))
    form = {"reason": "Left the team"}
    return Call(f"/bookings/{booking_id}/remove", TRAINER, "booking.cancelled", form=form)


async def page_move(ctx: Ctx) -> Call:
    call = await api_move(ctx)
    booking_path = call.path.removeprefix("/api/v1")
    form = {"session_id": str(call.json["session_id"]), "reason": call.json["reason"]}
    return Call(booking_path, TRAINER, "booking.moved", form=form)


async def page_message(ctx: Ctx) -> Call:
    call = await api_message(ctx)
    path = call.path.removeprefix("/api/v1").replace("/messages", "/message")
    return Call(path, TRAINER, "session.messaged", form=call.json)


async def page_import_completions(ctx: Ctx) -> Call:
    files = {"file": ("completions.csv", _csv_completion().encode(), "text/csv")}
    return Call("/admin/records/import", ADMIN, "records.completions_added", files=files)


async def page_cost_code(ctx: Ctx) -> Call:
    call = await api_cost_code(ctx)
    return Call("/admin/cost-codes", ADMIN, "cost_code.created", form=call.json)


async def page_import_cost_codes(ctx: Ctx) -> Call:
    call = await api_import_cost_codes(ctx)
    files = {"file": ("codes.csv", call.content, "text/csv")}
    return Call("/admin/cost-codes/import", ADMIN, "cost_codes.imported", files=files)


async def page_create_room(ctx: Ctx) -> Call:
    form = {"name": f"Audited room {next(_numbers)}", "capacity": "12", "active": "yes"}
    return Call("/admin/rooms/new", ADMIN, "room.created", form=form)


async def page_edit_room(ctx: Ctx) -> Call:
    world = ctx.world
    room = await catalogue.create_room(
        world.db, world.clock, world.admin, catalogue.RoomDetails(name=f"Room {next(_numbers)}")
    )
    form = {"name": room.name, "accessibility": "Step-free", "active": "yes"}
    return Call(f"/admin/rooms/{room.id}/edit", ADMIN, "room.changed", form=form)


async def _someone(ctx: Ctx) -> int:
    """A fresh person to change (nobody else's test data is touched)."""
    email = f"someone{next(_numbers)}@example.org"
    await people.upsert_people(
        ctx.world.db, ctx.world.clock, ctx.world.admin, [people.PersonInput(email, "Sam Someone")]
    )
    return await person_id_of(ctx.world, email)


async def page_change_roles(ctx: Ctx) -> Call:
    path = f"/admin/people/{await _someone(ctx)}/roles"
    form = {"roles": "trainer", "roles_reason": "Runs the induction"}
    return Call(path, ADMIN, "person.roles_changed", form=form)


async def page_deactivate(ctx: Ctx) -> Call:
    path = f"/admin/people/{await _someone(ctx)}/deactivate"
    return Call(path, ADMIN, "person.deactivated", form={"active_reason": "Left"})


async def page_reactivate(ctx: Ctx) -> Call:
    person_id = await _someone(ctx)
    w = ctx.world
    await people.deactivate_person(w.db, w.clock, w.admin, person_id, reason="Left")
    path = f"/admin/people/{person_id}/reactivate"
    return Call(path, ADMIN, "person.reactivated", form={"active_reason": "Came back"})


async def page_create_token(ctx: Ctx) -> Call:
    form = {"name": f"Audited feed {next(_numbers)}", "scope": "records"}
    return Call("/admin/tokens", ADMIN, "token.created", form=form)


async def page_revoke_token(ctx: Ctx) -> Call:
    w = ctx.world
    token = await people.create_service_token(
        w.db, w.clock, w.admin, name=f"Feed {next(_numbers)}", scope="records"
    )
    return Call(f"/admin/tokens/{token.id}/revoke", ADMIN, "token.revoked", form={})


async def _previewed(ctx: Ctx, kind: str, text: str) -> str:
    """The signed upload a preview page carries to its Import button."""
    await ctx.browser.sign_in(ADMIN)
    files = {"file": (f"{kind}.csv", text.encode(), "text/csv")}
    shown = await ctx.browser.client.post(
        f"/admin/{kind}/import", files=files, data={"_csrf_token": ctx.browser.csrf()}
    )
    found = re.search(r'name="upload" value="([^"]+)"', shown.text)
    assert found, shown.text[:500]
    return found.group(1)


async def page_import_people(ctx: Ctx) -> Call:
    text = f"email,name\nimported{next(_numbers)}@example.org,Ira Imported\n"
    upload = await _previewed(ctx, "people", text)
    return Call("/admin/people/import/confirm", ADMIN, "people.imported", form={"upload": upload})


async def page_import_units(ctx: Ctx) -> Call:
    upload = await _previewed(ctx, "units", f"code,name\nIMP{next(_numbers)},Imported unit\n")
    return Call("/admin/units/import/confirm", ADMIN, "org_units.imported", form={"upload": upload})


# Catalogue administration (courses)


async def page_create_course(ctx: Ctx) -> Call:
    form = {"code": f"AUD-{next(_numbers)}", "title": "Audited course", "price": "10.00"}
    return Call("/admin/courses/new", ADMIN, "course.created", form=form)


async def _a_course(ctx: Ctx) -> int:
    world = ctx.world
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        catalogue.CourseInput(code=f"AC-{next(_numbers)}", title="A course"),
    )
    return course.id


async def page_edit_course(ctx: Ctx) -> Call:
    course_id = await _a_course(ctx)
    form = {"code": f"AE-{next(_numbers)}", "title": "Changed", "category": "Audit"}
    return Call(f"/admin/courses/{course_id}", ADMIN, "course.changed", form=form)


async def page_archive_course(ctx: Ctx) -> Call:
    return Call(f"/admin/courses/{await _a_course(ctx)}/archive", ADMIN, "course.archived")


async def page_restore_course(ctx: Ctx) -> Call:
    course_id = await _a_course(ctx)
    world = ctx.world
    await catalogue.archive_course(world.db, world.clock, world.admin, course_id)
    return Call(f"/admin/courses/{course_id}/restore", ADMIN, "course.restored")


async def page_approve_account(ctx: Ctx) -> Call:
    email = f"approve{next(_numbers)}@example.net"
    request_id = await support.waiting_account_request(ctx.world, email)
    path = f"/admin/account-requests/{request_id}/approve"
    return Call(path, ADMIN, "account_request.approved")


async def page_decline_account(ctx: Ctx) -> Call:
    request_id = await support.waiting_account_request(ctx.world, f"no{next(_numbers)}@example.net")
    path = f"/admin/account-requests/{request_id}/decline"
    form = {f"reason-{request_id}": "Not one of our partners"}
    return Call(path, ADMIN, "account_request.declined", form=form)


# Exemptions and extensions (issue 18): Mo manages Lee; SAFE-1 has no owner, so the
# administrators decide.
def _exemption_body() -> dict[str, str]:
    return {
        "learner_email": "lee@example.org",
        "course_code": "SAFE-1",
        "kind": "exemption",
        "reason": f"Registered nurse {next(_numbers)}",
    }


async def _exemption(ctx: Ctx) -> int:
    manager = await support.actor(ctx.world.db, MANAGER)
    body = _exemption_body()
    (made,) = await records.request_exemptions(
        ctx.world.db,
        ctx.world.clock,
        manager,
        records.ExemptionInput(body["learner_email"], ["SAFE-1"], "exemption", body["reason"]),
    )
    return made.id


async def api_request_exemption(ctx: Ctx) -> Call:
    return Call("/api/v1/exemptions", MANAGER, "exemption.requested", json=_exemption_body())


async def api_decide_exemption(ctx: Ctx) -> Call:
    path = f"/api/v1/exemptions/{await _exemption(ctx)}/decision"
    return Call(path, ADMIN, "exemption.approved", json={"decision": "approve"})


async def page_decide_exemption(ctx: Ctx) -> Call:
    form = {"decision": "decline", "comment": "Everyone does it"}
    path = f"/exemptions/{await _exemption(ctx)}/decide"
    return Call(path, ADMIN, "exemption.declined", form=form)


async def page_request_exemption(ctx: Ctx) -> Call:
    lee = await person_id_of(ctx.world, "lee@example.org")
    form = {"course": "SAFE-1", "kind": "exemption", "reason": "Registered nurse"}
    return Call(f"/team/{lee}/exemptions/new", MANAGER, "exemption.requested", form=form)


async def _evidence(ctx: Ctx) -> int:
    world = ctx.world
    lee = await support.actor(world.db, "lee@example.org")
    upload = records.EvidenceUpload("SAFE-1", world.clock.now(), None, "a.pdf", b"%PDF-1.4\n")
    return (await records.send_evidence(world.db, world.clock, lee, upload)).id


async def api_decide_evidence(ctx: Ctx) -> Call:
    path = f"/api/v1/evidence/{await _evidence(ctx)}/decision"
    return Call(path, ADMIN, "evidence.approved", json={"decision": "approve"})


async def page_decide_evidence(ctx: Ctx) -> Call:
    evidence_id = await _evidence(ctx)
    form = {"decision": "decline", f"comment-{evidence_id}": "Another course"}
    return Call(f"/evidence/{evidence_id}/decision", ADMIN, "evidence.declined", form=form)


# Learning programs (issue 18)


async def _audited_program(ctx: Ctx) -> int:
    world = ctx.world
    made = await records.create_program(
        world.db,
        world.clock,
        world.admin,
        records.ProgramInput(code=f"AUD-{next(_numbers)}", title="Audited program"),
    )
    return made.id


async def api_create_program(ctx: Ctx) -> Call:
    body = {
        "code": f"AUD-{next(_numbers)}",
        "title": "Audited program",
        "sets": [{"title": "Core", "rule": "all", "course_codes": ["SAFE-1"]}],
    }
    return Call("/api/v1/programs", ADMIN, "program.created", json=body)


async def api_update_program(ctx: Ctx) -> Call:
    program_id = await _audited_program(ctx)
    body = {"code": f"AUD-{next(_numbers)}", "title": "Renamed program"}
    return Call(f"/api/v1/programs/{program_id}", ADMIN, "program.changed", method="PUT", json=body)


async def page_create_program(ctx: Ctx) -> Call:
    form = {
        "code": f"AUD-{next(_numbers)}",
        "title": "Audited program",
        "set_rows": "1",
        "set_title_0": "Core",
        "set_rule_0": "all",
        "set_codes_0": "SAFE-1",
    }
    return Call("/admin/programs/new", ADMIN, "program.created", form=form)


async def page_edit_program(ctx: Ctx) -> Call:
    program_id = await _audited_program(ctx)
    form = {"code": f"AUD-{next(_numbers)}", "title": "Renamed", "set_rows": "0"}
    return Call(f"/admin/programs/{program_id}/edit", ADMIN, "program.changed", form=form)


HOOK_URL = "https://93.184.215.14/audited"


async def _hook(ctx: Ctx, *, delivered: bool = False) -> tuple[int, int]:
    """A webhook endpoint (and, with `delivered`, a delivery of a booking event to it)."""
    w = ctx.world
    made = await webhooks.create_webhook(
        w.db,
        w.clock,
        w.admin,
        webhooks.WebhookInput(url=HOOK_URL, event_types=[]),
        allow_private=False,
    )
    if not delivered:
        return made.id, 0
    await _booked(ctx, await _session(ctx))
    log, _ = await webhooks.list_deliveries(w.db, w.admin, made.id)
    return made.id, log[0].id


async def api_create_webhook(ctx: Ctx) -> Call:
    return Call("/api/v1/webhooks", ADMIN, "webhook.created", json={"url": HOOK_URL})


async def api_change_webhook(ctx: Ctx) -> Call:
    hook, _ = await _hook(ctx)
    body = {"active": False}
    return Call(f"/api/v1/webhooks/{hook}", ADMIN, "webhook.changed", method="PATCH", json=body)


async def api_delete_webhook(ctx: Ctx) -> Call:
    hook, _ = await _hook(ctx)
    return Call(f"/api/v1/webhooks/{hook}", ADMIN, "webhook.deleted", method="DELETE")


async def api_resend_webhook(ctx: Ctx) -> Call:
    hook, delivery = await _hook(ctx, delivered=True)
    path = f"/api/v1/webhooks/{hook}/deliveries/{delivery}/resend"
    return Call(path, ADMIN, "webhook.resent")


async def page_create_webhook(ctx: Ctx) -> Call:
    form = {"url": HOOK_URL, "active": "yes"}
    return Call("/admin/webhooks", ADMIN, "webhook.created", form=form)


async def page_change_webhook(ctx: Ctx) -> Call:
    hook, _ = await _hook(ctx)
    form = {"url": HOOK_URL, "description": "Changed"}
    return Call(f"/admin/webhooks/{hook}", ADMIN, "webhook.changed", form=form)


async def page_activate_webhook(ctx: Ctx) -> Call:
    hook, _ = await _hook(ctx)
    return Call(f"/admin/webhooks/{hook}/activate", ADMIN, "webhook.changed", form={})


async def page_delete_webhook(ctx: Ctx) -> Call:
    hook, _ = await _hook(ctx)
    return Call(f"/admin/webhooks/{hook}/delete", ADMIN, "webhook.deleted", form={})


async def page_resend_webhook(ctx: Ctx) -> Call:
    hook, delivery = await _hook(ctx, delivered=True)
    path = f"/admin/webhooks/{hook}/deliveries/{delivery}/resend"
    return Call(path, ADMIN, "webhook.resent", form={})


DRIVERS: dict[tuple[str, str], Driver] = {
    ("PUT", "/api/v1/org-units"): put_org_units,
    ("PUT", "/api/v1/people"): put_people,
    ("POST", "/api/v1/courses"): api_create_course,
    ("PUT", "/api/v1/courses/{course_id:int}"): api_update_course,
    ("PUT", "/api/v1/courses/{course_id:int}/record-rules"): api_record_rules,
    ("POST", "/api/v1/courses/{course_id:int}/sessions"): api_create_session,
    ("PATCH", "/api/v1/sessions/{session_id:int}"): api_patch_session,
    ("POST", "/api/v1/sessions/{session_id:int}/cancel"): api_cancel_session,
    ("POST", "/api/v1/sessions/{session_id:int}/copy"): api_copy_session,
    ("POST", "/api/v1/sessions/{session_id:int}/invite-waitlisted"): api_invite_waitlisted,
    ("POST", "/api/v1/sessions/{session_id:int}/bookings"): api_book_for_someone,
    ("POST", "/api/v1/bookings/{booking_id:int}/cancel"): api_cancel_someones_booking,
    ("POST", "/api/v1/approvals/{request_id:int}/decision"): api_decide,
    ("POST", "/api/v1/records/completions"): api_completions,
    ("POST", "/api/v1/records/completions/import"): api_import_completions,
    ("POST", "/api/v1/sessions/{session_id:int}/attendance"): api_attendance,
    ("POST", "/api/v1/bookings/{booking_id:int}/move"): api_move,
    ("POST", "/api/v1/sessions/{session_id:int}/messages"): api_message,
    ("POST", "/api/v1/cost-codes"): api_cost_code,
    ("POST", "/api/v1/cost-codes/import"): api_import_cost_codes,
    ("POST", "/api/v1/bookings/{booking_id:int}/waive-fee"): api_waive_fee,
    ("POST", "/admin/outbox/{outbox_id:int}/requeue"): page_requeue,
    ("POST", "/approvals/{request_id:int}/decide"): page_decide,
    ("POST", "/admin/courses/{course_id:int}/sessions/new"): page_create_session,
    ("POST", "/sessions/{session_id:int}/edit"): page_edit_session,
    ("POST", "/sessions/{session_id:int}/copy"): page_copy_session,
    ("POST", "/sessions/{session_id:int}/cancel-session"): page_cancel_session,
    ("POST", "/sessions/{session_id:int}/attendance"): page_mark_one,
    ("POST", "/sessions/{session_id:int}/attendance/all"): page_mark_all,
    ("POST", "/sessions/{session_id:int}/add-learner"): page_add_learner,
    ("POST", "/bookings/{booking_id:int}/remove"): page_remove,
    ("POST", "/bookings/{booking_id:int}/move"): page_move,
    ("POST", "/sessions/{session_id:int}/message"): page_message,
    ("POST", "/admin/records/import"): page_import_completions,
    ("POST", "/admin/cost-codes"): page_cost_code,
    ("POST", "/admin/cost-codes/import"): page_import_cost_codes,
    ("POST", "/admin/rooms/new"): page_create_room,
    ("POST", "/admin/rooms/{room_id:int}/edit"): page_edit_room,
    ("POST", "/admin/people/{person_id:int}/roles"): page_change_roles,
    ("POST", "/admin/people/import/confirm"): page_import_people,
    ("POST", "/admin/units/import/confirm"): page_import_units,
    ("POST", "/admin/people/{person_id:int}/deactivate"): page_deactivate,
    ("POST", "/admin/people/{person_id:int}/reactivate"): page_reactivate,
    ("POST", "/admin/tokens"): page_create_token,
    ("POST", "/admin/tokens/{token_id:int}/revoke"): page_revoke_token,
    # Catalogue administration (courses)
    ("POST", "/admin/courses/new"): page_create_course,
    ("POST", "/admin/courses/{course_id:int}"): page_edit_course,
    ("POST", "/admin/courses/{course_id:int}/archive"): page_archive_course,
    ("POST", "/admin/courses/{course_id:int}/restore"): page_restore_course,
    ("POST", "/admin/account-requests/{account_request_id:int}/approve"): page_approve_account,
    ("POST", "/admin/account-requests/{account_request_id:int}/decline"): page_decline_account,
    # Exemptions and extensions (issue 18)
    ("POST", "/api/v1/exemptions"): api_request_exemption,
    ("POST", "/api/v1/exemptions/{exemption_id:int}/decision"): api_decide_exemption,
    ("POST", "/exemptions/{exemption_id:int}/decide"): page_decide_exemption,
    ("POST", "/team/{person_id:int}/exemptions/new"): page_request_exemption,
    # Certificates and evidence (issue 18)
    ("POST", "/api/v1/evidence/{evidence_id:int}/decision"): api_decide_evidence,
    ("POST", "/evidence/{evidence_id:int}/decision"): page_decide_evidence,
    # Learning programs (issue 18)
    ("POST", "/api/v1/programs"): api_create_program,
    ("PUT", "/api/v1/programs/{program_id:int}"): api_update_program,
    ("POST", "/admin/programs/new"): page_create_program,
    ("POST", "/admin/programs/{program_id:int}/edit"): page_edit_program,
    # Outgoing webhooks (issue 19)
    ("POST", "/api/v1/webhooks"): api_create_webhook,
    ("PATCH", "/api/v1/webhooks/{webhook_id:int}"): api_change_webhook,
    ("DELETE", "/api/v1/webhooks/{webhook_id:int}"): api_delete_webhook,
    ("POST", "/api/v1/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/resend"): (
        api_resend_webhook
    ),
    ("POST", "/admin/webhooks"): page_create_webhook,
    ("POST", "/admin/webhooks/{webhook_id:int}"): page_change_webhook,
    ("POST", "/admin/webhooks/{webhook_id:int}/activate"): page_activate_webhook,
    ("POST", "/admin/webhooks/{webhook_id:int}/delete"): page_delete_webhook,
    ("POST", "/admin/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/resend"): (
        page_resend_webhook
    ),
}


def changing_routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if method in ("POST", "PUT", "PATCH", "DELETE")
    }


async def _send(ctx: Ctx, call: Call, tokens: dict[str, str]) -> Any:
    client = ctx.browser.client
    if call.path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {tokens[call.who]}", **call.extra.get("headers", {})}
        return await client.request(
            call.method, call.path, json=call.json, content=call.content, headers=headers
        )
    await ctx.browser.sign_in(call.who)
    if call.files is not None:
        return await client.post(
            call.path, files=call.files, data={"_csrf_token": ctx.browser.csrf()}
        )
    return await ctx.browser.post(call.path, call.form)


async def test_every_administrative_change_is_audited(db_url: str, world: support.World) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the audit rows are written by the same code on both databases")
    app_clock = FixedClock(support.T0)
    app = create_app(support.settings_for(db_url, demo=True), clock=app_clock, run_worker=False)
    routes = changing_routes(app)
    unclassified = routes - set(DRIVERS) - set(SELF_SERVICE)
    assert not unclassified, f"audit or classify these changing routes: {sorted(unclassified)}"
    assert not set(DRIVERS) - routes, "drivers for routes that no longer exist"
    tokens = {
        email: await people.create_token(world.db, world.clock, email=email)
        for email in (ADMIN, TRAINER, MANAGER)
    }
    missing: list[str] = []
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        ctx = Ctx(world, Browser(client, world))
        for (method, path), driver in sorted(DRIVERS.items()):
            call = await driver(ctx)
            async with world.db.reading() as s:
                last = await s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
            app_clock.set(call.at or support.T0)
            try:
                response = await _send(ctx, call, tokens)
            finally:
                app_clock.set(support.T0)
            if response.status_code >= 400:
                missing.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                continue
            async with world.db.reading() as s:
                rows = (
                    await s.scalars(select(AuditEvent).where(AuditEvent.id > (last or 0)))
                ).all()
            found = [r for r in rows if r.action == call.action]
            if not found:
                missing.append(f"{method} {path}: no {call.action} in {[r.action for r in rows]}")
                continue
            row = found[0]
            actor = await support.actor(world.db, call.who)
            if row.actor_id != actor.person_id or not row.target:
                missing.append(f"{method} {path}: {row.action} by {row.actor} on {row.target}")
    assert not missing, "changes without their audit row:\n" + "\n".join(missing)


async def test_attendance_is_audited_per_learner_with_what_changed(
    world: support.World,
) -> None:
    session_id = await support.make_session(world, start=world.clock.now() + timedelta(days=3))
    lee = await support.actor(world.db, "lee@example.org")
    booked = await bookings.book_place(world.db, world.clock, lee, BookingRequest(session_id))
    later = FixedClock(world.clock.now() + timedelta(days=3, hours=1))
    marks = [roster.Mark(booked.booking.id, "no_show")]
    await roster.mark_attendance(world.db, later, world.admin, session_id, marks)
    async with world.db.reading() as s:
        row = await s.scalar(select(AuditEvent).where(AuditEvent.action == "attendance.marked"))
    assert row is not None
    assert row.target == f"booking {booked.booking.id}"
    assert row.details == {"session": session_id, "from": "booked", "to": "no_show"}
