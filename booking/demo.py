"""Demo data: the Learning & Development catalogue of a fictional council, Northbridge City Council.

Everything goes through the services, as an administrator and as the learners themselves would do
it, so the demo exercises the same rules as real use (capacity, waiting lists, offers, cancelled
sessions). Dates are laid out from today in Europe/London, so the catalogue always looks upcoming,
and the same clock always gives the same data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from billing.domain.money import Money
from booking import bookings, catalogue, people
from booking.bookings import BookingRequest
from booking.catalogue import CourseInput, DateInput, RoomInput, SessionInput
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.models import Course
from booking.people import OrgUnitInput, PersonInput

log = logging.getLogger(__name__)

TIMEZONE = "Europe/London"
LONDON = ZoneInfo(TIMEZONE)
ADMIN_EMAIL = "admin@example.org"
ADMIN_NAME = "Demo Admin"
# Sessions are laid out over about three months of working days.
HORIZON_DAYS = 92

MORNING = (time(9, 30), time(12, 30))
AFTERNOON = (time(13, 30), time(16, 30))
FULL_DAY = (time(9, 30), time(16, 30))
WEBINAR = (time(10, 0), time(11, 30))


# ---------------------------------------------------------------------------------------------
# The organisation


ORG_UNITS = [
    OrgUnitInput("NCC", "Northbridge City Council"),
    OrgUnitInput("ASC", "Adult Social Care", "NCC"),
    OrgUnitInput("ASC-LD", "Learning Disabilities Team", "ASC"),
    OrgUnitInput("ASC-HUB", "Adults Front Door", "ASC"),
    OrgUnitInput("ASC-REA", "Reablement and Home Care", "ASC"),
    OrgUnitInput("CHS", "Children's Services", "NCC"),
    OrgUnitInput("CHS-SAFE", "Children's Safeguarding", "CHS"),
    OrgUnitInput("CHS-EY", "Early Years", "CHS"),
    OrgUnitInput("PLC", "Place and Communities", "NCC"),
    OrgUnitInput("PLC-STR", "Waste and Street Scene", "PLC"),
    OrgUnitInput("PLC-LIB", "Libraries and Culture", "PLC"),
    OrgUnitInput("RES", "Resources", "NCC"),
    OrgUnitInput("RES-HR", "HR and Organisational Development", "RES"),
    OrgUnitInput("RES-LD", "Learning and Development", "RES-HR"),
    OrgUnitInput("RES-ICT", "ICT and Digital", "RES"),
    OrgUnitInput("RES-FIN", "Finance", "RES"),
]

TRAINER = ["learner", "trainer"]
BUDGET_HOLDER = ["learner", "budget_holder"]


def _person(
    name: str,
    number: str | None,
    manager: str | None,
    unit: str | None,
    job_role: str,
    staff_type: str = "payroll",
    roles: Sequence[str] = ("learner",),
    email: str | None = None,
) -> PersonInput:
    return PersonInput(
        email=email or _email(name),
        name=name,
        personnel_number=number,
        manager_email=_email(manager) if manager else None,
        org_unit=unit,
        job_role=job_role,
        staff_type=staff_type,
        roles=list(roles),
    )


def _email(name: str) -> str:
    first, *rest = name.lower().replace("'", "").split()
    return f"{first}.{''.join(rest)}@example.org"


# Directors, then heads of service and managers, then their teams: line management chains run
# director → manager → officer. Managers are listed before their reports only for readability.
PEOPLE = [
    # Directors
    _person("Helen Okafor", "100214", None, "ASC", "Director"),
    _person("Marcus Whitfield", "100377", None, "CHS", "Director"),
    _person("Priya Raman", "100402", None, "RES", "Director", roles=BUDGET_HOLDER),
    _person("Gareth Lloyd", "100518", None, "PLC", "Director"),
    # Heads of service and managers
    _person("Siobhan Kelly", "101133", "Helen Okafor", "ASC-LD", "Team Manager"),
    _person("Daniel Osei", "101270", "Helen Okafor", "ASC-HUB", "Team Manager"),
    _person("Fiona McLeod", "101305", "Helen Okafor", "ASC-REA", "Service Manager"),
    _person("Aisha Khan", "101446", "Marcus Whitfield", "CHS-SAFE", "Team Manager"),
    _person("Tom Barker", "101582", "Marcus Whitfield", "CHS-EY", "Team Manager"),
    _person(
        "Rachel Green", "101617", "Priya Raman", "RES-HR", "Head of Service", roles=BUDGET_HOLDER
    ),
    _person("Chris Doyle", "101759", "Rachel Green", "RES-LD", "Service Manager"),
    _person("Nadia Petrova", "101864", "Priya Raman", "RES-ICT", "Service Manager"),
    _person("Owen Price", "101920", "Gareth Lloyd", "PLC-STR", "Service Manager"),
    _person("Jenny Holt", "102047", "Gareth Lloyd", "PLC-LIB", "Team Manager"),
    # Learning and Development: the administrator and the trainers
    _person(
        ADMIN_NAME,
        "102101",
        "Chris Doyle",
        "RES-LD",
        "Learning and Development Administrator",
        roles=["admin", "learner"],
        email=ADMIN_EMAIL,
    ),
    _person(
        "Sam Ellison",
        "102188",
        "Chris Doyle",
        "RES-LD",
        "Learning and Development Adviser",
        roles=TRAINER,
    ),
    _person(
        "Grace Mensah",
        "102243",
        "Chris Doyle",
        "RES-LD",
        "Learning and Development Adviser",
        roles=TRAINER,
    ),
    _person(
        "Paul Turner",
        "A00731",
        "Chris Doyle",
        "RES-LD",
        "Associate Trainer",
        staff_type="associate",
        roles=TRAINER,
    ),
    # Adult Social Care
    _person("Ben Carter", "103310", "Siobhan Kelly", "ASC-LD", "Social Worker"),
    _person("Leah Murphy", "103342", "Siobhan Kelly", "ASC-LD", "Social Worker"),
    _person(
        "Kwame Asante", "C20418", "Siobhan Kelly", "ASC-LD", "Support Worker", staff_type="casual"
    ),
    _person("Zara Ahmed", "103395", "Siobhan Kelly", "ASC-LD", "Occupational Therapist"),
    _person("Olivia Hughes", "103421", "Daniel Osei", "ASC-HUB", "Social Care Assessor"),
    _person("Ryan Walsh", "103467", "Daniel Osei", "ASC-HUB", "Social Worker"),
    _person("Mei Lin Chen", "103502", "Daniel Osei", "ASC-HUB", "Customer Adviser"),
    _person(
        "Irene Fox",
        "A00815",
        "Daniel Osei",
        "ASC-HUB",
        "Best Interests Assessor",
        staff_type="associate",
    ),
    _person(
        "Joanne Pritchard",
        "C20533",
        "Fiona McLeod",
        "ASC-REA",
        "Reablement Support Worker",
        staff_type="casual",
    ),
    _person("Tariq Hussain", "103588", "Fiona McLeod", "ASC-REA", "Care Worker"),
    _person("Emma Rowe", "C20579", "Fiona McLeod", "ASC-REA", "Care Worker", staff_type="casual"),
    # Children's Services
    _person("Lucy Bennett", "104106", "Aisha Khan", "CHS-SAFE", "Social Worker"),
    _person("James O'Connor", "104139", "Aisha Khan", "CHS-SAFE", "Social Worker"),
    _person("Hannah Wright", "104172", "Aisha Khan", "CHS-SAFE", "Family Support Worker"),
    _person("Sophie Davies", "104215", "Tom Barker", "CHS-EY", "Early Years Practitioner"),
    _person("Amir Rahman", "104258", "Tom Barker", "CHS-EY", "Early Years Practitioner"),
    # Resources
    _person("Karen Lewis", "105027", "Rachel Green", "RES-HR", "HR Adviser"),
    _person("Dev Patel", "105064", "Nadia Petrova", "RES-ICT", "Service Desk Analyst"),
    _person("Ellie Morgan", "105099", "Nadia Petrova", "RES-ICT", "Business Analyst"),
    _person("Michael Stone", "105131", "Priya Raman", "RES-FIN", "Finance Officer"),
    # Place and Communities
    _person("Craig Dunn", "106012", "Owen Price", "PLC-STR", "Waste Supervisor"),
    _person(
        "Lee Jackson",
        "C20641",
        "Craig Dunn",
        "PLC-STR",
        "Street Scene Operative",
        staff_type="casual",
    ),
    _person("Ruth Adeyemi", "106078", "Jenny Holt", "PLC-LIB", "Library Assistant"),
    _person(
        "Alice Fraser", "C20702", "Jenny Holt", "PLC-LIB", "Library Assistant", staff_type="casual"
    ),
    # External learners: partners who buy places, with no personnel number or manager here.
    _person("Beth Summers", None, None, None, "Teaching Assistant", staff_type="external"),
    _person("Nathan Cole", None, None, None, "Care Home Manager", staff_type="external"),
]

MANAGER_ROLES = ["Team Manager", "Service Manager", "Head of Service"]


# ---------------------------------------------------------------------------------------------
# The catalogue


COURSES = [
    CourseInput(
        code="SAFA-L2",
        title="Safeguarding Adults Level 2",
        summary=(
            "For staff who work directly with adults who may be at risk. Recognise the signs of "
            "abuse and neglect, know what to do when you have a concern, and how to make a "
            "safeguarding referral. Renew every three years."
        ),
    ),
    CourseInput(
        code="MAN-HAND",
        title="Manual Handling",
        summary=(
            "A practical session on safe lifting, carrying and moving of loads and people, "
            "including hoists and slide sheets. Please wear comfortable clothes and flat shoes."
        ),
    ),
    CourseInput(
        code="FIRE-MAR",
        title="Fire Marshal",
        summary=(
            "For nominated fire marshals in council buildings: fire prevention, your role in an "
            "evacuation, using extinguishers safely and the roll call. Includes a practical "
            "extinguisher demonstration."
        ),
    ),
    CourseInput(
        code="MHFA",
        title="Mental Health First Aid",
        summary=(
            "A two-day course accredited by MHFA England. Spot the signs of mental ill health, "
            "start a supportive conversation and guide a colleague to help. You must attend both "
            "days to qualify. Places are charged to your service's cost code."
        ),
        price=Money(15000, "GBP"),
        approval=["manager"],
        cancellation_policy={
            "tiers": [
                {"min_notice_hours": 336, "fee_percent": 0},
                {"min_notice_hours": 168, "fee_percent": 50},
                {"min_notice_hours": 0, "fee_percent": 100},
            ],
            "no_show_fee_percent": 100,
        },
    ),
    CourseInput(
        code="LEAD-TEAMS",
        title="Leading Teams",
        summary=(
            "A three-day programme for team and service managers, one day a week: setting "
            "direction, supervision and one-to-ones, managing performance and attendance, and "
            "looking after your own wellbeing. Please attend all three days."
        ),
        audience={"job_roles": MANAGER_ROLES},
    ),
    CourseInput(
        code="MS-TEAMS",
        title="Microsoft Teams for Virtual Meetings",
        summary=(
            "A live online session: schedule and join meetings, share your screen, use breakout "
            "rooms and keep meetings accessible. The joining link is sent to booked learners."
        ),
    ),
    CourseInput(
        code="DIFF-CONV",
        title="Difficult Conversations",
        summary=(
            "Prepare for and hold conversations that matter: giving feedback, saying no, and "
            "staying calm when emotions run high. Practise with scenarios from council work."
        ),
    ),
    CourseInput(
        code="GDPR-REF",
        title="Data Protection Refresher",
        summary=(
            "A refresher on UK GDPR for all staff who handle personal data: lawful sharing, "
            "subject access requests, and what to do in the first hour after a data breach."
        ),
    ),
]

ROOMS = {
    "civic1": RoomInput(
        "Civic Centre, Training Room 1",
        "Civic Centre, Market Square, Northbridge NB1 1AA",
        16,
        "Second floor; lift from the main reception. Hearing loop available.",
    ),
    "civic2": RoomInput(
        "Civic Centre, Training Room 2",
        "Civic Centre, Market Square, Northbridge NB1 1AA",
        10,
        "Second floor, next to Training Room 1.",
    ),
    "riverside": RoomInput(
        "Riverside House, Conference Room",
        "Riverside House, 12 Quay Street, Northbridge NB2 4QT",
        24,
        "Ground floor. Sign in at reception; visitor parking at the rear.",
    ),
    "boardroom": RoomInput(
        "Riverside House, Boardroom",
        "Riverside House, 12 Quay Street, Northbridge NB2 4QT",
        12,
        "First floor. Lunch is provided on full-day courses.",
    ),
    "depot": RoomInput(
        "Hartley Road Depot, Moving and Handling Suite",
        "Hartley Road Depot, Hartley Road, Northbridge NB5 7HR",
        8,
        "Hoists, slide sheets and a training bed. Free parking on site.",
    ),
}

SAM = "sam.ellison@example.org"
GRACE = "grace.mensah@example.org"
PAUL = "paul.turner@example.org"


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A session and what happens to it, with dates as working days from today (1 = the next)."""

    course: str
    days: tuple[int, ...]
    hours: tuple[time, time]
    capacity: int
    facilitators: tuple[str, ...]
    room: str | None = None
    virtual_link: str | None = None
    waitlist_mode: str = "auto"
    offer_hours: int = 24
    status: str = "open"
    # Learners (by name) who sign themselves up, in order: beyond capacity they join the waitlist.
    learners: tuple[str, ...] = ()
    # Learners the training team books after sign-up closed, with the reason it records.
    added_by_admin: tuple[str, ...] = ()
    admin_reason: str = "Booked by the training team"
    # Learners who later cancel, with their reason.
    cancellations: tuple[tuple[str, str], ...] = ()
    closed_early: bool = False
    cancel_reason: str | None = None
    # Lay the dates out one a week either side of the next clock change, when there is one.
    across_clock_change: bool = False


