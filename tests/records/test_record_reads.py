"""The record of learning reads only the courses it can show and the learner's own unit path;
what it shows must not change: mandatory courses of the learner's audience (through any unit
above theirs, or their job role) are required learning, other audiences' are not, and criteria
courses the learner has not touched are named by their titles."""

from __future__ import annotations

from booking import people, records
from tests import support
from tests.records.conftest import course


async def mandatory(world: support.World, course_id: int) -> None:
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        course_id,
        completion_mode=None,
        criteria=[],
        mandatory=True,
        due_within_days=30,
    )


async def test_the_record_shows_every_course_that_concerns_the_learner_and_no_other(
    rworld: support.World,
) -> None:
    world = rworld
    # Sam is two units below the top: ORG > ADULT > ADULT-EAST.
    await people.upsert_org_units(
        world.db, world.clock, world.admin, [people.OrgUnitInput("ADULT-EAST", "East", "ADULT")]
    )
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                "sam@example.org", "Sam East", "P005", "manager@example.org", "ADULT-EAST", "Cook"
            )
        ],
    )
    for code, title, audience in (
        ("ALL-1", "Everyone's induction", None),
        ("ORG-1", "Council-wide fire safety", {"org_units": ["ORG"]}),
        ("ADULT-1", "Adult services briefing", {"org_units": ["ADULT"]}),
        ("CHILD-1", "Children's services briefing", {"org_units": ["CHILD"]}),
        ("COOK-1", "Food hygiene", {"job_roles": ["cook"]}),
        ("SW-1", "Social work practice", {"job_roles": ["Social Worker"]}),
    ):
        await mandatory(world, await course(world, code, title, audience=audience))
    await course(world, "OTHER-1", "Unrelated course")
    await course(world, "EL-1", "Safeguarding e-learning")
    programme = await course(world, "PROG-1", "Safeguarding programme")
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        programme,
        completion_mode="all",
        criteria=["SAFE-1", "EL-1"],
        mandatory=False,
        due_within_days=None,
    )
    lms = await support.actor_for_service(world.db)
    await records.record_completions(
        world.db,
        world.clock,
        lms,
        [records.CompletionInput("SAFE-1", world.clock.now(), learner_email="sam@example.org")],
    )

    sam = await support.actor(world.db, "sam@example.org")
    record = await records.my_record(world.db, world.clock, sam)
    assert record.person.org_unit == "ADULT-EAST"
    assert sorted(c.course_code for c in record.courses) == [
        "ADULT-1",
        "ALL-1",
        "COOK-1",
        "ORG-1",
        "PROG-1",
        "SAFE-1",
    ]
    assert sorted(r.course_code for r in record.required) == ["ADULT-1", "ALL-1", "COOK-1", "ORG-1"]
    prog = next(c for c in record.courses if c.course_code == "PROG-1")
    assert prog.status == "in_progress"
    assert [(k.course_code, k.course_title, k.done_at is not None) for k in prog.criteria] == [
        ("SAFE-1", "Safeguarding Adults", True),
        ("EL-1", "Safeguarding e-learning", False),
    ]

    # The manager's team view shows Sam's record the same way; Lee (ADULT, a social worker) has
    # their own required learning.
    manager = await support.actor(world.db, "manager@example.org")
    team = await records.my_team(world.db, world.clock, manager)
    by_email = {m.record.person.email: m.record for m in team.members}
    assert by_email["sam@example.org"].courses == record.courses
    assert by_email["sam@example.org"].required == record.required
    assert sorted(r.course_code for r in by_email["lee@example.org"].required) == [
        "ADULT-1",
        "ALL-1",
        "ORG-1",
        "SW-1",
    ]
    assert sorted(r.course_code for r in by_email["kim@example.org"].required) == [
        "ALL-1",
        "CHILD-1",
        "ORG-1",
        "SW-1",
    ]
