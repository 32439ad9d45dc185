"""Cost codes (API, CSV import, validation at sign-up), budget-holder approval end to end with
decline and over-limit, no-show fees, waivers, and the formula-safe journal export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from billing import services as billing
from billing.domain.money import Money
from billing.models import LedgerEntry
from booking import approvals, bookings, catalogue, notifications, people, roster
from booking.app import create_app
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.kernel.errors import ConflictError, RefusedError
from booking.models import Outbox
from tests import support

POLICY = {
    "tiers": [
        {"min_notice_hours": 336, "fee_percent": 0},
        {"min_notice_hours": 168, "fee_percent": 50},
        {"min_notice_hours": 0, "fee_percent": 100},
    ],
    "no_show_fee_percent": 100,
}


@pytest.fixture
async def api(world: support.World, db_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(support.settings_for(db_url), clock=world.clock, run_worker=False)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def priced_course(world: support.World, code: str = "MHFA", pence: int = 6000) -> int:
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(
            code=code,
            title="Mental Health First Aid",
            price=Money(pence),
            cancellation_policy=POLICY,
        ),
    )
    return course.id


async def add_budget_holder(world: support.World) -> None:
    await support.add_budget_holder(world)


async def test_cost_codes_over_the_api_and_from_csv(
    world: support.World, api: AsyncTestClient[Any]
) -> None:
    admin = bearer(world.admin_token)
    body = {
        "code": "as-4410",
        "description": "Adult Services training",
        "budget_holder_email": "Bud@Example.org",
        "active_from": "2027-01-01",
        "active_to": None,
        "annual_limit": {"amount": 250000, "currency": "GBP"},
    }
    created = await api.post("/api/v1/cost-codes", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "AS-4410"
    assert created.json()["budget_holder_email"] == "bud@example.org"
    assert (await api.post("/api/v1/cost-codes", json=body, headers=admin)).status_code == 409
    bad = await api.post("/api/v1/cost-codes", json={**body, "code": "no spaces"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "code"
    lee = await people.create_token(world.db, world.clock, email="lee@example.org")
    assert (await api.post("/api/v1/cost-codes", json=body, headers=bearer(lee))).status_code == 403

    text = (
        "code,description,budget_holder_email,active_from,active_to,annual_limit\n"
        "AS-4410,Adult Services (renamed),bud@example.org,2027-01-01,,2500.00\n"
        "CH-1,Children's Services,bud@example.org,2027-01-01,2027-12-31,\n"
        "=BAD,Formula,bud@example.org,2027-01-01,,\n"
        "CH-2,No date,bud@example.org,someday,,\n"
    )
    imported = await api.post(
        "/api/v1/cost-codes/import",
        content=text.encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    statuses = [(i["line"], i["status"]) for i in imported.json()["items"]]
    assert statuses == [(2, "updated"), (3, "created"), (4, "error"), (5, "error")]
    listed = await api.get("/api/v1/cost-codes", headers=admin)
    assert [c["code"] for c in listed.json()["items"]] == ["AS-4410", "CH-1"]


async def test_unknown_inactive_and_expired_codes_are_refused_with_a_reason(
    world: support.World,
) -> None:
    course_id = await priced_course(world)
    session_id = await support.make_session(world, course_id=course_id)
    async with world.db.transaction() as s:
        for code, start, end in (
            ("OLD-1", date(2026, 1, 1), date(2026, 12, 31)),
            ("NEW-1", date(2028, 1, 1), None),
        ):
            await billing.create_cost_code(
                s,
                billing.CostCodeInput(code, "x", "bud@example.org", start, end),
                pattern=world.db.settings.cost_code_pattern,
                now=world.clock.now(),
            )
    lee = await support.actor(world.db, "lee@example.org")
    for code, reason in (
        ("NOPE-1", "cost_code_unknown"),
        ("OLD-1", "cost_code_expired"),
        ("NEW-1", "cost_code_inactive"),
        ("a b", "cost_code_format"),
    ):
        with pytest.raises(RefusedError) as refused:
            await bookings.book_place(
                world.db, world.clock, lee, BookingRequest(session_id, cost_code=code)
            )
        assert refused.value.status == 422
        assert [r.code for r in refused.value.reasons] == [reason]


async def test_budget_holder_approves_declines_and_sees_the_limit(
    world: support.World, api: AsyncTestClient[Any]
) -> None:
    await add_budget_holder(world)
    course_id = await priced_course(world)
    session_id = await support.make_session(world, course_id=course_id)
    async with world.db.transaction() as s:
        await billing.create_cost_code(
            s,
            billing.CostCodeInput(
                "AS-4410", "Adult Services", "bud@example.org", date(2027, 1, 1), None, Money(10000)
            ),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )
    lee = await support.actor(world.db, "lee@example.org")
    kim = await support.actor(world.db, "kim@example.org")
    bud = await support.actor(world.db, "bud@example.org")
    first = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="as-4410")
    )
    # The course lists no approval: the budget holder's is required because a code pays.
    assert first.booking.state == "pending_approval"
    assert first.booking.cost_code == "AS-4410"
    waiting = await approvals.list_waiting(world.db, world.clock, bud)
    assert [(w.kind, w.booking_id) for w in waiting] == [("budget_holder", first.booking.id)]
    assert waiting[0].amount == {"amount": 6000, "currency": "GBP"}
    assert waiting[0].cost_code == "AS-4410" and waiting[0].note is None

    # Over the API too, with amount and code.
    token = await people.create_token(world.db, world.clock, email="bud@example.org")
    queue = (await api.get("/api/v1/approvals", headers=bearer(token))).json()["items"]
    assert queue[0]["amount"] == {"amount": 6000, "currency": "GBP"}
    assert queue[0]["cost_code"] == "AS-4410"

    decided = await approvals.decide(world.db, world.clock, bud, waiting[0].id, decision="approve")
    assert decided.booking.state == "booked"

    # A second place would take the code to £120 of £100: flagged, not refused.
    second = await bookings.book_place(
        world.db, world.clock, kim, BookingRequest(session_id, cost_code="AS-4410")
    )
    assert second.booking.state == "pending_approval"
    (item,) = await approvals.list_waiting(world.db, world.clock, bud)
    assert item.note and "Over the annual limit" in item.note
    from booking import payments

    config = payments.billing_config(world.db.settings)
    (request,) = await payments.spend_requests(world.db, world.clock, bud, config)
    assert request.over_limit and request.spent == Money(6000) and request.limit == Money(10000)

    declined = await approvals.decide(
        world.db, world.clock, bud, item.id, decision="decline", comment="Over budget this year"
    )
    assert declined.booking.state == "declined"
    # The budget holder booking for themselves needs nobody's approval.
    own = await bookings.book_place(
        world.db, world.clock, bud, BookingRequest(session_id, cost_code="AS-4410")
    )
    assert own.booking.state == "booked"


async def test_fees_no_show_waiver_and_the_journal(
    world: support.World, api: AsyncTestClient[Any]
) -> None:
    course_id = await priced_course(world)
    start = world.clock.now() + timedelta(days=10)
    session_id = await support.make_session(
        world, course_id=course_id, start=start, hours=3, facilitators=["trainer@example.org"]
    )
    async with world.db.transaction() as s:
        await billing.create_cost_code(
            s,
            billing.CostCodeInput("AS-4410", "Adult Services", "lee@example.org", date(2027, 1, 1)),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )
    # Lee is the code's budget holder: no approval needed.
    lee = await support.actor(world.db, "lee@example.org")
    kim = await support.actor(world.db, "kim@example.org")
    booked = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="AS-4410")
    )
    assert booked.booking.state == "booked"
    assert booked.booking.cancellation_quote is not None
    assert booked.booking.cancellation_quote["fee"].amount == 3000  # 10 days: 50 %

    # Cancel with a fee, through the API; then an administrator waives it.
    lee_token = await people.create_token(world.db, world.clock, email="lee@example.org")
    quote = (
        await api.get(
            f"/api/v1/bookings/{booked.booking.id}/cancellation-quote", headers=bearer(lee_token)
        )
    ).json()
    assert quote["fee"] == {"amount": 3000, "currency": "GBP"} and quote["refund"] is None
    cancelled = await api.post(
        f"/api/v1/bookings/{booked.booking.id}/cancel",
        json={"reason": "Work commitments", "quoted_fee": quote["fee"]},
        headers=bearer(lee_token),
    )
    assert cancelled.status_code == 200 and cancelled.json()["fee"]["amount"] == 3000

    async def cancellation_email() -> str:
        async with world.db.reading() as s:
            row = await s.scalar(
                select(Outbox).where(
                    Outbox.topic == "booking.cancelled", Outbox.booking_id == booked.booking.id
                )
            )
            assert row is not None
            return (
                await notifications.render_row(s, row, world.db.settings, world.clock.now())
            ).text

    # The email tells the learner what it cost, and to which code.
    text = await cancellation_email()
    assert "A cancellation fee of £30.00 applies, charged to cost code AS-4410." in text
    assert "no charge" not in text
    waived = await api.post(
        f"/api/v1/bookings/{booked.booking.id}/waive-fee",
        json={"reason": "Bereavement"},
        headers=bearer(world.admin_token),
    )
    assert waived.status_code == 200, waived.text
    assert waived.json()["waived"] == {"amount": 3000, "currency": "GBP"}
    # Sent after the waiver, the same email says there is nothing to pay.
    assert "There is no charge for this cancellation." in await cancellation_email()
    again = await api.post(
        f"/api/v1/bookings/{booked.booking.id}/waive-fee",
        json={"reason": "Twice"},
        headers=bearer(world.admin_token),
    )
    assert again.status_code == 409

    # Kim books on Lee's code (Lee approves as budget holder), attends... as a no-show.
    pending = await bookings.book_place(
        world.db, world.clock, kim, BookingRequest(session_id, cost_code="AS-4410")
    )
    (request,) = await approvals.list_waiting(world.db, world.clock, lee)
    await approvals.decide(world.db, world.clock, lee, request.id, decision="approve")
    world.clock.set(start + timedelta(hours=1))
    trainer = await support.actor(world.db, "trainer@example.org")
    await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(pending.booking.id, "no_show")]
    )
    await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(pending.booking.id, "no_show")]
    )
    async with world.db.reading() as s:
        rows = (
            await s.execute(
                select(LedgerEntry.kind, LedgerEntry.amount)
                .where(LedgerEntry.reference == f"booking-{pending.booking.id}")
                .order_by(LedgerEntry.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [("no_show_fee", 6000)]
    # Marked attended after all: the fee is corrected by a new row and the place charged.
    await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(pending.booking.id, "attended")]
    )
    async with world.db.reading() as s:
        rows = (
            await s.execute(
                select(LedgerEntry.kind, LedgerEntry.amount)
                .where(LedgerEntry.reference == f"booking-{pending.booking.id}")
                .order_by(LedgerEntry.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("no_show_fee", 6000),
        ("charge", 6000),
        ("correction", -6000),
    ] or [tuple(r) for r in rows] == [
        ("no_show_fee", 6000),
        ("correction", -6000),
        ("charge", 6000),
    ]

    journal = await api.get(
        "/api/v1/finance/journal.csv?from=2027-03-01&to=2027-03-31",
        headers=bearer(world.admin_token),
    )
    assert journal.status_code == 200
    # UTF-8 with a byte order mark (for Excel).
    assert journal.content.startswith(b"\xef\xbb\xbfdate,")
    lines = list(csv.reader(io.StringIO(journal.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["date", "cost_code", "amount"]
    kinds = [line[4] for line in lines[1:]]
    assert kinds == ["cancellation_fee", "waiver", "no_show_fee", *kinds[3:]]
    assert {line[1] for line in lines[1:]} == {"AS-4410"}
    assert (
        await api.get("/api/v1/finance/journal.csv", headers=bearer(lee_token))
    ).status_code == 403


async def test_the_journal_neutralises_formula_cells(world: support.World) -> None:
    now = world.clock.now()
    async with world.db.transaction() as s:
        for i, text in enumerate(('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1:A9)", "Safe")):
            await billing.record(
                s,
                kind="charge",
                amount=Money(1000 + i),
                reference=f"=booking-{i}",
                description=text,
                actor="admin@example.org",
                now=now,
                cost_code="AS-4410",
                reason="-reason" if i == 2 else None,
            )
        await billing.record(
            s,
            kind="refund",
            amount=Money(-500),
            reference="booking-9",
            description="Refund",
            actor="system",
            now=now,
            cost_code="AS-4410",
        )
        text = await billing.journal_csv(s, start=now.date(), end=now.date())
    rows = list(csv.reader(io.StringIO(text)))[1:]
    for row in rows:
        for cell in row[1:2] + row[3:]:
            assert not cell.startswith(("=", "+", "-", "@")), row
    assert [r[5] for r in rows[:5]] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1:A9)",
        "Safe",
    ]
    assert rows[0][6] == "'=booking-0" and rows[2][7] == "'-reason"
    # Amounts are numbers the export wrote itself (a refund is negative).
    assert [r[2] for r in rows] == ["10.00", "10.01", "10.02", "10.03", "10.04", "-5.00"]


async def test_a_stale_quote_is_refused(world: support.World) -> None:
    course_id = await priced_course(world)
    start = world.clock.now() + timedelta(days=14, minutes=30)
    session_id = await support.make_session(world, course_id=course_id, start=start)
    async with world.db.transaction() as s:
        await billing.create_cost_code(
            s,
            billing.CostCodeInput("AS-4410", "x", "lee@example.org", date(2027, 1, 1)),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )
    lee = await support.actor(world.db, "lee@example.org")
    booked = await bookings.book_place(
        world.db, world.clock, lee, BookingRequest(session_id, cost_code="AS-4410")
    )
    quote = booked.booking.cancellation_quote
    assert quote is not None and quote["fee"].amount == 0 and quote["free_until"] is not None
    world.clock.advance(timedelta(hours=1))  # the free period ends meanwhile
    with pytest.raises(ConflictError):
        await bookings.cancel_booking(
            world.db, world.clock, lee, booked.booking.id, reason="Illness", quoted_fee=quote["fee"]
        )