SESSIONS = [
    PlannedSession(
        "FIRE-MAR",
        (2,),
        MORNING,
        12,
        (GRACE,),
        room="riverside",
        added_by_admin=("Karen Lewis", "Dev Patel", "Jenny Holt", "Ellie Morgan"),
        admin_reason="Nominated fire marshal; the list has gone to the fire safety officer",
        closed_early=True,
    ),
    PlannedSession(
        "MS-TEAMS",
        (3,),
        WEBINAR,
        20,
        (SAM,),
        virtual_link="https://meet.example.org/ld/ms-teams-virtual-meetings-1",
        learners=(
            "Mei Lin Chen",
            "Olivia Hughes",
            "Hannah Wright",
            "Lucy Bennett",
            "Michael Stone",
            "Ellie Morgan",
            "Alice Fraser",
        ),
    ),
    PlannedSession(
        "SAFA-L2",
        (4,),
        MORNING,
        16,
        (SAM,),
        room="civic1",
        learners=(
            "Ben Carter",
            "Leah Murphy",
            "Kwame Asante",
            "Olivia Hughes",
            "Ryan Walsh",
            "Joanne Pritchard",
            "Tariq Hussain",
            "Irene Fox",
            "Nathan Cole",
        ),
    ),
    # Full, with a waiting list.
    PlannedSession(
        "MAN-HAND",
        (6,),
        MORNING,
        6,
        (GRACE,),
        room="depot",
        learners=(
            "Joanne Pritchard",
            "Tariq Hussain",
            "Emma Rowe",
            "Kwame Asante",
            "Craig Dunn",
            "Lee Jackson",
            "Ruth Adeyemi",
            "Alice Fraser",
            "Sophie Davies",
        ),
    ),
    PlannedSession(
        "MAN-HAND",
        (6,),
        AFTERNOON,
        6,
        (GRACE,),
        room="depot",
        learners=("Hannah Wright", "Amir Rahman"),
    ),
    # Leading Teams, cohort 1: offers when a place frees; one manager drops out, so the first on
    # the waiting list holds an offer.
    PlannedSession(
        "LEAD-TEAMS",
        (8, 13, 18),
        FULL_DAY,
        6,
        (PAUL,),
        room="boardroom",
        waitlist_mode="offer",
        offer_hours=48,
        learners=(
            "Siobhan Kelly",
            "Daniel Osei",
            "Fiona McLeod",
            "Aisha Khan",
            "Tom Barker",
            "Rachel Green",
            "Chris Doyle",
            "Nadia Petrova",
        ),
        cancellations=(("Daniel Osei", "Covering the duty rota while a colleague is on leave"),),
    ),
    # Leading Teams, cohort 2 (booked after cohort 1, so a drop-out there can move here): one
    # day a week, across the clock change when there is one within the three months.
    PlannedSession(
        "LEAD-TEAMS",
        (38, 43, 48),
        FULL_DAY,
        8,
        (PAUL,),
        room="boardroom",
        learners=("Daniel Osei", "Jenny Holt"),
        across_clock_change=True,
    ),
    PlannedSession(
        "DIFF-CONV",
        (9,),
        AFTERNOON,
        12,
        (PAUL,),
        room="civic2",
        learners=("Lucy Bennett", "James O'Connor", "Siobhan Kelly"),
        cancel_reason=(
            "The facilitator is unwell. We are sorry for the short notice: please book the "
            "new date later in the term."
        ),
    ),
    PlannedSession("MHFA", (11, 12), FULL_DAY, 10, (GRACE,), room="civic2"),
    PlannedSession(
        "GDPR-REF",
        (16,),
        MORNING,
        16,
        (SAM,),
        room="civic1",
        learners=(
            "Dev Patel",
            "Ellie Morgan",
            "Karen Lewis",
            "Michael Stone",
            "Zara Ahmed",
            "James O'Connor",
        ),
    ),
    PlannedSession(
        "MS-TEAMS",
        (20,),
        WEBINAR,
        20,
        (SAM,),
        virtual_link="https://meet.example.org/ld/ms-teams-virtual-meetings-2",
        learners=("Ruth Adeyemi", "Karen Lewis"),
    ),
    PlannedSession(
        "SAFA-L2",
        (22,),
        AFTERNOON,
        16,
        (SAM,),
        room="civic1",
        learners=("Zara Ahmed", "Mei Lin Chen", "Emma Rowe"),
    ),
    PlannedSession(
        "FIRE-MAR",
        (27,),
        AFTERNOON,
        12,
        (GRACE,),
        room="riverside",
        learners=("Ruth Adeyemi", "Owen Price"),
    ),
    PlannedSession(
        "DIFF-CONV",
        (29,),
        AFTERNOON,
        12,
        (PAUL,),
        room="civic2",
        learners=("Lucy Bennett", "James O'Connor", "Craig Dunn", "Aisha Khan"),
    ),
    PlannedSession("MAN-HAND", (33,), MORNING, 6, (GRACE,), room="depot"),
    PlannedSession(
        "MS-TEAMS",
        (41,),
        WEBINAR,
        20,
        (SAM,),
        virtual_link="https://meet.example.org/ld/ms-teams-virtual-meetings-3",
        waitlist_mode="off",
    ),
    PlannedSession("MHFA", (46, 47), FULL_DAY, 10, (GRACE,), room="civic2"),
    PlannedSession(
        "SAFA-L2", (50,), MORNING, 20, (SAM,), room="riverside", learners=("Beth Summers",)
    ),
    # Not yet published: only administrators see it.
    PlannedSession("GDPR-REF", (55,), MORNING, 16, (SAM,), room="civic1", status="draft"),
    PlannedSession("FIRE-MAR", (58,), MORNING, 12, (GRACE,), room="riverside"),
]


