"""Learning programs on the pages: the administrators' form (repeating set rows without
JavaScript, refusals in place), a learner's programs and program page, the record and the team."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from booking import catalogue, records
from booking.catalogue import CourseInput
from booking.records import ProgramInput, ProgramSetInput
from tests.web.conftest import Browser
from tests.web.test_admin_pages import form_fields

NEW = "/admin/programs/new"


async def _courses(browser: Browser) -> None:
    world = browser.world
    for code, title in (("FIRE-1", "Fire Safety"), ("DP-1", "Data Protection")):
        await catalogue.create_course(
            world.db, world.clock, world.admin, CourseInput(code=code, title=title)
        )


async def test_an_administrator_adds_a_program_with_two_sets(browser: Browser) -> None:
    await _courses(browser)
    await browser.sign_in("admin@example.org")
    listed = await browser.get("/admin/programs")
    assert listed.status_code == 200 and "No learning programs yet." in listed.text
    fields = form_fields((await browser.get(NEW)).text, NEW)
    assert fields["set_rows"] == "1"
    fields.update(
        code="IND",
        title="Induction",
        due_within_days="30",
        audience_units="ADULT",
        set_title_0="Core",
        set_rule_0="all",
        set_codes_0="SAFE-1, FIRE-1",
    )
    more = await browser.post(NEW, {**fields, "add_set": "yes"})
    assert more.status_code == 200
    fields = form_fields(more.text, NEW)
    assert fields["set_rows"] == "2" and fields["set_codes_0"] == "SAFE-1, FIRE-1"
    assert 'id="set_title_1"' in more.text

    fields.update(set_title_1="Data", set_rule_1="any", set_codes_1="DP-1, NOPE")
    refused = await browser.post(NEW, fields)
    assert refused.status_code == 422
    assert "There is no course with code NOPE." in refused.text
    assert 'href="#set_codes_1"' in refused.text and 'value="DP-1, NOPE"' in refused.text
    assert await records.list_programs(browser.world.db, browser.world.admin) == []

    fields["set_codes_1"] = "DP-1"
    added = await browser.post(NEW, fields)
    assert added.status_code == 303, added.text
    (program,) = await records.list_programs(browser.world.db, browser.world.admin)
    assert [(s.title, s.rule, s.course_codes) for s in program.sets] == [
        ("Core", "all", ["SAFE-1", "FIRE-1"]),
        ("Data", "any", ["DP-1"]),
    ]
    assert program.audience == {"org_units": ["ADULT"]} and program.due_within_days == 30
    listed = await browser.get("/admin/programs")
    assert "Program added: Induction." in listed.text
    edit = f"/admin/programs/{program.id}/edit"
    fields = form_fields((await browser.get(edit)).text, edit)
    assert fields["set_codes_1"] == "DP-1"
    taken = await browser.post(NEW, {**fields, "title": "Again"})
    assert taken.status_code == 409


async def test_a_learner_sees_their_program_progress(browser: Browser) -> None:
    world = browser.world
    await _courses(browser)
    program = await records.create_program(
        world.db,
        world.clock,
        world.admin,
        ProgramInput(
            code="IND",
            title="Induction",
            due_within_days=30,
            sets=[
                ProgramSetInput("Core", "all", ["SAFE-1", "FIRE-1"]),
                ProgramSetInput("Reading", "optional", ["DP-1"]),
            ],
        ),
    )
    await browser.sign_in("lee@example.org")
    mine = await browser.get("/me/programs")
    assert mine.status_code == 200 and f'href="/programs/{program.id}"' in mine.text
    assert "0% complete" in mine.text
    page = await browser.get(f"/programs/{program.id}")
    assert page.status_code == 200
    assert "You have been enrolled in Fire Safety via required learning program Induction." in (
        page.text
    )
    assert '<progress max="100" value="0"' in page.text
    record = await browser.get("/me/record")
    assert "Learning programs" in record.text
    assert "You have been enrolled via required learning program Induction" in record.text
    assert (await browser.get("/admin/programs")).status_code in (403, 404)

    await browser.sign_in("manager@example.org")
    team = await browser.get("/team")
    assert "Induction: 0% complete" in team.text


async def test_the_record_downloads_carry_the_programs(browser: Browser) -> None:
    world = browser.world
    await _courses(browser)
    await records.create_program(
        world.db,
        world.clock,
        world.admin,
        ProgramInput(
            code="IND",
            title="Induction",
            sets=[ProgramSetInput("Core", "all", ["SAFE-1", "FIRE-1"])],
        ),
    )
    await browser.sign_in("lee@example.org")
    csv_text = (await browser.get("/me/record.csv")).text
    head, _, section = csv_text.partition("\r\n\r\nPrograms\r\n")
    assert head.lstrip("\ufeff").startswith("Course code,Course,")
    lines = section.splitlines()
    assert lines[0].startswith("Program code,Program,Status,Progress %")
    assert lines[1].startswith("IND,Induction,Not started,0,") and lines[1].endswith(
        "Core,all,no,SAFE-1,Not started"
    )
    book = load_workbook(io.BytesIO((await browser.get("/me/record.xlsx")).content))
    assert book.sheetnames == ["Record of learning", "Programs"]
    rows = list(book["Programs"].iter_rows(values_only=True))
    assert rows[0][:2] == ("Program code", "Program") and len(rows) == 3


async def test_the_team_download_has_a_programs_sheet(browser: Browser) -> None:
    world = browser.world
    await records.create_program(
        world.db,
        world.clock,
        world.admin,
        ProgramInput(code="IND", title="Induction", sets=[ProgramSetInput("C", "all", ["SAFE-1"])]),
    )
    await browser.sign_in("manager@example.org")
    book = load_workbook(io.BytesIO((await browser.get("/team.xlsx")).content))
    assert book.sheetnames == ["My team", "Programs"]
    rows = list(book["Programs"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Name", "Email", "Program code")
    assert sorted(r[1] for r in rows[1:]) == ["kim@example.org", "lee@example.org"]
