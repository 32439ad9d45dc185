"""Administrators' course pages: the list, the full course form (new, change, copy), archive
and restore. Forms are posted as a browser without JavaScript would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from booking import catalogue, records
from booking.catalogue import CourseInput, DateInput, SessionInput
from booking.kernel.errors import ConflictError
from booking.models import AuditEvent, Course, CourseRecordRule
from tests import support
from tests.web.conftest import Browser
from tests.web.test_admin_pages import form_fields

NEW = "/admin/courses/new"


def _filled(fields: dict[str, str], **more: Any) -> dict[str, Any]:
    """The new-course form with every field given."""
    fields = dict(fields)
    fields.update(
        code="FA-101",
        title="First Aid at Work",
        summary="Three days.\n\nSee https://example.org/fa for the syllabus.",
        category="Health and safety",
        owner_email="Training@Example.org",
        price="120.00",
        discount_price="60.50",
        discount_units="CHILD",
        discount_roles="Social Worker",
        tier_hours_0="168",
        tier_fee_0="0",
        tier_hours_1="48",
        tier_fee_1="50",
        no_show_fee="100",
        step_0="manager",
        step_1="admin",
        audience_units="ADULT",
        audience_roles="Social Worker, Team Manager",
        prereq_code_0="SAFE-1",
        prereq_months_0="24",
        allow_multiple_bookings="yes",
        question_id_0="diet",
        question_label_0="Dietary needs",
        question_kind_0="choice",
        question_required_0="yes",
        question_choices_0="None\nVegetarian\nVegan",
        terms_text="Attend all three days.",
        cert_months="36",
        cert_window_days="60",
        completion_mode="",
        criteria="",
        mandatory="yes",
        due_within_days="90",
    )
    fields.update(more)
    return {**fields, "audience_staff": ["payroll", "casual"], "discount_staff": ["payroll"]}


async def _course(browser: Browser, code: str) -> catalogue.CourseView:
    world = browser.world
    async with world.db.reading() as s:
        course_id = await s.scalar(select(Course.id).where(Course.code == code))
    assert course_id is not None, code
    return await catalogue.get_course(world.db, world.clock, world.admin, course_id)


async def _count(browser: Browser, model: Any) -> int:
    async with browser.world.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_administrator_creates_a_course_with_every_field_and_it_round_trips(
    browser: Browser,
) -> None:
    world = browser.world
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    assert fields["tier_rows"] == "2" and fields["question_rows"] == "2"
    added = await browser.post(NEW, _filled(fields))
    assert added.status_code == 303, added.text
    course = await _course(browser, "FA-101")
    assert added.headers["location"] == f"/admin/courses/{course.id}"
    assert course.category == "Health and safety"
    assert course.owner_email == "training@example.org"
    assert course.price is not None and course.price.amount == 12000
    assert course.discount is not None and course.discount["price"].amount == 6050
    assert course.discount["audience"] == {
        "org_units": ["CHILD"],
        "job_roles": ["Social Worker"],
        "staff_types": ["payroll"],
    }
    assert course.cancellation_policy == {
        "tiers": [
            {"min_notice_hours": 168, "fee_percent": 0},
            {"min_notice_hours": 48, "fee_percent": 50},
        ],
        "no_show_fee_percent": 100,
    }
    assert course.approval == ["manager", "admin"]
    assert course.audience == {
        "org_units": ["ADULT"],
        "job_roles": ["Social Worker", "Team Manager"],
        "staff_types": ["payroll", "casual"],
    }
    assert course.prerequisites == [{"course_code": "SAFE-1", "within_months": 24}]
    assert course.allow_multiple_bookings
    assert course.questions == [
        {
            "id": "diet",
            "label": "Dietary needs",
            "kind": "choice",
            "required": True,
            "choices": ["None", "Vegetarian", "Vegan"],
        }
    ]
    assert course.terms == {"text": "Attend all three days.", "version": 1}
    assert course.certification == {"months": 36, "window_days": 60}
    rules = await records.get_course_rules(world.db, world.admin, course.id)
    assert rules.mandatory and rules.due_within_days == 90

    # The edit form shows every field as saved: posting it unchanged changes nothing.
    url = f"/admin/courses/{course.id}"
    page = await browser.get(url)
    assert "Course added: FA-101 First Aid at Work." in page.text
    again = form_fields(page.text, url)
    expected = _filled({}, owner_email="training@example.org", price="120.00")
    for name in ("code", "title", "category", "owner_email", "price", "discount_price"):
        assert again[name] == expected[name], name
    assert (
        again["tier_hours_1"] == "48" and again["question_choices_0"] == "None\nVegetarian\nVegan"
    )
    assert again["mandatory"] == "yes" and again["due_within_days"] == "90"
    saved = await browser.post(
        url, {**again, "audience_staff": ["payroll", "casual"], "discount_staff": ["payroll"]}
    )
    assert saved.status_code == 303, saved.text
    assert await _course(browser, "FA-101") == course


async def test_refusals_come_back_in_place_with_every_value_kept_and_nothing_saved(
    browser: Browser,
) -> None:
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    before = await _count(browser, Course)
    cases = [
        ({"code": ""}, 422, "A course code is required", "code"),
        (
            {"code": "SAFE-1", "prereq_code_0": ""},
            409,
            "A course with code SAFE-1 already exists.",
            "code",
        ),
        ({"tier_fee_1": "150"}, 422, "fee_percent from 0 to 100", "cancellation_policy"),
        (
            {"audience_units": "NOPE"},
            422,
            "Unknown organisation units in the audience: NOPE",
            "audience",
        ),
        ({"price": "lots"}, 422, "Enter the price in pounds and pence", "price"),
        ({"discount_price": "130.00"}, 422, "lower than the normal price", "discount_price"),
        ({"owner_email": "not an email"}, 422, "one email address", "owner_email"),
        ({"title": "x" * 70_000}, 422, "A course title is required", "title"),
        ({"criteria": "NOPE", "completion_mode": "all"}, 422, "NOPE", "completion_rule"),
    ]
    for change, status, message, field in cases:
        refused = await browser.post(NEW, _filled(fields, **change))
        assert refused.status_code == status, (change, refused.text[:2000])
        assert message in refused.text, change
        assert f'<a href="#{field}">' in refused.text, change
        # What was typed is still there.
        assert 'value="Health and safety"' in refused.text
        assert "Attend all three days." in refused.text
        assert 'value="SAFE-1"' in refused.text  # the prerequisite row
    assert await _count(browser, Course) == before
    assert await _count(browser, CourseRecordRule) == 0


async def test_add_another_row_keeps_what_was_typed(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    more = await browser.post(NEW, {**_filled(fields), "add_tier": "yes"})
    assert more.status_code == 200
    again = form_fields(more.text, NEW)
    assert again["tier_rows"] == "4" and again["tier_hours_1"] == "48"
    assert again["title"] == "First Aid at Work"
    assert await _count(browser, Course) == 1


async def test_the_preview_sentence_shows_what_learners_will_read(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    preview = await browser.post(NEW, {**_filled(fields), "preview": "yes"})
    assert preview.status_code == 200
    assert "Free to cancel until" in preview.text
    assert "then £60.00 (50%)" in preview.text
    assert "Not attending without cancelling costs £120.00." in preview.text
    assert await _count(browser, Course) == 1


async def test_summary_is_escaped_and_formatted_the_same_on_the_course_page(
    browser: Browser,
) -> None:
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    summary = "<script>alert(1)</script>\nLine two\n\nSee https://example.org/x"
    added = await browser.post(NEW, _filled(fields, summary=summary))
    assert added.status_code == 303
    course = await _course(browser, "FA-101")
    page = await browser.get(f"/courses/{course.id}")
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>" in page.text
    assert '<a href="https://example.org/x" rel="nofollow noopener">' in page.text
    assert f'href="/admin/courses/{course.id}">Edit course' in page.text


async def test_changed_terms_get_a_new_version_and_the_page_says_so(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    await browser.post(NEW, _filled(fields))
    course = await _course(browser, "FA-101")
    url = f"/admin/courses/{course.id}"
    page = await browser.get(url)
    assert "Current version: 1." in page.text
    again = form_fields(page.text, url)
    saved = await browser.post(url, {**again, "terms_text": "Attend all four days."})
    assert saved.status_code == 303
    after = await browser.get(url)
    assert "The terms are now version 2" in after.text
    assert (await _course(browser, "FA-101")).terms == {
        "text": "Attend all four days.",
        "version": 2,
    }


async def test_course_and_record_rules_are_one_transaction(browser: Browser) -> None:
    """A refused rule (an unknown criteria course) leaves the course's change unsaved too."""
    world = browser.world
    await browser.sign_in("admin@example.org")
    url = f"/admin/courses/{world.course_id}"
    fields = form_fields((await browser.get(url)).text, url)
    refused = await browser.post(
        url, {**fields, "title": "Renamed", "completion_mode": "any", "criteria": "NOPE"}
    )
    assert refused.status_code == 422 and "NOPE" in refused.text
    course = await catalogue.get_course(world.db, world.clock, world.admin, world.course_id)
    assert course.title == "Safeguarding Adults"
    async with world.db.reading() as s:
        changes = await s.scalar(select(func.count()).where(AuditEvent.action == "course.changed"))
    assert changes == 0
    saved = await browser.post(url, {**fields, "title": "Renamed", "mandatory": "yes"})
    assert saved.status_code == 303
    rules = await records.get_course_rules(world.db, world.admin, world.course_id)
    assert rules.mandatory
    listed = await browser.get("/admin/courses")
    assert '<td data-label="Mandatory">Yes</td>' in listed.text


