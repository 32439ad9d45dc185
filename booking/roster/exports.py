"""The roster for download: every learner as CSV, and the printable sign-in sheet (PDF)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.dates import local
from booking.kernel.exports import safe_cell
from booking.kernel.views import RosterRowView, RosterView, SessionView
from booking.roster.reads import read_roster

if TYPE_CHECKING:
    from fpdf import FPDF

CSV_HEADING = (
    "Booking",
    "State",
    "Waitlist position",
    "Name",
    "Email",
    "Job role",
    "Unit",
    "Special requirements",
    "Answers",
    "Override",
)

# The sign-in sheet's columns on A4 (190 mm between the margins): name, job role and unit,
# signature.
SIGN_IN_COLUMNS_MM = (60, 55, 70)


async def roster_csv(db: Database, clock: Clock, actor: Actor, session_id: int) -> str:
    """Every learner on the roster, group by group, one row each."""
    roster = await _exported(db, clock, actor, session_id, "csv")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADING)
    for group in (
        roster.booked,
        roster.attended,
        roster.offered,
        roster.waitlisted,
        roster.pending,
        roster.cancelled,
    ):
        for r in group:
            writer.writerow(_csv_row(r))
    return out.getvalue()


def _csv_row(r: RosterRowView) -> list[str]:
    return [
        safe_cell(r.booking_id),
        safe_cell(r.state),
        safe_cell(r.waitlist_position or ""),
        safe_cell(r.learner.name),
        safe_cell(r.learner.email),
        safe_cell(r.learner.job_role or ""),
        safe_cell(r.learner.org_unit or ""),
        safe_cell(r.special_requirements or ""),
        safe_cell("; ".join(f"{k}: {v}" for k, v in (r.answers or {}).items())),
        safe_cell(r.override_reason or ""),
    ]


async def sign_in_sheet(db: Database, clock: Clock, actor: Actor, session_id: int) -> bytes:
    """A printable A4 PDF: one row per booked learner with a box to sign."""
    roster = await _exported(db, clock, actor, session_id, "pdf")
    # Imported here: fpdf costs every process ~29 MB, and only this download needs it.
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"Sign-in sheet: {roster.session.course_title}")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    _sheet_heading(pdf, roster.session)
    _sheet_table(pdf, sorted([*roster.booked, *roster.attended], key=lambda r: r.learner.name))
    return bytes(pdf.output())


async def _exported(
    db: Database, clock: Clock, actor: Actor, session_id: int, fmt: str
) -> RosterView:
    """The roster (the trainers' and administrators' to read), its export written down."""
    roster = await read_roster(db, clock, actor, session_id)
    await audit.record_now(
        db,
        clock,
        action="roster.exported",
        actor=actor,
        target=f"session {session_id}",
        details={"format": fmt},
    )
    return roster


def _sheet_heading(pdf: FPDF, s: SessionView) -> None:
    """The course, each date in its own time zone, and where."""
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Sign-in sheet: {s.course_title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for d in s.dates:
        start = local(d.start, d.timezone)
        end = local(d.end, d.timezone)
        pdf.cell(
            0,
            6,
            _latin1(f"{start:%A %-d %B %Y}, {start:%H:%M}-{end:%H:%M} {start:%Z}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    where = s.room.name if s.room else ("Online" if s.virtual else "")
    if where:
        pdf.cell(0, 6, _latin1(f"Where: {where}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _sheet_table(pdf: FPDF, rows: list[RosterRowView]) -> None:
    """A table of fixed column widths whose cells wrap (long words too), so that nothing runs
    into the Signature column; a row grows with its text but leaves room to sign. The heading
    row is repeated on every page."""
    from fpdf.enums import WrapMode

    pdf.set_font("Helvetica", "", 10)
    with pdf.table(
        col_widths=SIGN_IN_COLUMNS_MM,
        width=sum(SIGN_IN_COLUMNS_MM),
        align="LEFT",
        text_align="LEFT",
        v_align="MIDDLE",
        line_height=5,
        min_row_height=14,
        wrapmode=WrapMode.WORD,
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for title in ("Name", "Job role / unit", "Signature"):
            heading.cell(title)
        for r in rows:
            role = ", ".join(x for x in (r.learner.job_role, r.learner.org_unit) if x)
            row = table.row()
            row.cell(_latin1(r.learner.name))
            row.cell(_latin1(role))
            row.cell("")


def _latin1(text: str) -> str:
    """The core PDF fonts are Latin-1; anything else is replaced rather than failing."""
    return text.replace("–", "-").replace("’", "'").encode("latin-1", "replace").decode("latin-1")
