"""Every form on the pages answers bad input as HTML.

The POST page routes are read from the app's route table, so a new form is covered as soon as
it exists: each is posted empty, as a signed-in administrator (who may use every form), once as
a browser without JavaScript and once as htmx. A page form must never answer JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from booking import approvals, bookings, catalogue, notifications, people, records, webhooks
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput
from tests import support
from tests.web.conftest import Browser, cached_app, person_id_of

PATH_PARAM = re.compile(r"\{(\w+):\w+\}")


def page_form_routes(app: Litestar) -> list[str]:
    """The POST routes behind the pages: everything but the JSON API and webhooks."""
    paths = {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "POST" in handler.http_methods
    }
    return sorted(p for p in paths if not p.startswith(("/api/", "/webhooks/")))


@dataclass
class Targets:
    """One of each thing a form's path can name, made afresh for each form."""

    values: dict[str, int]


async def _targets(world: support.World, n: int) -> Targets:
    # Outgoing webhooks (issue 19): an endpoint, made first so the bookings below reach it.
    hook = await webhooks.create_webhook(
        world.db,
        world.clock,
        world.admin,
        webhooks.WebhookInput(url=f"https://93.184.215.14/form{n}", event_types=[]),
        allow_private=False,
    )
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code=f"FORM-{n}", title=f"Form course {n}", approval=["admin"]),
    )
    start = world.clock.now() + timedelta(days=14 + n)  # one a day: no trainer clashes
    session_id = await support.make_session(
        world, course_id=course.id, start=start, facilitators=["trainer@example.org"]
    )
    other = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code=f"PLAIN-{n}", title=f"Plain {n}")
    )
    plain_session = await support.make_session(world, course_id=other.id, start=start)
    lee = await support.actor(world.db, "lee@example.org")
    booked = await bookings.book_place(world.db, world.clock, lee, BookingRequest(plain_session))
    kim = await support.actor(world.db, "kim@example.org")
    await bookings.book_place(world.db, world.clock, kim, BookingRequest(session_id))
    waiting = await _waiting_request(world)
    outbox = await notifications.list_outbox(world.db, world.admin, limit=1)
    room = await catalogue.create_room(
        world.db, world.clock, world.admin, catalogue.RoomDetails(name=f"Form room {n}")
    )
    token = await people.create_service_token(
        world.db, world.clock, world.admin, name=f"Form feed {n}", scope="records"
    )
    return Targets(
        {
            "session_id": session_id,
            "booking_id": booked.booking.id,
            "course_id": course.id,
            "request_id": waiting,
            "outbox_id": outbox[0].id,
            "room_id": room.id,
            "token_id": token.id,
            "person_id": await person_id_of(world, "lee@example.org"),
            "account_request_id": await support.waiting_account_request(
                world, f"form{n}@example.net"
            ),
            "exemption_id": await _exemption(world, course.code),
            # Certificates and evidence (issue 18)
            "evidence_id": (
                await records.send_evidence(
                    world.db,
                    world.clock,
                    lee,
                    records.EvidenceUpload("SAFE-1", world.clock.now(), None, "a.pdf", b"%PDF-"),
                )
            ).id,
            # Learning programs (issue 18)
            "program_id": (
                await records.create_program(
                    world.db,
                    world.clock,
                    world.admin,
                    records.ProgramInput(code=f"FORM-P{n}", title=f"Form program {n}"),
                )
            ).id,
            # Outgoing webhooks (issue 19)
            "webhook_id": hook.id,
            "delivery_id": (await webhooks.list_deliveries(world.db, world.admin, hook.id))[0][
                0
            ].id,
        }
    )


async def _exemption(world: support.World, code: str) -> int:
    """A pending exemption request (Lee, the form's course), asked by an administrator."""
    (made,) = await records.request_exemptions(
        world.db,
        world.clock,
        world.admin,
        records.ExemptionInput("lee@example.org", [code], "exemption", "Form test"),
    )
    return made.id


async def _waiting_request(world: support.World) -> int:
    items = await approvals.list_waiting(world.db, world.clock, world.admin)
    return max(i.id for i in items)


def _fill(path: str, targets: Targets) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        assert name in targets.values, (
            f"{path}: the form test does not know what to put for {{{name}}}; add it to Targets"
        )
        return str(targets.values[name])

    return PATH_PARAM.sub(value, path)


def _is_html(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


def _is_full_page(text: str) -> bool:
    return "<html lang" in text and "<title>" in text and "<main" in text


async def _follow(browser: Browser, response: httpx.Response) -> httpx.Response:
    """Follow redirects as a browser would (a form that redirects shows the page it names)."""
    for _ in range(5):
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        response = await browser.get(response.headers["location"])
    return response


def _problem(path: str, how: str, response: httpx.Response) -> str:
    return (
        f"{path} ({how}): {response.status_code} {response.headers.get('content-type')!r} "
        f"{response.text[:120]!r}"
    )


async def test_every_page_form_answers_bad_input_as_html(browser: Browser, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("what a form answers does not depend on the database; SQLite is quicker")
    world = browser.world
    app: Any = cached_app(db_url, demo=True)
    routes = page_form_routes(app)
    assert "/approvals/{request_id:int}/decide" in routes
    assert "/sessions/{session_id:int}/message" in routes
    problems: list[str] = []
    for n, route in enumerate(routes):
        path = _fill(route, await _targets(world, n))
        for htmx in (False, True):
            if route in ("/login", "/logout") or n == 0 or not htmx:
                await browser.sign_in("admin@example.org")
            response = await browser.post(path, {}, htmx=htmx)
            if htmx:
                # A fragment is fine for htmx, but it is HTML (or nothing, for a redirect).
                if response.content and not _is_html(response):
                    problems.append(_problem(path, "htmx", response))
                continue
            shown = await _follow(browser, response)
            if not (_is_html(shown) and _is_full_page(shown.text)):
                problems.append(_problem(path, "form", shown))
    assert not problems, "page forms that did not answer with an HTML page:\n" + "\n".join(problems)


async def test_declining_without_a_comment_shows_the_page_with_the_error(
    browser: Browser,
) -> None:
    world = browser.world
    request_id = (await _targets(world, 0)).values["request_id"]
    await browser.sign_in("admin@example.org")
    # As the queue's and the budget page's Decline buttons send it.
    refused = await browser.post(
        f"/approvals/{request_id}/decide", {"decision": "decline", "comment": ""}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert _is_full_page(refused.text)
    assert "<title>Error: Decline a booking" in refused.text
    assert 'class="error-summary"' in refused.text
    assert 'aria-describedby="comment-error"' in refused.text
    assert '<a href="#comment">Tell the learner why' in refused.text


async def test_message_with_no_subject_shows_the_page_with_the_error(browser: Browser) -> None:
    world = browser.world
    session_id = (await _targets(world, 0)).values["session_id"]
    await browser.sign_in("trainer@example.org")
    refused = await browser.post(
        f"/sessions/{session_id}/message", {"subject": "", "body": "Bring a pen."}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert _is_full_page(refused.text)
    assert "<title>Error: Message everyone" in refused.text
    assert 'class="error-summary"' in refused.text
    assert 'aria-describedby="subject-error"' in refused.text
    assert "Bring a pen." in refused.text  # nothing typed is lost
