"""The line managers' monthly compliance summary: on the configured day (or the first tick
after), one email per manager per month, naming who below them is overdue with what; nothing
before the day, nothing twice, nothing for someone without reports; and on PostgreSQL two
workers at once still send one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from booking import notifications, people, records
from booking.config import Settings
from booking.models import Outbox
from tests import support
from tests.records.test_team_chain import add_boss

TOPIC = "compliance.summary"


async def overdue_world(world: support.World) -> None:
    """SAFE-1 mandatory for everyone, due 10 days after joining; a month later, everyone is
    overdue. Bo Boss manages Mo Manager, who manages Lee and Kim."""
    await add_boss(world)
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        completion_mode=None,
        criteria=[],
        mandatory=True,
        due_within_days=10,
    )
    world.clock.set(support.T0 + timedelta(days=35))  # 5 April 2027


async def summaries(world: support.World) -> list[Outbox]:
    async with world.db.reading() as s:
        return list(
            (await s.scalars(select(Outbox).where(Outbox.topic == TOPIC).order_by(Outbox.id))).all()
        )


async def rendered(world: support.World, row: Outbox) -> notifications.Rendered:
    async with world.db.reading() as s:
        return await notifications.render_row(s, row, Settings(), world.clock.now())


async def test_one_summary_a_month_per_manager_naming_who_is_overdue(
    world: support.World,
) -> None:
    await overdue_world(world)
    assert await records.queue_compliance_summaries(world.db, world.clock, day=6) == 0
    assert await records.queue_compliance_summaries(world.db, world.clock, day=5) == 2
    assert await records.queue_compliance_summaries(world.db, world.clock, day=5) == 0
    rows = await summaries(world)
    ids = {p.email: p.id for p in await people.list_people(world.db)}
    by_recipient = {r.recipient_id: r for r in rows}
    assert set(by_recipient) == {ids["manager@example.org"], ids["boss@example.org"]}

    mo = await rendered(world, by_recipient[ids["manager@example.org"]])
    assert mo.subject == "Your team's required learning: April 2027"
    assert "0% of the required learning of the 2 people in your team is current" in mo.text
    assert "- Kim Learner: Safeguarding Adults (due 11 Mar 2027)" in mo.text
    assert "- Lee Learner: Safeguarding Adults (due 11 Mar 2027)" in mo.text
    assert "/team?indirect=1" in mo.text and "Open your team" in mo.html
    # Bo's team is everyone below: Mo, Lee and Kim (all three overdue).
    bo = await rendered(world, by_recipient[ids["boss@example.org"]])
    assert "of the 3 people in your team" in bo.text
    assert "- Mo Manager: Safeguarding Adults" in bo.text

    # Next month: one more each; Lee has completed meanwhile and is no longer listed.
    await records.record_completions(
        world.db,
        world.clock,
        world.admin,
        [
            records.CompletionInput(
                course_code="SAFE-1",
                completed_at=world.clock.now(),
                learner_email="lee@example.org",
            )
        ],
    )
    world.clock.set(support.T0 + timedelta(days=66))  # 6 May 2027
    assert await records.queue_compliance_summaries(world.db, world.clock, day=5) == 2
    may = [r for r in await summaries(world) if r.recipient_id == ids["manager@example.org"]][-1]
    text = (await rendered(world, may)).text
    assert "50% of the required learning" in text
    assert "Kim Learner" in text and "Lee Learner" not in text


async def test_two_workers_at_once_queue_one_summary_each(world: support.World) -> None:
    await overdue_world(world)
    first, second = await asyncio.gather(
        records.queue_compliance_summaries(world.db, world.clock, day=1),
        records.queue_compliance_summaries(world.db, world.clock, day=1),
    )
    assert first + second == 2
    rows = await summaries(world)
    assert len(rows) == len({r.recipient_id for r in rows}) == 2


async def test_no_summary_where_nothing_is_required(world: support.World) -> None:
    """Managers with teams, but no mandatory or certifying course: nobody is emailed."""
    await add_boss(world)
    world.clock.set(support.T0 + timedelta(days=35))
    assert await records.queue_compliance_summaries(world.db, world.clock, day=1) == 0
    assert await summaries(world) == []
