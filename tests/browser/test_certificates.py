"""Certificates and evidence in a browser, axe on every page: a learner downloads a certificate
from their record page and sends evidence of training done elsewhere (refused in place first,
then sent); the course's owner decides it in the queue. (Their 320 px check: test_reflow.py.)"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from playwright.async_api import expect
from pypdf import PdfReader

from booking import catalogue, people, records
from booking.catalogue import CourseInput
from tests import support
from tests.browser.conftest import Site, TabFactory

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def seed_certificates(world: support.World) -> None:
    """Lee holds a certificate of First Aid at Work; Olu owns Fire Safety."""
    db, clock, admin = world.db, world.clock, world.admin
    await people.upsert_people(
        db,
        clock,
        admin,
        [people.PersonInput("owner@example.org", "Olu Owner", "P010", None, "ORG", "Lead")],
    )
    await catalogue.create_course(
        db,
        clock,
        admin,
        CourseInput(code="FIRE-1", title="Fire Safety", owner_email="owner@example.org"),
    )
    aid = await catalogue.create_course(
        db,
        clock,
        admin,
        CourseInput(code="FA-1", title="First Aid at Work", certification_months=36),
    )
    await records.set_course_rules(
        db,
        clock,
        admin,
        aid.id,
        completion_mode=None,
        criteria=[],
        mandatory=False,
        due_within_days=None,
        certificate=True,
    )
    done = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
    await records.record_completions(
        db,
        clock,
        admin,
        [records.CompletionInput("FA-1", done, learner_email="lee@example.org", source="import")],
    )


@JS
async def test_a_learner_downloads_a_certificate_and_sends_evidence_the_owner_approves(
    js: bool, site: Site, open_tab: TabFactory
) -> None:
    await seed_certificates(site.world)
    async with open_tab(js=js, who="lee") as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Lee Learner")
        await tab.goto("/me/record")
        await tab.check("1-record", full_page=True)
        async with page.expect_download() as download_info:
            await page.get_by_role(
                "link", name="Download certificate for First Aid at Work"
            ).click()
        download = await download_info.value
        assert download.suggested_filename == "certificate-FA-1-2027-01-12.pdf"
        pdf = PdfReader(io.BytesIO((await download.path()).read_bytes()))
        text = pdf.pages[0].extract_text()
        assert "Lee Learner" in text and "First Aid at Work" in text and "12 January 2027" in text

        form = page.locator("form[action='/me/evidence']")
        await form.get_by_label("Course").select_option("FIRE-1")
        await form.get_by_label("Date you completed it").fill("2026-10-01")
        await form.get_by_label("Note (optional)").fill("At my last job")
        await form.get_by_label("File").set_input_files(
            {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00"}
        )
        await form.get_by_role("button", name="Send evidence").click()
        await expect(page.locator(".error-summary")).to_contain_text("not a PDF, PNG or JPEG")
        await expect(page.get_by_label("Note (optional)")).to_have_value("At my last job")
        await tab.check("2-evidence-refused", full_page=True)
        form = page.locator("form[action='/me/evidence']")
        await form.get_by_label("File").set_input_files(
            {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        await form.get_by_role("button", name="Send evidence").click()
        await expect(page.get_by_text("Evidence sent")).to_be_visible()
        await expect(page.get_by_text("Waiting for a decision")).to_be_visible()
        await tab.check("3-evidence-sent", full_page=True)

    async with open_tab(js=js, who="owner") as tab:
        page = tab.page
        await tab.goto("/login")
        await tab.sign_in("Olu Owner")
        await page.get_by_role("link", name="Evidence", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Evidence of training")
        await expect(page.get_by_text("At my last job")).to_be_visible()
        await tab.check("4-queue", full_page=True)
        await page.get_by_label("Comment for Lee Learner (optional; emailed to them)").fill(
            "Certificate checked"
        )
        await page.get_by_role("button", name="Approve Lee Learner’s evidence").click()
        await expect(
            page.get_by_text("Approved: Lee Learner's evidence for Fire Safety")
        ).to_be_visible()
        await tab.check("5-decided")

    lee = await support.actor(site.world.db, "lee@example.org")
    record = await records.my_record(site.world.db, site.world.clock, lee)
    fire = next(c for c in record.courses if c.course_code == "FIRE-1")
    assert fire.status == "complete" and fire.source == "evidence"
