"""The demo sessions and what happens to each (sign-ups, waiting lists, cancellations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

MORNING = (time(9, 30), time(12, 30))
AFTERNOON = (time(13, 30), time(16, 30))
FULL_DAY = (time(9, 30), time(16, 30))
WEBINAR = (time(10, 0), time(11, 30))

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
    # Priced, with no approval: paid by card (or a cost code).
    PlannedSession("EFAW", (35,), FULL_DAY, 12, (GRACE,), room="riverside"),
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