# ---------------------------------------------------------------------------------------------
# Loading


async def load_demo(db: Database, clock: Clock) -> bool:
    """Load the demo organisation, catalogue and bookings; False (and nothing loaded) if the
    database already has a course."""
    if await catalogue.count_table(db, Course):
        return False
    # Whole days in London: the same clock gives the same catalogue, whatever the hour.
    today = clock.now().astimezone(LONDON).date()

    token = await people.create_admin(db, clock, email=ADMIN_EMAIL, name=ADMIN_NAME)
    admin = await people.actor_for_token(db, token)
    assert admin is not None
    await people.upsert_org_units(db, clock, admin, ORG_UNITS)
    results = await people.upsert_people(db, clock, admin, PEOPLE)
    learners = _Learners(db, {p.email: r.id for p, r in zip(PEOPLE, results, strict=True)})

    course_ids = {c.code: (await catalogue.create_course(db, clock, admin, c)).id for c in COURSES}
    for planned, dates in zip(SESSIONS, plan_dates(today, SESSIONS), strict=True):
        await _load_session(
            db, clock, admin, learners, course_ids[planned.course], planned, dates, today=today
        )
    log.info("demo data loaded: %d courses, %d sessions", len(COURSES), len(SESSIONS))
    return True


class _Learners:
    """Each learner's own Actor, looked up once."""

    def __init__(self, db: Database, ids: dict[str, int]) -> None:
        self._db = db
        self._ids = ids
        self._actors: dict[str, Actor] = {}

    async def actor(self, name: str) -> Actor:
        email = _email(name)
        if email not in self._actors:
            found = await people.actor_for_person(self._db, self._ids[email])
            assert found is not None, email
            self._actors[email] = found
        return self._actors[email]


