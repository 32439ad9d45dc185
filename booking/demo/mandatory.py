"""Mandatory learning in the demo, each part waiting for someone on first sign-in: an induction
program for everyone, an exemption and an extension a line manager asked for (one for the
course owner to decide, one for the administrators), and evidence of training done elsewhere
waiting for the course owner."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import BytesIO

from fpdf import FPDF

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.demo.dates import LONDON
from booking.demo.history import Learners
from booking.demo.organisation import email_of
from booking.kernel.actors import Actor

# Siobhan Kelly asks; Chris Doyle, who owns Safeguarding Adults (courses.py), decides.
MANAGER = "Siobhan Kelly"

INDUCTION = records.ProgramInput(
    code="NEW-START",
    title="New starter induction",
    summary=(
        "What every new member of staff completes in their first three months: the core "
        "courses, one of the conversation skills courses, and extras if you want them."
    ),
    due_within_days=90,
    sets=[
        records.ProgramSetInput("Core courses", "all", ["GDPR-REF", "MAN-HAND"]),
        records.ProgramSetInput("Working with people", "any", ["DIFF-CONV", "MS-TEAMS"]),
        records.ProgramSetInput("Optional extras", "optional", ["MHFA"]),
    ],
)


async def load_mandatory_learning(
    db: Database, clock: Clock, admin: Actor, learners: Learners
) -> None:
    await records.create_program(db, clock, admin, INDUCTION)
    today = clock.now().astimezone(LONDON).date()
    manager = await learners.actor(MANAGER)
    # For the course owner: an exemption (training done at a previous employer).
    await records.request_exemptions(
        db,
        clock,
        manager,
        records.ExemptionInput(
            learner_email=email_of("Zara Ahmed"),
            course_codes=["SAFA-L2"],
            kind="exemption",
            reason=(
                "Zara completed the equivalent Level 3 course with her previous employer in "
                "the summer; the certificate is on her HR file."
            ),
            until=today + timedelta(days=365),
        ),
    )
    # For the administrators (the course's owner is a team mailbox): more time.
    await records.request_exemptions(
        db,
        clock,
        manager,
        records.ExemptionInput(
            learner_email=email_of("Ben Carter"),
            course_codes=["GDPR-REF"],
            kind="extension",
            reason="Ben is back from long-term sick leave this week.",
            due_at=datetime.combine(today + timedelta(days=30), time(17), tzinfo=LONDON),
        ),
    )
    learner = await learners.actor("Ben Carter")
    await records.send_evidence(
        db,
        clock,
        learner,
        records.EvidenceUpload(
            course_code="SAFA-L2",
            completed_at=datetime.combine(today - timedelta(days=40), time(12), tzinfo=LONDON),
            note="Safeguarding Adults Level 2 with Northbridge NHS Trust, before I moved here.",
            filename="safeguarding-certificate.pdf",
            content=_certificate_pdf("Ben Carter", today - timedelta(days=40)),
        ),
    )


def _certificate_pdf(name: str, day: date) -> bytes:
    """A previous employer's certificate, as a learner would scan and send it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=20)
    pdf.cell(0, 20, "Certificate of completion", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, f"{name} completed Safeguarding Adults Level 2", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, f"on {day:%d %B %Y} with Northbridge NHS Trust.", new_x="LMARGIN", new_y="NEXT")
    out = BytesIO()
    pdf.output(out)
    return out.getvalue()
