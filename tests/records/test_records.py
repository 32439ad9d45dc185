"""Completions, the change feed, criteria, records of learning, team, compliance, exports and
certification notices, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from booking import people, records, roster
from booking.kernel.errors import ForbiddenError, InvalidError, NotFoundError
from booking.models import Completion, Outbox
from tests import support
from tests.records.conftest import attended_session, book, course


async def person_id(world: support.World, email: str) -> int:
    found = await support.actor(world.db, email)
    assert found.person_id is not None
    return found.person_id


async def feed_all(world: support.World, since: str | None = None) -> list[records.FeedItem]:
    lms = await support.actor_for_service(world.db)
    page = await records.records_feed(world.db, lms, since=since)
    return page.items


async def test_attendance_and_its_completion_are_in_the_feed_in_order(
    rworld: support.World,
) -> None:
    world = rworld
    session_id, (lee_booking, kim_booking) = await attended_session(
        world, world.course_id, "lee@example.org", "kim@example.org"
    )
    items = await feed_all(world)
    assert [(i.type, i.status, i.learner.email) for i in items] == [
        ("attendance", "attended", "lee@example.org"),
        ("completion", "completed", "lee@example.org"),
        ("attendance", "attended", "kim@example.org"),
        ("completion", "completed", "kim@example.org"),
    ]
    assert [int(i.cursor) for i in items] == sorted(int(i.cursor) for i in items)
    first = items[1]
    assert (first.course_code, first.session_id, first.source) == ("SAFE-1", session_id, "workshop")
    assert first.learner.personnel_number == "P003"

    # Kim did not come after all: the attendance change and the withdrawn completion follow.
    trainer = await support.actor(world.db, "trainer@example.org")
    await roster.mark_attendance(
        world.db, world.clock, trainer, session_id, [roster.Mark(kim_booking, "no_show")]
    )
    lms = await support.actor_for_service(world.db)
    page = await records.records_feed(world.db, lms, since=items[-1].cursor)
    assert [(i.type, i.status, i.learner.email) for i in page.items] == [
        ("attendance", "no_show", "kim@example.org"),
        ("completion", "withdrawn", "kim@example.org"),
    ]
    # Nothing new: the cursor stays.
    again = await records.records_feed(world.db, lms, since=page.next_cursor)
    assert again.items == [] and again.next_cursor == page.next_cursor
    empty = await records.records_feed(world.db, lms, since=None, limit=2)
    assert len(empty.items) == 2 and empty.next_cursor == empty.items[-1].cursor


async def test_inbound_completions_are_in_the_feed_with_their_source(
    rworld: support.World,
) -> None:
    world = rworld
    lms = await support.actor_for_service(world.db)
    at = world.clock.now() - timedelta(days=3)
    accepted, _ = await records.record_completions(
        world.db,
        world.clock,
        lms,
        [
            records.CompletionInput("SAFE-1", at, learner_email="lee@example.org"),
            records.CompletionInput("SAFE-1", at, personnel_number="P004", source="import"),
        ],
    )
    assert accepted == 2
    items = await feed_all(world)
    assert [(i.learner.email, i.source, i.completed_at) for i in items] == [
        ("lee@example.org", "elearning", at),
        ("kim@example.org", "import", at),
    ]
    # A resend is a duplicate and adds nothing to the feed.
    accepted, results = await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput("SAFE-1", at, learner_email="lee@example.org")],
    )
    assert accepted == 0 and results[0].status == "duplicate"
    assert len(await feed_all(world)) == 2


async def test_only_the_records_service_and_admins_read_the_feed(rworld: support.World) -> None:
    lee = await support.actor(rworld.db, "lee@example.org")
    with pytest.raises(ForbiddenError):
        await records.records_feed(rworld.db, lee, since=None)
    with pytest.raises(InvalidError):
        await records.records_feed(rworld.db, rworld.admin, since="nonsense")
    page = await records.records_feed(rworld.db, rworld.admin, since=None)
    assert page.items == [] and page.next_cursor == "0"


async def test_all_criteria_show_progress_then_complete_the_course(rworld: support.World) -> None:
    world = rworld
    workshop = world.course_id  # SAFE-1
    await course(world, "SAFE-EL", "Safeguarding e-learning")
    programme = await course(
        world, "SAFE-CERT", "Safeguarding certificate", certification_months=24
    )
    rules = await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        programme,
        completion_mode="all",
        criteria=["SAFE-1", "SAFE-EL"],
        mandatory=False,
        due_within_days=None,
    )
    assert rules.criteria == ["SAFE-1", "SAFE-EL"]
    await attended_session(world, workshop, "lee@example.org")
    lee_id = await person_id(world, "lee@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    record = await records.my_record(world.db, world.clock, lee)
    cert = next(c for c in record.courses if c.course_code == "SAFE-CERT")
    assert cert.status == "in_progress" and cert.completion_mode == "all"
    assert [(k.course_code, k.done_at is not None) for k in cert.criteria] == [
        ("SAFE-1", True),
        ("SAFE-EL", False),
    ]

    lms = await support.actor_for_service(world.db)
    done_at = world.clock.now()
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput("SAFE-EL", done_at, learner_email="lee@example.org")],
    )
    record = await records.learner_record(world.db, world.clock, world.admin, lee_id)
    cert = next(c for c in record.courses if c.course_code == "SAFE-CERT")
    assert cert.status == "complete" and cert.source == "criteria"
    assert cert.completed_at == done_at and cert.certification is not None
    assert [i.course_code for i in await feed_all(world)][-1] == "SAFE-CERT"


async def test_any_criterion_and_rules_set_after_the_fact(rworld: support.World) -> None:
    world = rworld
    await course(world, "FIRE-EL", "Fire safety e-learning")
    fire = await course(world, "FIRE", "Fire safety")
    lms = await support.actor_for_service(world.db)
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput("FIRE-EL", world.clock.now(), learner_email="kim@example.org")],
    )
    # The rule comes later: learners who already meet it are completed at once.
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        fire,
        completion_mode="any",
        criteria=["FIRE-EL", "SAFE-1"],
        mandatory=True,
        due_within_days=30,
    )
    async with world.db.reading() as s:
        sources = (
            await s.scalars(select(Completion.source).where(Completion.course_id == fire))
        ).all()
    assert sources == ["criteria"]
    with pytest.raises(InvalidError, match="no course"):
        await records.set_course_rules(
            world.db,
            world.clock,
            world.admin,
            fire,
            completion_mode="all",
            criteria=["NOPE"],
            mandatory=False,
            due_within_days=None,
        )
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(ForbiddenError):
        await records.set_course_rules(
            world.db,
            world.clock,
            lee,
            fire,
            completion_mode=None,
            criteria=[],
            mandatory=False,
            due_within_days=None,
        )


async def test_certification_renewal_required_learning_and_previous_completions(
    rworld: support.World,
) -> None:
    world = rworld
    fire = await course(
        world, "FIRE", "Fire safety", certification_months=12, certification_window_days=60
    )
    _, _ = await attended_session(world, fire, "lee@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    record = await records.my_record(world.db, world.clock, lee)
    (cert,) = record.certifications
    assert cert.status == "certified" and record.required == []
    assert cert.window_opens_at == cert.expires_at - timedelta(days=60)

    world.clock.set(cert.window_opens_at)  # the window opens: renewal is required learning
    record = await records.my_record(world.db, world.clock, lee)
    assert record.certifications[0].status == "window_open"
    (item,) = record.required
    assert (item.course_code, item.kind, item.due_at) == ("FIRE", "renewal", cert.expires_at)

    # Renewed inside the window: the earlier completion is kept as a previous completion.
    await attended_session(world, fire, "lee@example.org")
    record = await records.my_record(world.db, world.clock, lee)
    fire_record = next(c for c in record.courses if c.course_code == "FIRE")
    assert len(fire_record.previous) == 1 and record.required == []
    assert record.certifications[0].status == "certified"
    assert record.compliance.percent == 100


async def test_certification_notices_once_when_the_window_opens_and_before_expiry(
    rworld: support.World,
) -> None:
    world = rworld
    fire = await course(
        world, "FIRE", "Fire safety", certification_months=12, certification_window_days=90
    )
    await attended_session(world, fire, "lee@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    (cert,) = (await records.my_record(world.db, world.clock, lee)).certifications

    async def topics() -> list[str]:
        async with world.db.reading() as s:
            return list(
                (
                    await s.scalars(
                        select(Outbox.topic)
                        .where(Outbox.topic.like("certification.%"))
                        .order_by(Outbox.id)
                    )
                ).all()
            )

    world.clock.set(cert.window_opens_at - timedelta(seconds=1))
    assert await records.queue_certification_notices(world.db, world.clock) == 0
    world.clock.set(cert.window_opens_at)
    assert await records.queue_certification_notices(world.db, world.clock) == 1
    assert await records.queue_certification_notices(world.db, world.clock) == 0
    world.clock.set(cert.expires_at - timedelta(days=30))
    assert await records.queue_certification_notices(world.db, world.clock) == 1
    world.clock.set(cert.expires_at)
    assert await records.queue_certification_notices(world.db, world.clock) == 0
    assert await topics() == ["certification.window_open", "certification.expiring"]

    # The messages render from their templates.
    from booking import notifications

    settings = support.settings_for("sqlite://")
    async with world.db.reading() as s:
        rows = (await s.scalars(select(Outbox).where(Outbox.topic.like("certification.%")))).all()
        rendered = [await notifications.render_row(s, r, settings, world.clock.now()) for r in rows]
    assert "Fire safety" in rendered[0].text and "renewal window is now open" in rendered[0].text
    assert "Renew it before then" in rendered[1].text
    assert all(r.subject and r.to_email == "lee@example.org" for r in rendered)


async def test_a_learner_sees_only_their_own_record(rworld: support.World) -> None:
    world = rworld
    kim_id = await person_id(world, "kim@example.org")
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(NotFoundError):
        await records.learner_record(world.db, world.clock, lee, kim_id)
    own = await records.my_record(world.db, world.clock, lee)
    assert own.person.email == "lee@example.org"
    lms = await support.actor_for_service(world.db)
    with pytest.raises(NotFoundError):
        await records.learner_record(world.db, world.clock, lms, kim_id)


async def test_the_team_is_direct_reports_and_records_are_open_up_the_chain_only(
    rworld: support.World,
) -> None:
    world = rworld
    # Lee manages Sam; Mo manages Lee and Kim. Mo's team is Lee and Kim; Sam's record is open
    # to Lee and to Mo (up the chain, issue 18), not to Kim, a colleague.
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                "sam@example.org", "Sam Report", "P005", "lee@example.org", "ADULT", "Assistant"
            )
        ],
    )
    sam_id = await person_id(world, "sam@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    team = await records.my_team(world.db, world.clock, manager)
    assert [m.record.person.email for m in team.members] == ["kim@example.org", "lee@example.org"]
    assert (
        await records.learner_record(world.db, world.clock, manager, sam_id)
    ).person.id == sam_id
    kim = await support.actor(world.db, "kim@example.org")
    with pytest.raises(NotFoundError):
        await records.learner_record(world.db, world.clock, kim, sam_id)
    lee_id = await person_id(world, "lee@example.org")
    assert (
        await records.learner_record(world.db, world.clock, manager, lee_id)
    ).person.id == lee_id
    lee = await support.actor(world.db, "lee@example.org")
    assert [
        m.record.person.email for m in (await records.my_team(world.db, world.clock, lee)).members
    ] == ["sam@example.org"]
    trainer = await support.actor(world.db, "trainer@example.org")
    assert (await records.my_team(world.db, world.clock, trainer)).members == []


async def test_team_bookings_compliance_and_the_admin_report(rworld: support.World) -> None:
    world = rworld
    gdpr = await course(world, "GDPR", "Data protection")
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        gdpr,
        completion_mode=None,
        criteria=[],
        mandatory=True,
        due_within_days=None,
    )
    lms = await support.actor_for_service(world.db)
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput("GDPR", world.clock.now(), learner_email="lee@example.org")],
    )
    session_id = await support.make_session(world)
    await book(world, session_id, "kim@example.org")
    manager = await support.actor(world.db, "manager@example.org")
    team = await records.my_team(world.db, world.clock, manager)
    by_email = {m.record.person.email: m for m in team.members}
    assert by_email["lee@example.org"].record.compliance.percent == 100
    assert by_email["kim@example.org"].record.compliance.percent == 0
    assert [b.session_id for b in by_email["kim@example.org"].upcoming] == [session_id]
    assert [r.course_code for r in by_email["kim@example.org"].record.required] == ["GDPR"]
    assert team.compliance.percent == 50

    with pytest.raises(ForbiddenError):
        await records.compliance_report(world.db, world.clock, manager)
    rows = await records.compliance_report(world.db, world.clock, world.admin)
    adult = next(r for r in rows if r.org_unit == "ADULT" and r.staff_type == "payroll")
    child = next(r for r in rows if r.org_unit == "CHILD")
    assert (adult.people, adult.fully_compliant, adult.required, adult.compliant) == (2, 1, 2, 1)
    assert (child.people, child.percent) == (1, 0)


async def test_exports_are_formula_safe_csv_and_xlsx(rworld: support.World) -> None:
    world = rworld
    await course(world, "=HYPERLINK(1)", "=cmd|' /C calc'!A0")
    lms = await support.actor_for_service(world.db)
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [
            records.CompletionInput(
                "=HYPERLINK(1)", world.clock.now(), learner_email="lee@example.org"
            )
        ],
    )
    lee = await support.actor(world.db, "lee@example.org")
    record = await records.my_record(world.db, world.clock, lee)
    rows = records.record_rows(record)
    text = records.to_csv(records.RECORD_HEADERS, rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1][0] == "'=HYPERLINK(1)" and parsed[1][1].startswith("'=cmd")
    book_ = load_workbook(io.BytesIO(records.to_xlsx("Record", records.RECORD_HEADERS, rows)))
    sheet = book_.active
    assert sheet is not None
    cells = [c for c in sheet[2]]
    assert cells[0].value == "'=HYPERLINK(1)" and cells[0].data_type == "s"
    assert cells[1].data_type == "s"
    assert cells[3].is_date  # completion date is a real date


async def test_csv_import_reports_rows_and_records_the_rest(rworld: support.World) -> None:
    world = rworld
    text = (
        "learner_email,personnel_number,course_code,completed_at\n"
        "lee@example.org,,SAFE-1,2027-02-01\n"
        ",P004,SAFE-1,2027-02-02T10:00:00+00:00\n"
        "nobody@example.org,,SAFE-1,2027-02-01\n"
        "lee@example.org,,SAFE-1,not a date\n"
    )
    accepted, results = await records.import_completions_csv(
        world.db, world.clock, world.admin, text
    )
    assert accepted == 2
    assert [(r.index, r.status) for r in results] == [
        (2, "accepted"),
        (3, "accepted"),
        (4, "error"),
        (5, "error"),
    ]
    assert {i.source for i in await feed_all(world)} == {"import"}
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(ForbiddenError):
        await records.import_completions_csv(world.db, world.clock, lee, text)