async def _load_session(
    db: Database,
    clock: Clock,
    admin: Actor,
    learners: _Learners,
    course_id: int,
    planned: PlannedSession,
    dates: list[DateInput],
    *,
    today: date,
) -> None:
    signup_closes = None
    if planned.closed_early:
        # Closed at the start of today: the session is still to come but takes no sign-ups.
        signup_closes = datetime.combine(today, time(0), tzinfo=LONDON)
    session = await catalogue.create_session(
        db,
        clock,
        admin,
        course_id,
        SessionInput(
            dates=dates,
            capacity=planned.capacity,
            room=ROOMS[planned.room] if planned.room else None,
            virtual_link=planned.virtual_link,
            facilitators=list(planned.facilitators),
            waitlist_mode=planned.waitlist_mode,
            offer_hours=planned.offer_hours,
            signup_closes=signup_closes,
            status=planned.status,
        ),
    )
    booking_ids: dict[str, int] = {}
    for name in planned.learners:
        outcome = await bookings.book_place(
            db, clock, await learners.actor(name), BookingRequest(session.id)
        )
        booking_ids[name] = outcome.booking.id
    for name in planned.added_by_admin:
        outcome = await bookings.book_place(
            db,
            clock,
            admin,
            BookingRequest(
                session.id,
                learner_email=_email(name),
                override_reason=planned.admin_reason,
            ),
        )
        booking_ids[name] = outcome.booking.id
    for name, reason in planned.cancellations:
        await bookings.cancel_booking(
            db, clock, await learners.actor(name), booking_ids[name], reason=reason
        )
    if planned.cancel_reason:
        await catalogue.cancel_session(db, clock, admin, session.id, reason=planned.cancel_reason)


