"""A small known world for the reports (tests/web/test_report_pages.py and the browser tests):
one past session with attendance, a late cancellation and a waiting list, one session to come
with a cancellation and someone who left the waiting list, and a few ledger rows.

Everything is relative to `support.T0` (the app's fixed "now", Monday 1 March 2027)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.money import Money
from billing.models import Payment
from billing.services import ledger
from booking import bookings, catalogue, roster
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from booking.clock import FixedClock
from booking.kernel import tx
from tests import support

PAST_START = support.T0 - timedelta(days=10)  # Friday 19 February 2027, 09:00 UTC
NEXT_START = support.T0 + timedelta(days=20)


@dataclass
class ReportWorld:
    past_session: int
    next_session: int
    mhfa_course: int
    learners: list[str]


async def _book(world: support.World, clock: FixedClock, email: str, session_id: int) -> int:
    actor = await support.actor(world.db, email)
    outcome = await bookings.book_place(world.db, clock, actor, BookingRequest(session_id))
    return outcome.booking.id


async def _cancel(
    world: support.World, clock: FixedClock, email: str, booking_id: int, reason: str
) -> None:
    actor = await support.actor(world.db, email)
    await bookings.cancel_booking(world.db, clock, actor, booking_id, reason=reason)


async def seed_reports(world: support.World) -> ReportWorld:
    r = await support.make_learners(world, 4, prefix="rep")
    then = FixedClock(support.T0 - timedelta(days=40))
    past = await _past_session(world, then, r)
    mhfa = await catalogue.create_course(
        world.db, then, world.admin, CourseInput(code="MHFA", title="Mental Health First Aid")
    )
    upcoming = await support.make_session(
        world,
        course_id=mhfa.id,
        capacity=2,
        start=NEXT_START,
        facilitators=["trainer@example.org"],
    )
    now = FixedClock(support.T0)
    lee = await _book(world, now, "lee@example.org", upcoming)
    await _book(world, now, "kim@example.org", upcoming)
    r3 = await _book(world, now, r[3], upcoming)  # waiting: the session is full
    await _cancel(world, now, r[3], r3, "No longer needed")
    await _cancel(world, now, "lee@example.org", lee, "Clash with work")
    await _ledger(world)
    return ReportWorld(past, upcoming, mhfa.id, r)


async def _past_session(world: support.World, then: FixedClock, r: list[str]) -> int:
    """Three places, all taken; two wait. One place is cancelled a day before (late) and the
    first in line is promoted; the trainer marks attended, no-show and partly attended."""
    session = await support.make_session(
        support.World(world.db, then, world.admin, world.admin_token, world.course_id),
        capacity=3,
        start=PAST_START,
        facilitators=["trainer@example.org"],
    )
    ids = {}
    for email in ("lee@example.org", "kim@example.org", r[0], r[1], r[2]):
        ids[email] = await _book(world, then, email, session)
    day_before = FixedClock(PAST_START - timedelta(hours=24))
    await _cancel(world, day_before, r[0], ids[r[0]], "Illness")
    after = FixedClock(PAST_START + timedelta(hours=4))
    trainer = await support.actor(world.db, "trainer@example.org")
    marks = [
        roster.Mark(ids["lee@example.org"], "attended"),
        roster.Mark(ids["kim@example.org"], "no_show"),
        roster.Mark(ids[r[1]], "partially_attended"),
    ]
    await roster.mark_attendance(world.db, after, trainer, session, marks)
    return session


async def _ledger(world: support.World) -> None:
    """A course fee and a cancellation fee on a cost code (the fee then waived in part), and a
    card payment's charge and refund."""

    async def work(s: AsyncSession) -> None:
        at = support.T0 - timedelta(days=5)
        rows = [
            ("charge", 12000, "ASC-TRAIN"),
            ("cancellation_fee", 6000, "ASC-TRAIN"),
            ("waiver", -2500, "ASC-TRAIN"),
            ("charge", 9950, None),
            ("refund", -9950, None),
        ]
        for n, (kind, amount, code) in enumerate(rows):
            await ledger.record(
                s,
                kind=kind,
                amount=Money(amount, "GBP"),
                reference=f"B{n}",
                description="Report test",
                actor="system",
                now=at,
                cost_code=code,
                payment_id=None if code else await _payment(s, n),
            )

    await tx.run(world.db, work)


async def _payment(s: AsyncSession, n: int) -> int:
    row = Payment(
        reference=f"P{n}",
        amount=9950,
        currency="GBP",
        payer_email="lee@example.org",
        description="Report test",
        status="succeeded",
        hold_until=support.T0,
        created_at=support.T0,
        updated_at=support.T0,
    )
    s.add(row)
    await s.flush()
    return row.id
