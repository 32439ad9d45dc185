"""The shared page furniture, through an HTTP client: the error summary of the sign-up form
without JavaScript, and the site's icon."""

from __future__ import annotations

import re

from booking import bookings
from tests import support
from tests.web.conftest import Browser
from tests.web.test_pages import text_of


async def test_special_requirements_too_long_without_javascript_gives_the_error_summary(
    browser: Browser,
) -> None:
    world = browser.world
    session_id = await support.make_session(world, capacity=10)
    await browser.sign_in("lee@example.org")
    await browser.get(f"/sessions/{session_id}/book")

    response = await browser.post(
        f"/sessions/{session_id}/book", {"special_requirements": "x" * 2001}
    )

    assert response.status_code == 422
    title = re.search(r"<title>(.*?)</title>", response.text, re.S)
    assert title and title.group(1).startswith("Error: "), title
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S)
    assert summary, "the error summary is at the top of the form"
    assert 'role="alert"' in summary.group(0)
    assert "There is a problem" in text_of(summary.group(0))
    # Its message links to the field, which says the same and is marked invalid.
    field_id = f"special-requirements-{session_id}"
    assert re.search(
        rf'<a href="#{field_id}">Special requirements are limited to 2,000 characters.</a>',
        summary.group(0),
    )
    assert re.search(rf'<textarea id="{field_id}"[^>]*aria-invalid="true"', response.text)
    assert "x" * 2001 in response.text, "what was typed is kept"
    # With htmx the row comes back with the same summary in it.
    row = await browser.post(
        f"/sessions/{session_id}/book", {"special_requirements": "x" * 2001}, htmx=True
    )
    assert row.status_code == 422
    assert re.search(
        rf'<div class="error-summary" role="alert".*?<a href="#{field_id}">', row.text, re.S
    )
    lee = await support.actor(world.db, "lee@example.org")
    assert (await bookings.my_bookings(world.db, world.clock, lee)).items == []


async def test_every_page_links_an_svg_icon_and_favicon_ico_answers_with_a_cacheable_icon(
    browser: Browser,
) -> None:
    page = await browser.get("/login")
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)
    assert link, "base.html links the SVG icon"
    svg = await browser.get(link.group(1))
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.content.lstrip().startswith(b"<svg")

    # Browsers ask for /favicon.ico by themselves (a PDF has no <link>).
    ico = await browser.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00", "an ICO file"
    max_age = re.search(r"max-age=(\d+)", ico.headers.get("cache-control", ""))
    assert max_age and int(max_age.group(1)) >= 86400, ico.headers.get("cache-control")
    assert "public" in ico.headers["cache-control"]
