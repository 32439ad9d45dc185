"""The demo catalogue: its courses and the rooms they are taught in."""

from __future__ import annotations

from billing.domain.money import Money
from booking.catalogue import CourseInput, DiscountInput, RoomInput
from booking.demo.organisation import MANAGER_ROLES

COURSES = [
    CourseInput(
        code="SAFA-L2",
        category="Safeguarding",
        # Chris Doyle (Learning and Development) decides its exemptions and evidence.
        owner_email="chris.doyle@example.org",
        title="Safeguarding Adults Level 2",
        summary=(
            "For staff who work directly with adults who may be at risk. Recognise the signs of "
            "abuse and neglect, know what to do when you have a concern, and how to make a "
            "safeguarding referral. Renew every three years."
        ),
        certification_months=36,
        certification_window_days=90,
    ),
    CourseInput(
        code="MAN-HAND",
        category="Health and safety",
        owner_email="health.safety@example.org",
        title="Manual Handling",
        summary=(
            "A practical session on safe lifting, carrying and moving of loads and people, "
            "including hoists and slide sheets. Please wear comfortable clothes and flat shoes."
        ),
    ),
    CourseInput(
        code="FIRE-MAR",
        category="Health and safety",
        owner_email="health.safety@example.org",
        title="Fire Marshal",
        summary=(
            "For nominated fire marshals in council buildings: fire prevention, your role in an "
            "evacuation, using extinguishers safely and the roll call. Includes a practical "
            "extinguisher demonstration."
        ),
    ),
    CourseInput(
        code="MHFA",
        category="Health and wellbeing",
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
        code="EFAW",
        category="Health and safety",
        owner_email="health.safety@example.org",
        title="Emergency First Aid at Work",
        summary=(
            "A one-day course meeting the HSE's requirements for emergency first aiders: CPR, "
            "choking, bleeding and shock. Open to partners and volunteers too: pay by card, or "
            "give your service's cost code (council staff pay the lower price). The certificate "
            "lasts three years."
        ),
        price=Money(9500, "GBP"),
        # Council staff pay less than partners and volunteers.
        discount=DiscountInput(6000, {"staff_types": ["payroll"]}),
        cancellation_policy={
            "tiers": [
                {"min_notice_hours": 168, "fee_percent": 0},
                {"min_notice_hours": 0, "fee_percent": 50},
            ],
            "no_show_fee_percent": 100,
        },
    ),
    CourseInput(
        code="LEAD-TEAMS",
        category="Leadership and management",
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
        category="Digital skills",
        title="Microsoft Teams for Virtual Meetings",
        summary=(
            "A live online session: schedule and join meetings, share your screen, use breakout "
            "rooms and keep meetings accessible. The joining link is sent to booked learners."
        ),
    ),
    CourseInput(
        code="DIFF-CONV",
        category="Leadership and management",
        title="Difficult Conversations",
        summary=(
            "Prepare for and hold conversations that matter: giving feedback, saying no, and "
            "staying calm when emotions run high. Practise with scenarios from council work."
        ),
    ),
    CourseInput(
        code="GDPR-REF",
        category="Information governance",
        owner_email="information.governance@example.org",
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
