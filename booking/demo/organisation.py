"""The demo organisation: Northbridge City Council's units and people, and its administrator."""

from __future__ import annotations

from collections.abc import Sequence

from booking.people import OrgUnitInput, PersonInput

ADMIN_EMAIL = "admin@example.org"
ADMIN_NAME = "Demo Admin"

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
        email=email or email_of(name),
        name=name,
        personnel_number=number,
        manager_email=email_of(manager) if manager else None,
        org_unit=unit,
        job_role=job_role,
        staff_type=staff_type,
        roles=list(roles),
    )


def email_of(name: str) -> str:
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