# ---------------------------------------------------------------------------------------------
# Dates


def plan_dates(today: date, sessions: Sequence[PlannedSession]) -> list[list[DateInput]]:
    """Each session's dates, in London time. No two sessions overlap at all, so no learner,
    room or trainer is ever in two places at once; a session that would overlap an earlier one
    moves on a working day until it fits."""
    days = working_days(today, HORIZON_DAYS + 60)
    taken: list[tuple[datetime, datetime]] = []
    planned: dict[int, list[DateInput]] = {}
    # Sessions placed around the clock change choose their dates first; the rest fit around them.
    order = sorted(range(len(sessions)), key=lambda n: not sessions[n].across_clock_change)
    for n in order:
        session = sessions[n]
        indices = list(session.days)
        if session.across_clock_change:
            indices = _across_clock_change(today, days) or indices
        while True:
            dates = [_date_input(days[i - 1], session.hours) for i in indices]
            if not any(_overlaps(d, t) for d in dates for t in taken):
                break
            indices = [i + 1 for i in indices]
        taken.extend((d.start, d.end) for d in dates)
        planned[n] = dates
    return [planned[n] for n in range(len(sessions))]


def working_days(today: date, within: int) -> list[date]:
    """The working days after today, up to `within` days ahead: no weekends, no bank holidays,
    and no training between Christmas Eve and New Year, when the council's offices close."""
    last = today + timedelta(days=within)
    holidays = {d for year in range(today.year, last.year + 1) for d in bank_holidays(year)}
    found = []
    for n in range(1, within + 1):
        day = today + timedelta(days=n)
        christmas_closure = day.month == 12 and day.day >= 24
        if day.weekday() < 5 and day not in holidays and not christmas_closure:
            found.append(day)
    return found