async def test_archive_hides_from_learners_and_refuses_new_sessions(browser: Browser) -> None:
    world = browser.world
    start = world.clock.now() + timedelta(days=30)
    session = SessionInput(dates=[DateInput(start, start + timedelta(hours=2), "UTC")], capacity=5)
    await catalogue.create_session(world.db, world.clock, world.admin, world.course_id, session)
    await browser.sign_in("admin@example.org")
    url = f"/admin/courses/{world.course_id}"
    confirm = await browser.get(f"{url}/archive")
    assert confirm.status_code == 200 and "Archive the course" in confirm.text
    archived = await browser.post(f"{url}/archive")
    assert archived.status_code == 303
    page = await browser.get(url)
    assert "Restore the course" in page.text and "Schedule a session" not in page.text
    assert "SAFE-1" not in (await browser.get("/admin/courses")).text
    assert "SAFE-1" in (await browser.get("/admin/courses?status=archived")).text
    catalogue_page = (await browser.get("/courses")).text
    assert "<strong>Archived</strong>: learners do not see it" in catalogue_page

    learner = await support.actor(world.db, "lee@example.org")
    listed = await catalogue.list_courses(world.db, world.clock, learner)
    assert [c.code for c in listed.items] == []
    found = await catalogue.search_courses(world.db, world.clock, learner)
    assert found.items == []
    try:
        await catalogue.create_session(world.db, world.clock, world.admin, world.course_id, session)
    except ConflictError as exc:
        assert "archived" in exc.detail
    else:
        raise AssertionError("an archived course took a new session")
    new_session = f"/admin/courses/{world.course_id}/sessions/new"
    form = form_fields((await browser.get(new_session)).text, new_session)
    form.update(date_0="2027-03-16", start_0="09:30", end_0="12:30", capacity="5")
    refused = await browser.post(new_session, form)
    assert refused.status_code == 409 and "restore the course" in refused.text
    kept = await catalogue.get_course(world.db, world.clock, world.admin, world.course_id)
    assert len(kept.sessions) == 1

    restored = await browser.post(f"{url}/restore")
    assert restored.status_code == 303
    listed = await catalogue.list_courses(world.db, world.clock, learner)
    assert [c.code for c in listed.items] == ["SAFE-1"]


