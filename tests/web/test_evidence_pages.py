"""Evidence pages as a browser without JavaScript uses them: the learner sends evidence from
their record page (errors in place, the form kept), the course's owner decides it in the queue
and downloads its file; others cannot."""

from __future__ import annotations

import httpx

from booking import catalogue, people
from booking.catalogue import CourseInput
from tests import support
from tests.web.conftest import Browser

PDF = b"%PDF-1.4\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 40


async def _owned_course(world: support.World) -> None:
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput("owner@example.org", "Olu Owner", "P010", None, "ORG", "Lead")],
    )
    await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="FIRE-1", title="Fire Safety", owner_email="owner@example.org"),
    )


async def _send(
    browser: Browser, fields: dict[str, str], content: bytes, name: str = "cert.pdf"
) -> httpx.Response:
    await browser.get("/me/record")
    return await browser.client.post(
        "/me/evidence",
        data={**fields, "_csrf_token": browser.csrf()},
        files={"file": (name, content, "application/pdf")},
        follow_redirects=False,
    )


async def test_a_learner_sends_evidence_and_a_refused_form_comes_back_as_sent(
    browser: Browser,
) -> None:
    await _owned_course(browser.world)
    await browser.sign_in("lee@example.org")
    record = await browser.get("/me/record")
    assert record.status_code == 200
    assert "Send evidence of training done elsewhere" in record.text
    assert '<option value="FIRE-1">Fire Safety (FIRE-1)</option>' in record.text

    fields = {"course_code": "FIRE-1", "completed_at": "2026-10-01", "note": "At my last job"}
    refused = await _send(browser, fields, EXE, "cert.pdf")
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and "not a PDF, PNG or JPEG" in refused.text
    assert '<a href="#file">' in refused.text and 'id="file-error"' in refused.text
    assert '<option value="FIRE-1" selected>' in refused.text
    assert 'value="2026-10-01"' in refused.text and "At my last job" in refused.text

    no_date = await _send(browser, {**fields, "completed_at": ""}, PDF)
    assert no_date.status_code == 422 and 'id="completed_at-error"' in no_date.text
    future = await _send(browser, {**fields, "completed_at": "2099-01-01"}, PDF)
    assert future.status_code == 422 and "cannot be in the future" in future.text

    sent = await _send(browser, fields, PDF)
    assert sent.status_code == 303, sent.text
    after = await browser.get("/me/record")
    assert "Evidence sent" in after.text and "Waiting for a decision" in after.text


async def test_the_owner_decides_in_the_queue_and_only_the_right_people_get_the_file(
    browser: Browser,
) -> None:
    world = browser.world
    await _owned_course(world)
    await browser.sign_in("lee@example.org")
    fields = {"course_code": "FIRE-1", "completed_at": "2026-10-01", "note": ""}
    assert (await _send(browser, fields, PDF)).status_code == 303
    evidence_id = (await browser.get("/me/record")).text.split('href="/evidence/')[1].split("/")[0]
    assert (await browser.get("/evidence")).status_code == 403

    await browser.sign_in("kim@example.org")
    assert (await browser.get(f"/evidence/{evidence_id}/file")).status_code == 404

    await browser.sign_in("owner@example.org")
    courses = await browser.get("/courses")
    assert '<a href="/evidence"' in courses.text  # the header's entry for course owners
    queue = await browser.get("/evidence")
    assert queue.status_code == 200 and "Lee Learner" in queue.text
    got = await browser.get(f"/evidence/{evidence_id}/file")
    assert got.status_code == 200 and got.content == PDF
    decided = await browser.post(
        f"/evidence/{evidence_id}/decision",
        {"decision": "decline", f"comment-{evidence_id}": "Wrong course"},
    )
    assert decided.status_code == 303
    again = await browser.post(f"/evidence/{evidence_id}/decision", {"decision": "approve"})
    assert again.status_code == 409 and "already declined" in again.text
    declined = await browser.get("/evidence?state=declined")
    assert "Wrong course" in declined.text

    await browser.sign_in("lee@example.org")
    mine = await browser.get("/me/record")
    assert "Declined" in mine.text and "Wrong course" in mine.text


async def test_the_course_list_follows_the_catalogue_at_once(browser: Browser) -> None:
    """The record page's course options are kept between visits (records.evidence_courses,
    pages.evidence.course_options) only while the catalogue is unchanged: a course added,
    renamed — at the same moment, to a title of the same length — or archived shows on the next
    visit."""
    world = browser.world
    await browser.sign_in("lee@example.org")
    first = await browser.get("/me/record")
    assert "(FIRE-1)</option>" not in first.text
    course = await catalogue.create_course(
        world.db, world.clock, world.admin, CourseInput(code="FIRE-1", title="Fire Safety")
    )
    added = await browser.get("/me/record")
    assert '<option value="FIRE-1">Fire Safety (FIRE-1)</option>' in added.text
    await catalogue.update_course(
        world.db,
        world.clock,
        world.admin,
        course.id,
        CourseInput(code="FIRE-1", title="Fire Drills"),
    )
    renamed = await browser.get("/me/record")
    assert '<option value="FIRE-1">Fire Drills (FIRE-1)</option>' in renamed.text
    await catalogue.archive_course(world.db, world.clock, world.admin, course.id)
    archived = await browser.get("/me/record")
    assert "(FIRE-1)</option>" not in archived.text
