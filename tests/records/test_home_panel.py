"""The home page (the catalogue) tells a learner how much of their required learning is current
and what is due next; someone with nothing required sees no panel."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from booking import records
from booking.app import create_app
from tests import support
from tests.records.test_compliance_summary import overdue_world
from tests.web.conftest import Browser


@pytest.fixture
async def browser(world: support.World, db_url: str) -> AsyncIterator[Browser]:
    app = create_app(support.settings_for(db_url, demo=True), clock=world.clock, run_worker=False)
    async with AsyncTestClient(app=app) as client:
        yield Browser(client, world)


async def test_the_home_page_shows_my_compliance_and_what_is_due_next(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("lee@example.org")
    assert "My required learning" not in (await browser.get("/courses")).text

    await overdue_world(world)  # a month later: signed in afresh
    await browser.sign_in("lee@example.org")
    page = (await browser.get("/courses")).text
    assert "My required learning: 0% current" in page
    assert "0 of 1 required courses are complete and current. Due next:" in page
    assert "Safeguarding Adults</a>: overdue, due 11 Mar 2027" in page
    # A search result page stays a search result page.
    assert "My required learning" not in (await browser.get("/courses?q=safe")).text

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
    page = (await browser.get("/courses")).text
    assert "My required learning: 100% current" in page and "Due next" not in page
