"""CSV imports of people and organisation units, on SQLite and PostgreSQL: the preview (create,
update with what changes, unchanged, each bad row with its line and reason) writes nothing; the
import writes every row in one transaction with its audit row, and refuses a file with a bad
row; the file's limits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from booking import people
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.models import AuditEvent, OrgUnit, Person
from tests import support

GOOD = (
    "\ufeffEmail,Name,Personnel Number,Unit code,Manager email,Job role,Staff type,Roles\n"
    "new@example.org,Nia New,P100,ADULT,manager@example.org,Officer,casual,learner trainer\n"
    "kim@example.org,Kim Learner,P004,ADULT,manager@example.org,Social Worker,payroll,learner\n"
    "lee@example.org,Lee Learner,P003,ADULT,manager@example.org,Social Worker,payroll,learner\n"
)


async def _count(world: support.World) -> int:
    async with world.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(Person)) or 0)


async def test_the_preview_says_what_would_change_and_writes_nothing(
    world: support.World,
) -> None:
    before = await _count(world)
    preview = await people.preview_people_csv(world.db, world.admin, GOOD)
    assert [(r.line, r.key, r.status) for r in preview.rows] == [
        (2, "new@example.org", "create"),
        (3, "kim@example.org", "update"),
        (4, "lee@example.org", "unchanged"),
    ]
    (kim,) = preview.having("update")
    assert [(c.label, c.was, c.now) for c in kim.changes] == [("Unit", "CHILD", "ADULT")]
    assert not preview.bad and preview.changes_anything
    assert await _count(world) == before


async def test_importing_writes_every_row_in_one_go_with_an_audit_row(
    world: support.World,
) -> None:
    preview, outcome = await people.import_people_csv(world.db, world.clock, world.admin, GOOD)
    assert outcome == people.ImportOutcome(created=1, updated=1, unchanged=1)
    async with world.db.reading() as s:
        nia = await s.scalar(select(Person).where(Person.email == "new@example.org"))
        assert nia is not None and nia.roles == "learner trainer" and nia.staff_type == "casual"
        audit = await s.scalar(select(AuditEvent).where(AuditEvent.action == "people.imported"))
    assert audit is not None and audit.actor_id == world.admin.person_id
    assert audit.details == {"created": 1, "updated": 1, "unchanged": 1}


async def test_bad_rows_are_named_by_line_and_nothing_is_imported(world: support.World) -> None:
    text = (
        "email,name,unit_code,manager_email,roles,personnel_number\n"
        "ok@example.org,Oki Okay,ADULT,,,\n"
        "not-an-email,No Email,,,,\n"
        "\n"
        "x@example.org,Xan,NOPE,,,\n"
        "y@example.org,Yan,,ghost@example.org,,\n"
        "z@example.org,Zed,,,wizard,\n"
        'q@example.org,"Quinn\nTwo Lines",,,,P003\n'
        "ok@example.org,Oki Again,,,,\n"
        "w@example.org,,,,,\n"
    )
    before = await _count(world)
    preview, outcome = await people.import_people_csv(world.db, world.clock, world.admin, text)
    assert outcome is None
    bad = {r.line: r.reason for r in preview.bad}
    assert set(bad) == {3, 5, 6, 7, 9, 10, 11}
    assert "not an email address" in bad[3]
    assert "no organisation unit with the code NOPE" in bad[5]
    assert "ghost@example.org" in bad[6]
    assert "wizard" in bad[7]
    assert "P003 belongs to lee@example.org" in bad[9]
    assert "also on line 2" in bad[10]
    assert "name is empty" in bad[11]
    assert [r.line for r in preview.having("create")] == [2]
    assert await _count(world) == before


async def test_a_manager_may_come_later_in_the_file_and_own_admin_is_kept(
    world: support.World,
) -> None:
    text = (
        "email,name,manager_email\n"
        "rep@example.org,Rae Report,boss@example.org\n"
        "boss@example.org,Bo Boss,\n"
    )
    _, outcome = await people.import_people_csv(world.db, world.clock, world.admin, text)
    assert outcome is not None and outcome.created == 2
    own = "email,name,roles\nadmin@example.org,Ada Admin,learner\n"
    preview = await people.preview_people_csv(world.db, world.admin, own)
    assert "your own administrator role" in preview.bad[0].reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("\ufeff\n", "The file is empty"),
        ("email,name\n", "no rows to import"),
        ("email,name,shoe_size\na@example.org,A,9\n", "Unknown column shoe_size"),
        ("name\nA\n", "needs the column email"),
        ("email,name,email\n", "named twice"),
    ],
)
async def test_files_that_cannot_be_read_are_refused_whole(
    world: support.World, text: str, message: str
) -> None:
    with pytest.raises(InvalidError, match=message):
        await people.preview_people_csv(world.db, world.admin, text)


async def test_size_and_row_limits(world: support.World) -> None:
    big = "email,name\n" + "a@example.org," + "x" * people.MAX_IMPORT_BYTES + "\n"
    with pytest.raises(InvalidError, match="larger than 1 MB"):
        await people.preview_people_csv(world.db, world.admin, big)
    rows = "".join(f"p{i}@example.org,P\n" for i in range(people.MAX_IMPORT_ROWS + 1))
    with pytest.raises(InvalidError, match="more than"):
        await people.preview_people_csv(world.db, world.admin, "email,name\n" + rows)


async def test_only_administrators_import(world: support.World) -> None:
    lee = await support.actor(world.db, "lee@example.org")
    with pytest.raises(ForbiddenError):
        await people.preview_people_csv(world.db, lee, GOOD)
    with pytest.raises(ForbiddenError):
        await people.import_units_csv(world.db, world.clock, lee, "code,name\nX,X\n")


async def test_units_preview_and_import(world: support.World) -> None:
    text = (
        "\ufeffcode,name,parent_code\n"
        "TEAM,Team A,NEWDIR\n"
        "NEWDIR,New Directorate,ORG\n"
        "ADULT,Adult Social Care,ORG\n"
        "CHILD,Children's Services,ORG\n"
    )
    preview = await people.preview_units_csv(world.db, world.admin, text)
    assert [(r.line, r.key, r.status) for r in preview.rows] == [
        (2, "TEAM", "create"),
        (3, "NEWDIR", "create"),
        (4, "ADULT", "update"),
        (5, "CHILD", "unchanged"),
    ]
    _, outcome = await people.import_units_csv(world.db, world.clock, world.admin, text)
    assert outcome == people.ImportOutcome(created=2, updated=1, unchanged=1)
    async with world.db.reading() as s:
        assert await s.scalar(select(OrgUnit.name).where(OrgUnit.code == "ADULT")) == (
            "Adult Social Care"
        )
        assert await s.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "org_units.imported")
        )


async def test_bad_unit_rows_are_named_and_nothing_is_imported(world: support.World) -> None:
    text = (
        "code,name,parent_code\n"
        "A1,Alpha,B1\n"
        "B1,Beta,A1\n"
        "C1,Gamma,NOWHERE\n"
        "D1,,\n"
        "E1,Self,E1\n"
        "ORG,The Council,ADULT\n"
        "F1,Fine,ORG\n"
    )
    preview, outcome = await people.import_units_csv(world.db, world.clock, world.admin, text)
    assert outcome is None
    bad = {r.line: r.reason for r in preview.bad}
    assert set(bad) == {2, 3, 4, 5, 6, 7}
    assert "own ancestor" in bad[2] and "own ancestor" in bad[7]
    assert "NOWHERE" in bad[4] and "name is empty" in bad[5] and "own parent" in bad[6]
    async with world.db.reading() as s:
        assert await s.scalar(select(OrgUnit.id).where(OrgUnit.code == "F1")) is None
