"""Pages of requirements (issue 18): the person page shows the start date; the record page says
why each item is required and when it is due."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from booking import records
from booking.models import Person
from tests import support
from tests.web.conftest import Browser, person_id_of


async def test_the_person_page_shows_the_start_date(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")
    lee = await person_id_of(world, "lee@example.org")
    page = await browser.get(f"/admin/people/{lee}")
    assert "<dt>Start date</dt>" in page.text and "Not given" in page.text
    async with world.db.transaction() as s:
        await s.execute(update(Person).where(Person.id == lee).values(start_date=date(2027, 4, 1)))
    page = await browser.get(f"/admin/people/{lee}")
    assert "1 April 2027" in page.text


async def test_the_record_page_says_why_it_is_required(browser: Browser) -> None:
    world = browser.world
    await records.set_course_rules(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        completion_mode=None,
        criteria=[],
        mandatory=True,
        due_within_days=30,
    )
    await records.sweep_requirements(world.db, world.clock)
    await browser.sign_in("lee@example.org")
    page = await browser.get("/me/record")
    due = world.clock.now() + support.days(30)
    assert "Required because the course is mandatory for this role or unit" in page.text
    assert f"{due:%-d %b %Y}" in page.text
