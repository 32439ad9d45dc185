"""The CSV import pages for people and units: upload, preview (nothing written), import; a bad
row is named with its line; the signed upload cannot be forged or replayed by someone else."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from booking.models import OrgUnit, Person
from tests.web.conftest import Browser

ADMIN = "admin@example.org"
PEOPLE = (
    "email,name,unit_code,manager_email\n"
    "nia@example.org,Nia New,ADULT,manager@example.org\n"
    "kim@example.org,Kim Learner,ADULT,manager@example.org\n"
)


async def _upload(browser: Browser, path: str, text: str | bytes) -> httpx.Response:
    body = text.encode() if isinstance(text, str) else text
    return await browser.client.post(
        path,
        files={"file": ("import.csv", body, "text/csv")},
        data={"_csrf_token": browser.csrf()},
    )


def _token(page: httpx.Response) -> str:
    found = re.search(r'name="upload" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _exists(browser: Browser, email: str) -> bool:
    async with browser.world.db.reading() as s:
        return await s.scalar(select(Person.id).where(Person.email == email)) is not None


async def test_the_people_list_links_to_the_import(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    assert 'href="/admin/people/import"' in (await browser.get("/admin/people")).text
    assert 'href="/admin/units/import"' in (await browser.get("/admin/units")).text
    form = await browser.get("/admin/people/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert "<code>manager_email</code>" in form.text


async def test_preview_then_import_people(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    shown = await _upload(browser, "/admin/people/import", "\ufeff" + PEOPLE)
    assert shown.status_code == 200
    assert "Preview: nothing is written yet" in shown.text
    assert "To create (1)" in shown.text and "To update (1)" in shown.text
    assert "Unit: CHILD → ADULT" in shown.text
    assert not await _exists(browser, "nia@example.org")
    done = await browser.post("/admin/people/import/confirm", {"upload": _token(shown)})
    assert done.status_code == 303 and done.headers["location"] == "/admin/people"
    assert (
        "Imported: 1 created, 1 updated, 0 unchanged." in (await browser.get("/admin/people")).text
    )
    assert await _exists(browser, "nia@example.org")


async def test_a_bad_row_is_named_and_there_is_no_import_button(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    text = PEOPLE + "bad@example.org,Bad Row,NOPE,\n"
    shown = await _upload(browser, "/admin/people/import", text)
    assert shown.status_code == 200
    assert "Line 4: there is no organisation unit with the code NOPE." in shown.text
    assert 'name="upload"' not in shown.text
    assert not await _exists(browser, "nia@example.org")


async def test_files_refused_whole_keep_the_form(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    for body, message in (
        ("email,name,shoe\n", "Unknown column shoe"),
        ("", "The file is empty"),
        (b"email,name\n\xff\xfe,x\n", "UTF-8"),
        (b"email,name\n" + b"x" * 1_000_001, "larger than 1 MB"),
    ):
        shown = await _upload(browser, "/admin/people/import", body)
        assert shown.status_code == 422, body
        assert message in shown.text and 'id="file"' in shown.text
    missing = await browser.client.post(
        "/admin/people/import", data={"_csrf_token": browser.csrf()}
    )
    assert missing.status_code == 422 and "Choose a CSV file" in missing.text


async def test_a_forged_or_borrowed_upload_is_refused(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    forged = await browser.post("/admin/people/import/confirm", {"upload": "x.y"})
    assert forged.status_code == 422 and "upload the file again" in forged.text
    # A units preview cannot be replayed as a people import.
    units = await _upload(browser, "/admin/units/import", "code,name\nNEWU,New unit\n")
    swapped = await browser.post("/admin/people/import/confirm", {"upload": _token(units)})
    assert swapped.status_code == 422
    done = await browser.post("/admin/units/import/confirm", {"upload": _token(units)})
    assert done.status_code == 303 and done.headers["location"] == "/admin/units"
    assert "Imported: 1 created" in (await browser.get("/admin/units")).text
    async with browser.world.db.reading() as s:
        assert await s.scalar(select(OrgUnit.name).where(OrgUnit.code == "NEWU")) == "New unit"


async def test_a_file_that_changes_nothing_offers_no_import(browser: Browser) -> None:
    await browser.sign_in(ADMIN)
    shown = await _upload(browser, "/admin/units/import", "code,name\nORG,The Council\n")
    assert "Unchanged (1)" in shown.text and "nothing to import" in shown.text


async def test_the_import_pages_are_for_administrators_only(browser: Browser) -> None:
    await browser.sign_in("lee@example.org")
    assert (await browser.get("/admin/people/import")).status_code == 403
    assert (await browser.get("/admin/units/import")).status_code == 403
