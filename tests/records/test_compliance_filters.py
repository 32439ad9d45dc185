"""The compliance report's filters (issue 18): a unit with or without its sub-units, a staff
type and an as-of date, on the page, the downloads and the API, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking import people, records
from tests import support
from tests.records.exemption_world import ExWorld, body, client_for, headers, make_ex_world
from tests.records.test_http import sign_in

API = "/api/v1/reports/compliance"


@pytest.fixture
async def cf(db_url: str, world: support.World) -> AsyncIterator[ExWorld]:
    """The exemption tests' organisation (SAFE-1 and FIRE-1 mandatory, due within 30 days),
    plus a sub-unit of Adult Services with Nia in it and Cas, a casual in Adult Services."""
    ex = await make_ex_world(world, db_url)
    db, clock, admin = world.db, world.clock, world.admin
    await people.upsert_org_units(
        db, clock, admin, [people.OrgUnitInput("ADULT-N", "Adult North", "ADULT")]
    )
    await people.upsert_people(
        db,
        clock,
        admin,
        [
            people.PersonInput("nia@example.org", "Nia North", "P020", None, "ADULT-N", "SW"),
            people.PersonInput(
                "cas@example.org", "Cas Casual", "P021", None, "ADULT", "SW", staff_type="casual"
            ),
        ],
    )
    ex.ids.update({p.email.split("@")[0]: p.id for p in await people.list_people(db)})
    yield ex


def keys(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(r["org_unit"], r["staff_type"]) for r in items}


def row(items: list[dict[str, Any]], unit: str, staff_type: str = "payroll") -> dict[str, Any]:
    (found,) = [r for r in items if r["org_unit"] == unit and r["staff_type"] == staff_type]
    return found


async def report(http: AsyncTestClient[Any], ex: ExWorld, **params: str) -> list[dict[str, Any]]:
    r = await http.get(API, params=params, headers=await headers(ex, "admin"))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def complete(ex: ExWorld, email: str, code: str, days: int) -> None:
    await records.record_completions(
        ex.world.db,
        ex.world.clock,
        ex.world.admin,
        [
            records.CompletionInput(
                course_code=code,
                completed_at=support.T0 + timedelta(days=days),
                learner_email=email,
            )
        ],
    )


def day(days: int) -> str:
    return (support.T0 + timedelta(days=days)).date().isoformat()


async def test_unit_with_and_without_sub_units_and_staff_type(cf: ExWorld) -> None:
    async with client_for(cf) as http:
        everyone = await report(http, cf)
        assert {("ADULT", "payroll"), ("ADULT", "casual"), ("ADULT-N", "payroll")} <= keys(everyone)
        assert ("CHILD", "payroll") in keys(everyone)
        with_sub = await report(http, cf, unit="ADULT")
        assert keys(with_sub) == {("ADULT", "payroll"), ("ADULT", "casual"), ("ADULT-N", "payroll")}
        assert keys(await report(http, cf, unit="ADULT", sub_units="true")) == keys(with_sub)
        own = await report(http, cf, unit="ADULT", sub_units="false")
        assert keys(own) == {("ADULT", "payroll"), ("ADULT", "casual")}
        casual = await report(http, cf, staff_type="casual")
        assert keys(casual) == {("ADULT", "casual")}
        assert row(casual, "ADULT", "casual")["people"] == 1
        both = await report(http, cf, unit="ADULT-N", staff_type="casual")
        assert both == []
        # The whole organisation with sub-units is everyone who has a unit.
        org = await report(http, cf, unit="ORG")
        assert sum(r["people"] for r in org) == sum(r["people"] for r in everyone if r["org_unit"])


async def test_as_of_counts_completions_and_requirements_of_that_day(cf: ExWorld) -> None:
    cf.world.clock.set(support.T0 + timedelta(days=10))
    await complete(cf, "lee@example.org", "SAFE-1", days=5)
    async with client_for(cf) as http:
        before = row(await report(http, cf, unit="ADULT", as_of=day(4)), "ADULT")
        after = row(await report(http, cf, unit="ADULT", as_of=day(5)), "ADULT")
        today = row(await report(http, cf, unit="ADULT"), "ADULT")
    # Mo and Lee, two mandatory courses each: Lee's SAFE-1 counts from the day it was done.
    assert (before["required"], before["compliant"]) == (4, 0)
    assert (after["required"], after["compliant"]) == (4, 1)
    assert today == after
    # A course made mandatory later is not required before then.
    await records.set_course_rules(
        cf.world.db,
        cf.world.clock,
        cf.world.admin,
        (await support.make_course(cf.world)).id,
        completion_mode=None,
        criteria=[],
        mandatory=True,
        due_within_days=30,
    )
    async with client_for(cf) as http:
        assert row(await report(http, cf, unit="ADULT", as_of=day(9)), "ADULT")["required"] == 4
        assert row(await report(http, cf, unit="ADULT"), "ADULT")["required"] == 6


async def test_exempt_and_overdue_items_are_counted(cf: ExWorld) -> None:
    cf.world.clock.set(support.T0 + timedelta(days=10))
    async with client_for(cf) as http:
        admin = await headers(cf, "admin")
        made = (await http.post("/api/v1/exemptions", json=body(), headers=admin)).json()
        decided = await http.post(
            f"/api/v1/exemptions/{made['id']}/decision", json={"decision": "approve"}, headers=admin
        )
        assert decided.status_code == 200, decided.text
        cf.world.clock.set(support.T0 + timedelta(days=40))
        now = row(await report(http, cf, unit="ADULT", sub_units="false"), "ADULT")
        early = row(await report(http, cf, unit="ADULT", as_of=day(9)), "ADULT")
        mid = row(await report(http, cf, unit="ADULT", as_of=day(20)), "ADULT")
    # Lee's SAFE-1 is exempt from day 10: not required, counted as exempt; the other three
    # mandatory items of Mo and Lee are 40 days old, past the 30 days: overdue.
    assert (now["required"], now["exempt"], now["overdue"]) == (3, 1, 3)
    # Before the exemption was approved it does not count; on day 9 nothing is late yet.
    assert (early["required"], early["exempt"], early["overdue"]) == (4, 0, 0)
    assert (mid["exempt"], mid["overdue"]) == (1, 0)


async def test_the_page_and_downloads_filter_and_refuse_bad_values(cf: ExWorld) -> None:
    cf.world.clock.set(support.T0 + timedelta(days=40))
    async with client_for(cf) as http:
        await sign_in(http, cf.ids["admin"])
        page = await http.get(
            "/admin/compliance",
            params=[("unit", "ADULT"), ("sub_units", "false"), ("sub_units", "true")]
            + [("staff_type", "casual"), ("as_of", day(30))],
        )
        assert page.status_code == 200, page.text
        table = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        assert table.count("<tr>") == 1 and "casual" in table and "Adult Services" in table
        assert 'value="ADULT" selected' in page.text
        assert "unit=ADULT&amp;sub_units=true&amp;staff_type=casual" in page.text
        unchecked = await http.get("/admin/compliance", params=[("sub_units", "false")])
        assert 'name="sub_units" value="true" checked' not in unchecked.text
        default = await http.get("/admin/compliance")
        assert 'name="sub_units" value="true" checked' in default.text
        csv = await http.get("/admin/compliance.csv", params={"staff_type": "casual"})
        assert csv.status_code == 200
        lines = csv.text.strip().splitlines()
        assert "Exempt items" in lines[0] and "Overdue items" in lines[0]
        assert len(lines) == 2 and ",casual," in lines[1]
        for params, message in (
            ({"unit": "NOPE"}, "Choose an organisation unit from the list."),
            ({"staff_type": "boss"}, "Choose a staff type"),
            ({"as_of": "2027-13-01"}, "Enter the as-of date as YYYY-MM-DD"),
            ({"as_of": "x" * 5000}, "Enter the as-of date as YYYY-MM-DD"),
            ({"as_of": day(41)}, "The as-of date cannot be in the future."),
            ({"sub_units": "maybe"}, "Include sub-units must be true or false."),
        ):
            bad = await http.get("/admin/compliance", params=params)
            assert bad.status_code == 400, (params, bad.status_code)
            assert message in bad.text and "There is a problem" in bad.text
            assert "<table" not in bad.text
            assert (await http.get("/admin/compliance.csv", params=params)).status_code in (
                400,
                422,
            )
        kept = await http.get("/admin/compliance", params={"as_of": "31/01/2027"})
        assert 'value="31/01/2027"' in kept.text


async def test_the_api_refuses_bad_filters_and_non_admins(cf: ExWorld) -> None:
    async with client_for(cf) as http:
        admin = await headers(cf, "admin")
        for params in (
            {"unit": "NOPE"},
            {"staff_type": "boss"},
            {"as_of": "2027-02-30"},
            {"as_of": "2999-01-01"},
            {"sub_units": "maybe"},
            {"as_of": "y" * 50},
        ):
            r = await http.get(API, params=params, headers=admin)
            assert 400 <= r.status_code < 500, (params, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")
        lee = await headers(cf, "lee")
        assert (await http.get(API, headers=lee)).status_code == 403
        assert (await http.get(API, params={"unit": "ADULT"}, headers=lee)).status_code == 403
        await sign_in(http, cf.ids["lee"])
        assert (await http.get("/admin/compliance", params={"unit": "ADULT"})).status_code == 403
        assert (await http.get("/admin/compliance.csv")).status_code == 403


def test_filters_read_and_written_back() -> None:
    today = date(2027, 3, 1)
    filters, errors = records.read_compliance_filters(
        {"unit": ["ADULT"], "sub_units": ["false", "true"], "as_of": ["2027-03-01"]},
        today,
        {"ADULT"},
    )
    assert errors == {}
    assert filters.query() == {"unit": "ADULT", "sub_units": "true", "as_of": "2027-03-01"}
    assert records.read_compliance_filters({}, today, set()) == (records.ComplianceFilters(), {})
