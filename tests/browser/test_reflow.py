"""Reflow (WCAG 1.4.10): at 320 CSS pixels (1280 px at 400 % zoom) and at 640 (1280 px at
200 %) no page scrolls sideways, for any role, even with long unbreakable values in it — an
email address, a course title with a long word, a URL in special requirements. Every
disclosure (`<details>`) is opened first, as someone changing a booking would.

One test per width; each signs in as every role in turn and reports every page that does not
fit, not just the first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from booking import approvals, bookings, catalogue, notifications, people, records
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, RoomInput
from booking.kernel import audit
from tests import support
from tests.browser.conftest import Site, TabFactory, seed_cost_code
from tests.browser.test_certificates import PDF as EVIDENCE_PDF
from tests.browser.test_certificates import seed_certificates
from tests.browser.test_small_screens import NO_SCROLL_JS
from tests.web.report_world import seed_reports

LONG_WORD = "Interprofessionalsafeguardingcoordinationframework"
LONG_EMAIL = (
    "maximilian.fotheringham-worthington.safeguarding-lead"
    "@adultsocialcare.anytown-borough-council.gov.uk"
)
LONG_NAME = "Maximilian Alexander Fotheringham-Worthington"
LONG_TITLE = f"Multidisciplinary Safeguarding Responsibilities: the {LONG_WORD} (Level 3)"
LONG_URL = "https://accessibility.example.org/requirements/" + LONG_WORD + "-" + LONG_WORD


@dataclass
class Pages:
    """Who signs in (their demo login button's name; "" for nobody) and what they open."""

    who: str
    paths: list[str]


async def seed(site: Site) -> list[Pages]:
    world = site.world
    await people.upsert_org_units(
        world.db,
        world.clock,
        world.admin,
        [people.OrgUnitInput("MASH", "Multi-Agency Safeguarding Hub and Early Help", "ADULT")],
    )
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [
            people.PersonInput(
                LONG_EMAIL,
                LONG_NAME,
                "P100",
                "manager@example.org",
                "MASH",
                "Senior Practitioner and Deputy Team Manager (Multi-Agency Safeguarding)",
            )
        ],
    )
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(
            code="SAFEGUARDING-MULTIDISCIPLINARY-LEVEL-3-2027",
            title=LONG_TITLE,
            summary=f"Information-sharing and escalation; see {LONG_URL}",
            certification_months=12,
            certification_window_days=60,
        ),
    )
    start = support.T0 + timedelta(days=14)
    room = RoomInput(
        f"Committee Room {LONG_WORD}", f"Civic Centre, {LONG_WORD} Street, Anytown AN1 1AA"
    )
    session_id, other_id = [
        await support.make_session(
            world,
            course_id=course.id,
            start=start + timedelta(days=i),
            capacity=2,
            room=room,
            facilitators=["trainer@example.org"],
        )
        for i in range(2)
    ]
    max_ = await support.actor(world.db, LONG_EMAIL)
    lee = await support.actor(world.db, "lee@example.org")
    kim = await support.actor(world.db, "kim@example.org")
    mine = await bookings.book_place(
        world.db,
        world.clock,
        max_,
        BookingRequest(session_id, special_requirements=f"A hearing loop: {LONG_URL}"),
    )
    for learner in (lee, kim):  # Lee is booked, Kim waits.
        await bookings.book_place(world.db, world.clock, learner, BookingRequest(session_id))
    booking_id = mine.booking.id
    await records.record_completions(
        world.db,
        world.clock,
        world.admin,
        [
            records.CompletionInput(
                course.code, world.clock.now() - timedelta(days=30), learner_email=LONG_EMAIL
            )
        ],
    )
    # Requests waiting for the manager and the budget holder.
    gated = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        CourseInput(code="LEAD-1", title=f"Leading Teams {LONG_WORD}", approval=["manager"]),
    )
    priced = await seed_cost_code(world)
    for later, course_id, cost_code in ((5, gated.id, None), (6, priced, "AS-4410")):
        sid = await support.make_session(world, course_id=course_id, start=start + timedelta(later))
        await bookings.book_place(
            world.db, world.clock, max_, BookingRequest(sid, cost_code=cost_code)
        )
    mo = await support.actor(world.db, "manager@example.org")
    waiting = await approvals.list_waiting(world.db, world.clock, mo)
    settings = replace(support.settings_for("sqlite://"), base_url="")
    link = approvals.decision_link(
        settings, waiting[0].id, mo.person_id, "approve", world.clock.now()
    )
    await audit.record_now(
        world.db,
        world.clock,
        action="roster.exported",
        actor=max_,
        target=f"session {session_id} {LONG_WORD}",
        details={"reason": f"Checked against {LONG_URL}", "email": LONG_EMAIL},
        ip="2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    )
    max_id = max_.person_id
    return [
        Pages("", ["/login", "/password/forgot"]),
        Pages(
            LONG_NAME,
            [
                "/courses",
                f"/courses/{course.id}",
                f"/sessions/{session_id}",
                f"/sessions/{other_id}/book",
                f"/bookings/{booking_id}",
                f"/bookings/{booking_id}/cancel",
                "/me/bookings",
                "/me/record",
                "/me/required-learning",
            ],
        ),
        Pages("Mo Manager", ["/team", f"/people/{max_id}/record", "/approvals", link]),
        Pages("Tia Trainer", [f"/sessions/{session_id}/roster", f"/sessions/{session_id}/message"]),
        Pages("Bea Budget", ["/budget"]),
        Pages(
            "Ada Admin",
            [
                "/admin/audit",
                "/admin/outbox",
                "/admin/outbox/1",
                "/admin/cost-codes",
                "/admin/compliance",
                "/admin/records/import",
                f"/admin/courses/{course.id}/sessions/new",
                f"/admin/courses/{course.id}/demand",
                f"/sessions/{session_id}/edit",
                f"/sessions/{session_id}/copy",
                f"/sessions/{session_id}/cancel-session",
                f"/sessions/{session_id}/roster",
                f"/courses/{course.id}",
            ],
        ),
        # Catalogue administration (courses): the list, the course form, archive.
        Pages(
            "Ada Admin",
            [
                "/admin/courses",
                "/admin/courses/new",
                f"/admin/courses/{course.id}",
                f"/admin/courses/{course.id}/archive",
            ],
        ),
        # Account requests and the sessions list
        *await _account_requests_and_sessions_list(world),
    ]


async def _account_requests_and_sessions_list(world: support.World) -> list[Pages]:
    """A waiting account request with long values; the sessions list has the sessions above."""
    settings = support.settings_for("sqlite://")
    sent = people.AccountRequestInput(
        name=LONG_NAME,
        email="request." + LONG_EMAIL,
        organisation=f"The {LONG_WORD} Partnership",
        org_unit_text=f"{LONG_WORD} Unit",
        job_role=f"{LONG_WORD} Officer",
        staff_type="associate",
        manager_email=LONG_EMAIL,
        reason=f"See {LONG_URL}",
    )
    await people.request_account(world.db, world.clock, settings, sent, ip=None)
    return [
        Pages("", ["/account-request"]),
        Pages(
            "Ada Admin",
            [
                "/admin/account-requests?state=unconfirmed",
                "/admin/sessions",
                "/admin/sessions?when=all",
                # Outgoing webhooks (issue 19)
                "/admin/webhooks",
            ],
        ),
    ]


@pytest.mark.parametrize("width", [320, 640])
async def test_no_page_scrolls_sideways_at_320_or_640_pixels(
    site: Site, open_tab: TabFactory, width: int
) -> None:
    roles = await seed(site)
    too_wide: list[str] = []
    for role in roles:
        async with open_tab(js=True, who=role.who, viewport={"width": width, "height": 800}) as tab:
            if role.who:
                await tab.goto("/login")
                await tab.sign_in(role.who)
            for path in role.paths:
                await tab.goto(path)
                await tab.page.evaluate(
                    "() => document.querySelectorAll('details').forEach((d) => { d.open = true; })"
                )
                measured = await tab.page.evaluate(NO_SCROLL_JS)
                if measured["width"] > width:
                    too_wide.append(f"{role.who or 'nobody'} {path}: {measured}")
    assert not too_wide, f"pages wider than {width} px:\n" + "\n".join(too_wide)


# --- reports (issue 17) ------------------------------------------------------------------------

REPORT_PATHS = [
    "/admin/reports",
    *(
        f"/admin/reports/{name}"
        for name in (
            "fill-rate",
            "waitlist-demand",
            "attendance",
            "cancellations",
            "fees",
            "trainer-utilisation",
            "compliance",
        )
    ),
    # A refused filter: the error summary and the messages on the fields.
    "/admin/reports/attendance?from=2027-03-10&to=2027-03-01&course=x",
]


async def test_report_pages_do_not_scroll_sideways_at_320_pixels(
    site: Site, open_tab: TabFactory
) -> None:
    await seed_reports(site.world)
    too_wide: list[str] = []
    async with open_tab(js=True, who="Ada Admin", viewport={"width": 320, "height": 800}) as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        for path in REPORT_PATHS:
            response = await tab.page.goto(tab.base_url + path)
            assert response is not None and response.status in (200, 400), path
            measured = await tab.page.evaluate(NO_SCROLL_JS)
            if measured["width"] > 320:
                too_wide.append(f"{path}: {measured}")
    assert not too_wide, "report pages wider than 320 px:\n" + "\n".join(too_wide)


# --- exemptions and extensions (issue 18) -------------------------------------------------------


async def test_exemption_pages_do_not_scroll_sideways_at_320_pixels(
    site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    ids = {p.email: p.id for p in await people.list_people(world.db)}
    await catalogue.update_course(
        world.db,
        world.clock,
        world.admin,
        world.course_id,
        CourseInput(code="SAFE-1", title=LONG_TITLE, owner_email=LONG_EMAIL),
    )
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
    (made,) = await records.request_exemptions(
        world.db,
        world.clock,
        world.admin,
        records.ExemptionInput("lee@example.org", ["SAFE-1"], "exemption", LONG_URL),
    )
    link = notifications.exemption_link(
        replace(support.settings_for("sqlite://"), base_url=site.base_url),
        made.id,
        ids["admin@example.org"],
        "approve",
        world.clock.now(),
    ).removeprefix(site.base_url)
    paths = ["/exemptions", link, f"/team/{ids['lee@example.org']}/exemptions/new"]
    too_wide: list[str] = []
    async with open_tab(js=True, who="Ada Admin", viewport={"width": 320, "height": 800}) as tab:
        await tab.goto("/login")
        await tab.sign_in("Ada Admin")
        for path in paths:
            response = await tab.page.goto(tab.base_url + path)
            assert response is not None and response.status == 200, path
            measured = await tab.page.evaluate(NO_SCROLL_JS)
            if measured["width"] > 320:
                too_wide.append(f"{path}: {measured}")
    assert not too_wide, "exemption pages wider than 320 px:\n" + "\n".join(too_wide)


# --- certificates and evidence (issue 18) -------------------------------------------------------


async def test_the_evidence_queue_and_the_record_fit_a_320_pixel_screen(
    site: Site, open_tab: TabFactory
) -> None:
    await seed_certificates(site.world)
    world = site.world
    lee = await support.actor(world.db, "lee@example.org")
    long_note = "Interprofessionalsafeguardingcoordinationframework " * 3
    upload = records.EvidenceUpload(
        "FIRE-1",
        world.clock.now(),
        long_note,
        "Interprofessionalsafeguarding" * 3 + ".pdf",
        EVIDENCE_PDF,
    )
    await records.send_evidence(world.db, world.clock, lee, upload)
    too_wide: list[str] = []
    for who, paths in (("Lee Learner", ["/me/record"]), ("Olu Owner", ["/evidence"])):
        async with open_tab(js=True, viewport={"width": 320, "height": 800}) as tab:
            await tab.goto("/login")
            await tab.sign_in(who)
            for path in paths:
                await tab.goto(path)
                measured = await tab.page.evaluate(NO_SCROLL_JS)
                if measured["width"] > 320:
                    too_wide.append(f"{who} {path}: {measured}")
    assert not too_wide, "pages wider than 320 px:\n" + "\n".join(too_wide)


# --- learning programs (issue 18) ----------------------------------------------------------------


async def test_program_pages_do_not_scroll_sideways_at_320_pixels(
    site: Site, open_tab: TabFactory
) -> None:
    world = site.world
    long_word = "Interprofessionalsafeguardingcoordinationframework"
    program = await records.create_program(
        world.db,
        world.clock,
        world.admin,
        records.ProgramInput(
            code="IND-" + "X" * 40,
            title=f"The {long_word} induction",
            due_within_days=30,
            sets=[records.ProgramSetInput(f"Core {long_word}", "all", ["SAFE-1"])],
        ),
    )
    too_wide: list[str] = []
    for who, paths in (
        (
            "Ada Admin",
            ["/admin/programs", "/admin/programs/new", f"/admin/programs/{program.id}/edit"],
        ),
        ("Lee Learner", ["/me/programs", f"/programs/{program.id}", "/me/record"]),
    ):
        async with open_tab(js=True, who=who, viewport={"width": 320, "height": 800}) as tab:
            await tab.goto("/login")
            await tab.sign_in(who)
            for path in paths:
                response = await tab.page.goto(tab.base_url + path)
                assert response is not None and response.status == 200, path
                measured = await tab.page.evaluate(NO_SCROLL_JS)
                if measured["width"] > 320:
                    too_wide.append(f"{who} {path}: {measured}")
    assert not too_wide, "program pages wider than 320 px:\n" + "\n".join(too_wide)
