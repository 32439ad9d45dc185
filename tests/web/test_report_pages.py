"""The administrators' reports: each report's figures on the page, in the CSV and in the XLSX
for a small known world (tests/web/report_world.py), filters narrowing them, a filter that
cannot be used refused in place, and only administrators let in."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from booking import records
from tests import support
from tests.web.conftest import Browser
from tests.web.report_world import ReportWorld, seed_reports

ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)


def table_rows(html: str, caption: str) -> list[list[str]]:
    """The body rows of the table with this caption, as the page shows the cells."""
    start = html.index(f"<caption>{caption}")
    body = html[start : html.index("</table>", start)]
    return [CELL.findall(row) for row in ROW.findall(body) if "<td" in row]


async def csv_rows(browser: Browser, url: str) -> list[list[str]]:
    response = await browser.get(url)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def xlsx_rows(browser: Browser, url: str, sheet: int = 0) -> list[tuple[Any, ...]]:
    response = await browser.get(url)
    assert response.status_code == 200, response.text[:300]
    book = load_workbook(io.BytesIO(response.content))
    return list(book.worksheets[sheet].iter_rows(values_only=True))


@pytest.fixture
async def seeded(browser: Browser) -> ReportWorld:
    made = await seed_reports(browser.world)
    await browser.sign_in("admin@example.org")
    return made


async def test_the_hub_lists_every_report_and_the_administration_page_links_it(
    browser: Browser, seeded: ReportWorld
) -> None:
    hub = await browser.get("/admin/reports")
    assert hub.status_code == 200
    for name in (
        "fill-rate",
        "waitlist-demand",
        "attendance",
        "cancellations",
        "fees",
        "trainer-utilisation",
        "compliance",
    ):
        assert f'href="/admin/reports/{name}"' in hub.text
    admin = await browser.get("/admin")
    assert 'href="/admin/reports"' in admin.text


async def test_fill_rate_counts_places_used_per_session_and_per_course(
    browser: Browser, seeded: ReportWorld
) -> None:
    page = await browser.get("/admin/reports/fill-rate")
    assert page.status_code == 200
    assert '<img src="data:image/svg+xml;base64,' in page.text
    encoded = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page.text)
    assert encoded
    svg = base64.b64decode(encoded.group(1)).decode("utf-8")
    assert "<title>Fill rate per course (%)</title>" in svg and "<script" not in svg
    assert 'alt="Bar chart: Fill rate per course (%). Fill rate (%) for 2 bars;' in page.text
    sessions = table_rows(page.text, "Places used per session")
    assert [r[:3] + r[4:] for r in sessions] == [
        ["SAFE-1", "Safeguarding Adults", "19 Feb 2027", "3", "3", "100.0%"],
        ["MHFA", "Mental Health First Aid", "21 Mar 2027", "2", "1", "50.0%"],
    ]
    courses = table_rows(page.text, "Places used per course")
    assert courses == [
        ["MHFA", "Mental Health First Aid", "1", "2", "1", "50.0%"],
        ["SAFE-1", "Safeguarding Adults", "1", "3", "3", "100.0%"],
    ]
    rows = await csv_rows(browser, "/admin/reports/fill-rate.csv")
    assert rows[0] == [
        "Course code",
        "Course",
        "Session date",
        "Session",
        "Capacity",
        "Places used",
        "Fill rate (%)",
    ]
    assert [r[:3] + r[4:] for r in rows[1:]] == [
        ["SAFE-1", "Safeguarding Adults", "2027-02-19", "3", "3", "100.0"],
        ["MHFA", "Mental Health First Aid", "2027-03-21", "2", "1", "50.0"],
    ]
    sheet = await xlsx_rows(browser, "/admin/reports/fill-rate.xlsx")
    assert sheet[1][2] == datetime(2027, 2, 19) and sheet[1][4:] == (3, 3, 100.0)
    assert sheet[2][4:] == (2, 1, 50.0)
    per_course = await xlsx_rows(browser, "/admin/reports/fill-rate.xlsx", sheet=1)
    assert per_course[1:] == [
        ("MHFA", "Mental Health First Aid", 1, 2, 1, 50.0),
        ("SAFE-1", "Safeguarding Adults", 1, 3, 3, 100.0),
    ]


async def test_filters_narrow_the_figures_and_the_downloads(
    browser: Browser, seeded: ReportWorld
) -> None:
    only_mhfa = f"?course={seeded.mhfa_course}"
    page = await browser.get(f"/admin/reports/fill-rate{only_mhfa}")
    assert [r[0] for r in table_rows(page.text, "Places used per session")] == ["MHFA"]
    assert (
        f'href="/admin/reports/fill-rate.csv?from=2026-12-01&amp;to=2027-05-30&amp;course={seeded.mhfa_course}"'
        in page.text
    )
    rows = await csv_rows(browser, f"/admin/reports/fill-rate.csv{only_mhfa}")
    assert [r[0] for r in rows[1:]] == ["MHFA"]
    past_only = await browser.get("/admin/reports/fill-rate?from=2027-02-01&to=2027-02-28")
    assert [r[0] for r in table_rows(past_only.text, "Places used per session")] == ["SAFE-1"]
    nothing = await browser.get("/admin/reports/fill-rate?from=2025-01-01&to=2025-01-31")
    assert nothing.status_code == 200
    assert "Nothing to report for these filters" in nothing.text
    assert "<img" not in nothing.text


async def test_waiting_list_demand_per_session_and_course(
    browser: Browser, seeded: ReportWorld
) -> None:
    page = await browser.get("/admin/reports/waitlist-demand")
    sessions = table_rows(page.text, "Waiting lists per session")
    assert [r[:3] + r[4:] for r in sessions] == [
        ["SAFE-1", "Safeguarding Adults", "19 Feb 2027", "1", "2", "1", "0"],
        ["MHFA", "Mental Health First Aid", "21 Mar 2027", "0", "1", "0", "1"],
    ]
    rows = await csv_rows(browser, "/admin/reports/waitlist-demand.csv")
    assert [r[4:] for r in rows[1:]] == [["1", "2", "1", "0"], ["0", "1", "0", "1"]]
    sheet = await xlsx_rows(browser, "/admin/reports/waitlist-demand.xlsx", sheet=1)
    assert sheet[1:] == [
        ("MHFA", "Mental Health First Aid", 0, 1, 0, 1),
        ("SAFE-1", "Safeguarding Adults", 1, 2, 1, 0),
    ]


async def test_attendance_counts_no_shows_and_late_cancellations(
    browser: Browser, seeded: ReportWorld
) -> None:
    page = await browser.get("/admin/reports/attendance")
    assert table_rows(page.text, "Attendance per course") == [
        ["SAFE-1", "Safeguarding Adults", "3", "1", "1", "1", "0", "1", "33.3%", "25.0%"]
    ]
    rows = await csv_rows(browser, "/admin/reports/attendance.csv")
    assert rows[1] == [
        "SAFE-1",
        "Safeguarding Adults",
        "3",
        "1",
        "1",
        "1",
        "0",
        "1",
        "33.3",
        "25.0",
    ]
    sheet = await xlsx_rows(browser, "/admin/reports/attendance.xlsx")
    assert sheet[1] == ("SAFE-1", "Safeguarding Adults", 3, 1, 1, 1, 0, 1, 33.3, 25.0)
    # Kim, in Children's Services, was the no-show.
    child = await _unit_id(browser, "Children's Services")
    narrowed = await browser.get(f"/admin/reports/attendance?unit={child}")
    assert table_rows(narrowed.text, "Attendance per course") == [
        ["SAFE-1", "Safeguarding Adults", "1", "0", "0", "1", "0", "0", "100.0%", "0.0%"]
    ]


async def test_cancellations_by_reason_and_notice(browser: Browser, seeded: ReportWorld) -> None:
    page = await browser.get("/admin/reports/cancellations")
    assert table_rows(page.text, "Cancellations by reason and notice given") == [
        ["Clash with work", "1", "0", "0", "0", "0", "1"],
        ["Illness", "0", "0", "0", "1", "0", "1"],
        ["All reasons", "1", "0", "0", "1", "0", "2"],
    ]
    rows = await csv_rows(browser, "/admin/reports/cancellations.csv")
    assert rows[0][1:] == [
        "More than 14 days",
        "7 to 14 days",
        "2 to 7 days",
        "Less than 48 hours",
        "After the start",
        "Total",
    ]
    sheet = await xlsx_rows(browser, "/admin/reports/cancellations.xlsx")
    assert sheet[3] == ("All reasons", 1, 0, 0, 1, 0, 2)


async def test_fees_per_cost_code_with_card_payments_together(
    browser: Browser, seeded: ReportWorld
) -> None:
    page = await browser.get("/admin/reports/fees")
    assert table_rows(page.text, "Fee income and waivers per cost code") == [
        ["(card payments)", "", "GBP", "99.50", "0.00", "0.00", "-99.50", "0.00", "0.00", "0.00"],
        ["ASC-TRAIN", "", "GBP", "120.00", "60.00", "0.00", "0.00", "-25.00", "0.00", "155.00"],
    ]
    rows = await csv_rows(browser, "/admin/reports/fees.csv")
    assert rows[2] == [
        "ASC-TRAIN",
        "",
        "GBP",
        "120.00",
        "60.00",
        "0.00",
        "0.00",
        "-25.00",
        "0.00",
        "155.00",
    ]
    sheet = await xlsx_rows(browser, "/admin/reports/fees.xlsx")
    assert sheet[2][0] == "ASC-TRAIN" and float(sheet[2][3]) == 120.0
    assert float(sheet[2][-1]) == 155.0 and float(sheet[2][7]) == -25.0
    # The ledger rows were made five days before "now": a range that ends earlier has none.
    earlier = await browser.get("/admin/reports/fees?from=2027-01-01&to=2027-02-01")
    assert "Nothing to report for these filters" in earlier.text


async def test_trainer_utilisation(browser: Browser, seeded: ReportWorld) -> None:
    page = await browser.get("/admin/reports/trainer-utilisation")
    assert table_rows(page.text, "Sessions, hours and places per trainer") == [
        ["Tia Trainer", "2", "1", "3.0", "5", "4", "80.0%"]
    ]
    sheet = await xlsx_rows(browser, "/admin/reports/trainer-utilisation.xlsx")
    assert sheet[1] == ("Tia Trainer", 2, 1, 3.0, 5, 4, 80.0)
    rows = await csv_rows(browser, "/admin/reports/trainer-utilisation.csv")
    assert rows[1] == ["Tia Trainer", "2", "1", "3.0", "5", "4", "80.0"]


async def test_compliance_reuses_the_records_report_and_narrows_by_unit(
    browser: Browser, seeded: ReportWorld
) -> None:
    page = await browser.get("/admin/reports/compliance")
    rows = table_rows(page.text, "Required learning by unit and staff type")
    assert ["Adult Services", "ADULT", "payroll", "6", "6", "0", "0", "0", "0", "0", "—"] in rows
    child = await _unit_id(browser, "Children's Services")
    narrowed = await browser.get(f"/admin/reports/compliance?unit={child}")
    assert table_rows(narrowed.text, "Required learning by unit and staff type") == [
        ["Children&#39;s Services", "CHILD", "payroll", "1", "1", "0", "0", "0", "0", "0", "—"]
    ]
    csv_child = await csv_rows(browser, f"/admin/reports/compliance.csv?unit={child}")
    assert csv_child[1] == [
        "Children's Services",
        "CHILD",
        "payroll",
        "1",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "",
    ]
    sheet = await xlsx_rows(browser, f"/admin/reports/compliance.xlsx?unit={child}")
    assert sheet[1] == ("Children's Services", "CHILD", "payroll", 1, 1, 0, 0, 0, 0, 0, None)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2027-13-40", "Enter a real date, such as 2027-03-01."),
        ("from=yesterday", "Enter a real date, such as 2027-03-01."),
        ("from=2027-03-01&to=2027-02-01", "The end date must be the same as or after"),
        ("course=999999", "Choose a course from the list."),
        ("trainer=abc", "Choose a trainer from the list."),
        ("unit=" + "9" * 5000, "Choose an organisation unit from the list."),
    ],
)
async def test_a_filter_that_cannot_be_used_is_refused_in_place(
    browser: Browser, seeded: ReportWorld, query: str, message: str
) -> None:
    page = await browser.get(f"/admin/reports/waitlist-demand?{query}")
    assert page.status_code == 400
    assert message in page.text and "There is a problem" in page.text
    assert 'aria-invalid="true"' in page.text and "<table" not in page.text
    download = await browser.get(f"/admin/reports/waitlist-demand.csv?{query}")
    assert download.status_code == 400 and message in download.text


async def test_only_administrators_see_reports(browser: Browser) -> None:
    anonymous = await browser.get("/admin/reports/fill-rate")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await browser.sign_in("trainer@example.org")
    for url in ("/admin/reports", "/admin/reports/fill-rate", "/admin/reports/fees.csv"):
        assert (await browser.get(url)).status_code == 403, url
    await browser.sign_in("manager@example.org")
    assert (await browser.get("/admin/reports/compliance.xlsx")).status_code == 403


async def _unit_id(browser: Browser, name: str) -> int:
    page = await browser.get("/admin/reports/attendance")
    found = re.search(r'<option value="(\d+)">' + re.escape(name.replace("'", "&#39;")), page.text)
    assert found, name
    return int(found.group(1))


async def test_an_empty_world_shows_the_empty_state(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    for name in ("fill-rate", "waitlist-demand", "attendance", "cancellations", "fees"):
        page = await browser.get(f"/admin/reports/{name}")
        assert page.status_code == 200 and "Nothing to report for these filters" in page.text
    assert support.T0.year == 2027


async def test_compliance_counts_required_items_by_where_they_stand(
    browser: Browser, seeded: ReportWorld
) -> None:
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
    done = records.CompletionInput(
        "SAFE-1", support.T0 - timedelta(days=3), learner_email="lee@example.org"
    )
    await records.record_completions(world.db, world.clock, world.admin, [done])
    page = await browser.get("/admin/reports/compliance")
    rows = table_rows(page.text, "Required learning by unit and staff type")
    # Six in Adult Services: Lee has completed it; the others joined today and have 30 days.
    assert [
        "Adult Services",
        "ADULT",
        "payroll",
        "6",
        "1",
        "6",
        "1",
        "5",
        "0",
        "0",
        "17.0%",
    ] in rows
