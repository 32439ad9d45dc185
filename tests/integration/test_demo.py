"""The demo data: a believable council catalogue, loaded once, through the services."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from booking import approvals, catalogue, payments, people, records, reports, roster
from booking.app import create_app
from booking.clock import FixedClock
from booking.db import Database
from booking.demo import bank_holidays, load_demo
from booking.domain.records import CertificationStatus
from booking.kernel.views import CourseView, SessionView
from booking.models import OrgUnit, Outbox, WebhookEndpoint
from tests import support

LONDON = ZoneInfo("Europe/London")


async def _courses(db: Database, clock: FixedClock) -> list[CourseView]:
    admin = await support.actor(db, "admin@example.org")
    page = await catalogue.list_courses(db, clock, admin, limit=100)
    assert page.next_cursor is None
    return page.items


def _sessions(courses: list[CourseView]) -> list[SessionView]:
    return [s for c in courses for s in c.sessions]


async def test_the_demo_loads_a_council_catalogue_once(db: Database, clock: FixedClock) -> None:
    assert await load_demo(db, clock) is True
    courses = await _courses(db, clock)
    everyone = await people.list_people(db)

    assert await load_demo(db, clock) is False
    assert len(await _courses(db, clock)) == len(courses)
    assert len(_sessions(await _courses(db, clock))) == len(_sessions(courses))
    assert len(await people.list_people(db)) == len(everyone)


async def test_the_organisation_has_a_tree_and_line_managers(
    db: Database, clock: FixedClock
) -> None:
    await load_demo(db, clock)
    async with db.reading() as s:
        units = {u.id: u for u in (await s.scalars(select(OrgUnit))).all()}
    assert len(units) >= 3

    def depth(unit: OrgUnit) -> int:
        return 1 if unit.parent_id is None else 1 + depth(units[unit.parent_id])

    assert max(depth(u) for u in units.values()) >= 3

    everyone = await people.list_people(db)
    assert 35 <= len(everyone) <= 50
    assert all(p.email.endswith("@example.org") for p in everyone)
    managers = {p.email: p.manager_email for p in everyone}

    def chain(email: str | None) -> int:
        return 0 if email is None else 1 + chain(managers[email])

    assert sum(1 for p in everyone if p.manager_email) >= 30
    assert max(chain(p.email) for p in everyone) >= 3
    roles = Counter(role for p in everyone for role in p.roles)
    assert roles["admin"] == 1
    assert 2 <= roles["trainer"] <= 3
    assert 1 <= roles["budget_holder"] <= 2
    (admin,) = [p for p in everyone if "admin" in p.roles]
    assert admin.email == "admin@example.org"
    staff = Counter(p.staff_type for p in everyone)
    assert staff["payroll"] > len(everyone) / 2
    assert staff["casual"] and staff["associate"] and staff["external"]
    payroll = [p for p in everyone if p.staff_type == "payroll"]
    assert all(p.personnel_number and p.job_role and p.org_unit for p in payroll)


async def test_the_catalogue_shows_every_kind_of_session(db: Database, clock: FixedClock) -> None:
    await load_demo(db, clock)
    courses = await _courses(db, clock)
    sessions = _sessions(courses)
    _check_catalogue(courses, now=clock.now())

    # The virtual sessions' links are there for the people who may see them.
    admin = await support.actor(db, "admin@example.org")
    virtual = [s for s in sessions if s.virtual]
    shown = await catalogue.get_session(db, clock, admin, virtual[0].id)
    assert shown.virtual_link and shown.virtual_link.startswith("https://")
    # The priced course that needs approval carries its cancellation tiers.
    (priced,) = [c for c in courses if c.price is not None and c.approval]
    detail = await catalogue.get_course(db, clock, admin, priced.id)
    assert detail.cancellation_policy and len(detail.cancellation_policy["tiers"]) == 3
    # The offer-mode session has let a place go to the first on its waiting list.
    assert any(s.waitlist_mode == "offer" and s.offered == 1 for s in sessions)


async def test_in_early_march_one_programme_runs_across_the_clock_change(
    db: Database, clock: FixedClock
) -> None:
    await load_demo(db, clock)
    sessions = _sessions(await _courses(db, clock))
    across = [s for s in sessions if len({d.start.utcoffset() for d in s.dates}) > 1]
    assert len(across) == 1
    (programme,) = across
    assert [d.start.strftime("%H:%M %Z") for d in programme.dates] == [
        "09:30 GMT",
        "09:30 BST",
        "09:30 BST",
    ]


@pytest.mark.parametrize(
    "now",
    [
        # A Saturday night before the October clock change.
        datetime(2027, 10, 16, 22, 30, tzinfo=UTC),
        # Christmas week: nothing is run over the holiday.
        datetime(2027, 12, 20, 17, 0, tzinfo=UTC),
        # Late on a summer Friday (00:30 on Saturday in London).
        datetime(2027, 7, 2, 23, 30, tzinfo=UTC),
    ],
)
async def test_the_demo_looks_upcoming_whenever_it_is_loaded(db: Database, now: datetime) -> None:
    clock = FixedClock(now)
    assert await load_demo(db, clock) is True
    _check_catalogue(await _courses(db, clock), now=now)


async def test_the_same_clock_gives_the_same_demo(
    db: Database, clock: FixedClock, sqlite_template: Path, tmp_path: Path
) -> None:
    other = Database(
        support.settings_for(support.fresh_sqlite(sqlite_template, tmp_path / "other.db"))
    )
    try:
        await load_demo(db, clock)
        await load_demo(other, clock)
        assert await _snapshot(db, clock) == await _snapshot(other, clock)
    finally:
        await other.dispose()


def _check_catalogue(courses: list[CourseView], *, now: datetime) -> None:
    sessions = _sessions(courses)
    assert len(courses) >= 8
    assert 18 <= len(sessions) <= 24
    assert any(c.price is not None and c.price.amount > 0 for c in courses)
    assert any(c.audience for c in courses)
    assert any(s.virtual for s in sessions)
    statuses = Counter(s.status for s in sessions)
    assert statuses["cancelled"] == 1
    assert statuses["closed"] == 1
    assert any(s.status == "full" and s.waitlisted > 0 for s in sessions)
    assert any(len(s.dates) > 1 for s in sessions)
    assert any(s.waitlist_mode == "offer" for s in sessions)
    assert sum(1 for s in sessions if s.status == "open" and 0 < s.booked < s.capacity) >= 3

    today = now.astimezone(LONDON).date()
    holidays = bank_holidays(today.year) | bank_holidays(today.year + 1)
    dates = sorted(((d.start, d.end) for s in sessions for d in s.dates), key=lambda d: d[0])
    for start, _end in dates:
        day = start.date()
        assert today < day <= today + timedelta(days=92)
        assert day.weekday() < 5 and day not in holidays
        assert start.tzinfo == LONDON
        assert (start.hour, start.minute) in {(9, 30), (10, 0), (13, 30)}
    # No two sessions at once: no trainer, room or learner is double-booked.
    for (_, end), (start, _) in zip(dates, dates[1:], strict=False):
        assert end <= start
    for s in sessions:
        assert s.facilitators
        assert s.virtual or (s.room is not None and s.room.address)
        assert s.seats_held <= s.capacity


async def _snapshot(db: Database, clock: FixedClock) -> Any:
    courses = await _courses(db, clock)
    return (
        [
            (p.email, p.name, p.personnel_number, p.manager_email, p.org_unit, p.roles)
            for p in await people.list_people(db)
        ],
        [
            (
                c.code,
                c.title,
                c.price,
                [
                    (
                        [(d.start, d.end, d.timezone) for d in s.dates],
                        s.capacity,
                        s.booked,
                        s.offered,
                        s.waitlisted,
                        s.status,
                        s.room,
                        s.facilitators,
                    )
                    for s in c.sessions
                ],
            )
            for c in courses
        ],
    )


async def test_every_role_sees_a_real_page_on_first_sign_in(
    db: Database, clock: FixedClock
) -> None:
    """One load, then what each demo sign-in's first pages show (through the services the
    pages call)."""
    await load_demo(db, clock)
    learner, manager, trainer, holder = [
        await support.actor(db, email)
        for email in (
            "leah.murphy@example.org",
            "siobhan.kelly@example.org",
            "sam.ellison@example.org",
            "priya.raman@example.org",
        )
    ]
    admin = await support.actor(db, "admin@example.org")
    today = clock.now().astimezone(LONDON).date()

    # Trainer, My sessions (/me/sessions): yesterday's session has its attendance to take, and
    # an older one was marked.
    mine = await roster.my_sessions(db, clock, trainer)
    (to_take,) = mine.to_take
    assert to_take.session.dates[0].start.date() == today - timedelta(days=1)
    assert to_take.unmarked == 5
    grace = await support.actor(db, "grace.mensah@example.org")
    assert any(t.session.booked == 0 for t in (await roster.my_sessions(db, clock, grace)).past)

    # Manager (/approvals): requests for a place on a priced course wait for them; the team
    # page lists their direct reports.
    waiting = await approvals.list_waiting(db, clock, manager)
    assert len([a for a in waiting if a.kind == "manager"]) == 2
    assert all(a.cost_code == "ASC-TRAIN" for a in waiting)
    team = await records.my_team(db, clock, manager)
    assert len(team.members) >= 4

    # Budget holder (/approvals, /budget): one request waits for them; their code has a
    # spending limit and spend against it.
    (for_holder,) = await approvals.list_waiting(db, clock, holder)
    assert for_holder.kind == "budget_holder"
    config = payments.billing_config(db.settings)
    (code,) = await payments.cost_code_spend(db, clock, holder, config)
    assert code.annual_limit is not None
    assert code.committed.amount + code.total.amount > 0

    # Learner (/me/record): a workshop completion marked by the trainer, and mandatory
    # learning with e-learning completions.
    record = await records.my_record(db, clock, learner)
    sources = {c.course_code: c.source for c in record.courses if c.completed_at}
    assert sources["MAN-HAND"] == "workshop"
    assert sources["GDPR-REF"] == "elearning"
    assert any(c.mandatory for c in record.courses)

    # Admin: certifications in every state the product knows; the compliance report has rows.
    statuses = set()
    for person in await people.list_people(db):
        shown = await records.learner_record(db, clock, admin, person.id)
        statuses |= {c.status for c in shown.certifications}
    assert statuses == {s.value for s in CertificationStatus}
    report = await records.compliance_report(db, clock, admin)
    assert any(row.required > row.compliant > 0 for row in report)

    # A full session with a waiting list, and a session where a place is on offer.
    sessions = _sessions(await _courses(db, clock))
    assert any(s.status == "full" and s.waitlisted > 0 for s in sessions)
    assert any(s.offered > 0 for s in sessions)
    # A priced course can be paid by card (when card payments are configured).
    courses = await _courses(db, clock)
    assert any(c.price is not None and not c.approval for c in courses)
    # ... council staff pay its discount price; courses have categories and owners.
    assert any(c.discount and c.discount["audience"] for c in courses)
    assert all(c.category for c in courses) and any(c.owner_email for c in courses)

    # Admin (/admin/account-requests): people without an account wait for a decision.
    assert await people.count_waiting_account_requests(db, admin) == 2

    # Mandatory learning: the course owner has an exemption and evidence to decide; the
    # administrators an extension for a course a team mailbox owns; everyone has the induction.
    owner = await support.actor(db, "chris.doyle@example.org")
    waiting = await records.list_exemptions(db, owner, state="pending")
    assert [(w.request.kind, w.request.course["code"]) for w in waiting] == [
        ("exemption", "SAFA-L2")
    ]
    assert len((await records.evidence_queue(db, owner)).items) == 1
    kinds = {w.request.kind for w in await records.list_exemptions(db, admin, state="pending")}
    assert kinds == {"exemption", "extension"}
    (program,) = (await records.my_record(db, clock, learner)).programs
    assert program.code == "NEW-START" and 0 < program.progress_percent < 100


async def test_each_demo_sign_in_lands_on_real_pages(db_url: str, clock: FixedClock) -> None:
    """Through the pages themselves: sign in as each role and open what it would look at."""
    db = Database(support.settings_for(db_url))
    try:
        await load_demo(db, clock)
        ids = {p.email: p.id for p in await people.list_people(db)}
    finally:
        await db.dispose()
    app = create_app(support.settings_for(db_url, demo=True), clock=clock, run_worker=False)
    pages = {
        "sam.ellison@example.org": ("/me/sessions", ["Attendance to take", "Take attendance"]),
        "siobhan.kelly@example.org": ("/approvals", ["Mental Health First Aid", "ASC-TRAIN"]),
        "priya.raman@example.org": ("/budget", ["ASC-TRAIN", "£3,000.00", "£150.00"]),
        "leah.murphy@example.org": ("/me/record", ["Manual Handling", "Data Protection"]),
        "admin@example.org": ("/admin/compliance", ["Compliance"]),
    }
    for email, (url, shown) in pages.items():
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            await client.get("/login")
            token = client.cookies.get("csrftoken")
            form = {"person_id": str(ids[email]), "next": url, "_csrf_token": token}
            signed_in = await client.post("/login", data=form, follow_redirects=False)
            assert signed_in.status_code == 303, signed_in.text
            page = await client.get(url)
            assert page.status_code == 200, (email, url)
            for text in shown:
                assert text in page.text, (email, url, text)


# --- reports (issue 17) ------------------------------------------------------------------------


async def test_every_report_has_figures_on_first_sign_in(db: Database, clock: FixedClock) -> None:
    """Past sessions with attendance, a no-show and a late cancellation, waiting lists,
    cancellations, fees on a cost code (one waived) and required learning: no report is empty."""
    await load_demo(db, clock)
    admin = await support.actor(db, "admin@example.org")
    for name in reports.REPORT_NAMES:
        result = await reports.run_report(db, clock, admin, name, {})
        assert result.report is not None and not result.report.empty, name
    fees = await reports.run_report(db, clock, admin, "fees", {})
    assert fees.report is not None
    [row] = fees.report.tables[0].rows
    assert row[0] == "RES-LD-01" and row[7] < 0  # the no-show fee, waived
    attendance = await reports.run_report(db, clock, admin, "attendance", {})
    assert attendance.report is not None
    efaw = next(r for r in attendance.report.tables[0].rows if r[0] == "EFAW")
    assert efaw[5] == 1 and efaw[7] == 1  # a no-show and a late cancellation


async def test_the_demo_has_one_inactive_webhook_example(db: Database, clock: FixedClock) -> None:
    """The webhooks page is not empty, and the example has nothing queued (it is switched off)."""
    await load_demo(db, clock)
    async with db.reading() as s:
        endpoints = (await s.scalars(select(WebhookEndpoint))).all()
        queued = (await s.scalars(select(Outbox.id).where(Outbox.channel == "webhook"))).all()
    assert [(e.active, e.url.startswith("https://")) for e in endpoints] == [(False, True)]
    assert queued == []