async def test_copy_prefills_a_new_course_and_writes_nothing(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    await browser.post(NEW, _filled(fields))
    course = await _course(browser, "FA-101")
    before = await _count(browser, Course)
    copy = await browser.get(f"/admin/courses/{course.id}/copy")
    assert copy.status_code == 200
    assert await _count(browser, Course) == before
    copied = form_fields(copy.text, NEW)
    assert copied["code"] == "FA-101-COPY" and copied["title"] == "Copy of First Aid at Work"
    assert copied["price"] == "120.00" and copied["tier_fee_1"] == "50"
    saved = await browser.post(NEW, {**copied, "audience_staff": ["payroll"]})
    assert saved.status_code == 303, saved.text
    assert (await _course(browser, "FA-101-COPY")).approval == ["manager", "admin"]


async def test_list_search_and_filters(browser: Browser) -> None:
    world = browser.world
    for code, category in (("FIRE-1", "Safety"), ("DATA-1", "Data")):
        await catalogue.create_course(
            world.db,
            world.clock,
            world.admin,
            CourseInput(code=code, title=f"Course {code}", category=category),
        )
    await browser.sign_in("admin@example.org")
    listed = await browser.get("/admin/courses")
    assert listed.status_code == 200
    assert all(code in listed.text for code in ("SAFE-1", "FIRE-1", "DATA-1"))
    found = await browser.get("/admin/courses?q=fire")
    assert "FIRE-1" in found.text and "DATA-1" not in found.text
    data = await browser.get("/admin/courses?category=Data")
    assert "DATA-1" in data.text and "FIRE-1</a>" not in data.text
    odd = await browser.get("/admin/courses?status=%00&cursor=" + "z" * 5000 + "&q=%25_")
    assert odd.status_code == 200


async def test_non_administrators_are_refused(browser: Browser) -> None:
    world = browser.world
    await browser.sign_in("lee@example.org")
    for url in ("/admin/courses", NEW, f"/admin/courses/{world.course_id}"):
        assert (await browser.get(url)).status_code == 403, url
    posted = await browser.post(f"/admin/courses/{world.course_id}/archive")
    assert posted.status_code == 403


async def test_api_new_fields_round_trip_and_old_requests_behave_as_before(
    browser: Browser,
) -> None:
    world = browser.world
    headers = {"Authorization": f"Bearer {world.admin_token}"}
    client = browser.client
    body = {"code": "API-1", "title": "By the API", "price": {"amount": 5000}}
    made = await client.post(
        "/api/v1/courses",
        json={
            **body,
            "category": "Data",
            "owner_email": "owner@example.org",
            "discount": {"amount": 2500, "audience": {"org_units": ["ADULT"]}},
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    got = made.json()
    assert got["category"] == "Data" and got["owner_email"] == "owner@example.org"
    assert got["discount"]["price"]["amount"] == 2500
    assert got["discount"]["audience"] == {"org_units": ["ADULT"]}
    # A PUT written before these fields existed keeps them.
    put = await client.put(f"/api/v1/courses/{got['id']}", json=body, headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["category"] == "Data" and put.json()["discount"] is not None
    cleared = await client.put(
        f"/api/v1/courses/{got['id']}", json={**body, "discount": None}, headers=headers
    )
    assert cleared.json()["discount"] is None and cleared.json()["category"] == "Data"
    plain = await client.post(
        "/api/v1/courses", json={"code": "API-2", "title": "Plain"}, headers=headers
    )
    assert plain.status_code == 201
    assert plain.json()["category"] is None and plain.json()["discount"] is None
    bad = await client.post(
        "/api/v1/courses",
        json={"code": "API-3", "title": "Bad", "discount": {"amount": 10}},
        headers=headers,
    )
    assert bad.status_code == 422 and "discount" in bad.text


async def test_huge_and_odd_input_is_refused_never_a_server_error(browser: Browser) -> None:
    await browser.sign_in("admin@example.org")
    fields = form_fields((await browser.get(NEW)).text, NEW)
    odd: list[dict[str, Any]] = [
        {"summary": "word " * 10_000},
        {"title": "Nul\x00title"},
        {"summary": "Nul\x00summary"},
        {"tier_hours_0": "9" * 40, "tier_fee_0": "5"},
        {"price": "9" * 40},
        {"cert_months": "9" * 40},
        {"due_within_days": "-1"},
        {"question_label_0": "x" * 50_000},
        {"tier_rows": "999999999", "prereq_rows": "-4", "question_rows": "x", "code": ""},
        {"step_0": "nobody"},
        {"question_kind_0": "essay"},
    ]
    for change in odd:
        answer = await browser.post(NEW, _filled(fields, **change))
        assert answer.status_code < 500, (list(change), answer.status_code)
    assert await _count(browser, Course) == 1