def bank_holidays(year: int) -> set[date]:
    """England and Wales bank holidays by the usual rules (one-off extra days aside)."""
    easter = _easter_sunday(year)
    may = date(year, 5, 1)
    early_may = may + timedelta(days=(7 - may.weekday()) % 7)
    spring = date(year, 5, 31) - timedelta(days=date(year, 5, 31).weekday())
    summer = date(year, 8, 31) - timedelta(days=date(year, 8, 31).weekday())
    days = {easter - timedelta(days=2), easter + timedelta(days=1), early_may, spring, summer}
    # New Year's Day, Christmas Day and Boxing Day move to the next free weekday at a weekend.
    for fixed in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
        day = fixed
        while day.weekday() >= 5 or day in days:
            day += timedelta(days=1)
        days.add(day)
    return days


def _easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def next_clock_change(today: date, within: int) -> date | None:
    """The first day within `within` days whose UTC offset in London differs from the day
    before (the last Sunday of March or of October)."""
    for n in range(1, within + 1):
        day = today + timedelta(days=n)
        if _offset(day) != _offset(day - timedelta(days=1)):
            return day
    return None


def _across_clock_change(today: date, days: list[date]) -> list[int] | None:
    """Three weekly dates, the first on the Tuesday before the clock change, if all three fall
    within the horizon (and not before the second working day)."""
    change = next_clock_change(today, HORIZON_DAYS)
    if change is None:
        return None
    wanted = [change - timedelta(days=5 - 7 * week) for week in range(3)]
    if wanted[-1] > today + timedelta(days=HORIZON_DAYS):
        return None
    indices = [_first_index_on_or_after(days, day) for day in wanted]
    found = [i for i in indices if i is not None]
    if len(found) != len(wanted) or found[0] < 2:
        return None
    return found


def _first_index_on_or_after(days: list[date], wanted: date) -> int | None:
    for i, day in enumerate(days, start=1):
        if day >= wanted:
            return i
    return None


def _offset(day: date) -> timedelta | None:
    return datetime.combine(day, time(12), tzinfo=LONDON).utcoffset()


def _date_input(day: date, hours: tuple[time, time]) -> DateInput:
    start, end = hours
    return DateInput(
        datetime.combine(day, start, tzinfo=LONDON),
        datetime.combine(day, end, tzinfo=LONDON),
        TIMEZONE,
    )


def _overlaps(d: DateInput, taken: tuple[datetime, datetime]) -> bool:
    return d.start < taken[1] and taken[0] < d.end
