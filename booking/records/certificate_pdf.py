"""A certificate of completion as an A4 PDF (fpdf2): the learner, the course, the completion
date, the expiry if the course certifies for a time, the verification code and link, and the
link as a QR code (segno)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from fpdf import FPDF

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    learner_name: str
    course_title: str
    course_code: str
    completed_at: datetime
    expires_at: datetime | None
    code: str
    verification_url: str


def day(moment: datetime) -> str:
    """A date as people read it (in the organisation's time zone): 1 October 2026."""
    return f"{moment.astimezone(LONDON):%-d %B %Y}"


def iso_day(moment: datetime) -> str:
    """The same date as machines read it: 2026-10-01."""
    return f"{moment.astimezone(LONDON):%Y-%m-%d}"


def render_certificate(f: CertificateFacts) -> bytes:
    # Imported here: fpdf and segno cost every process memory, and only this download needs them.
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(_latin1(f"Certificate: {f.course_title}"))
    pdf.set_author("Workshop booking")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(30)
    _line(pdf, "Certificate of completion", 28, "B", 14)
    _line(pdf, "This is to certify that", 13, "", 12)
    _line(pdf, f.learner_name, 24, "B", 14)
    _line(pdf, "has completed", 13, "", 12)
    _line(pdf, f.course_title, 20, "B", 10)
    _line(pdf, f"({f.course_code})", 11, "", 12)
    _line(pdf, f"Completed on {day(f.completed_at)} ({iso_day(f.completed_at)})", 13, "", 8)
    if f.expires_at is not None:
        _line(pdf, f"Valid until {day(f.expires_at)} ({iso_day(f.expires_at)})", 13, "", 8)
    _verification(pdf, f)
    return bytes(pdf.output())


def _line(pdf: FPDF, text: str, size: int, style: str, height: float) -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(0, height, _latin1(text), align="C", new_x="LMARGIN", new_y="NEXT")


def _verification(pdf: FPDF, f: CertificateFacts) -> None:
    """The code and the link at the foot, beside the link as a QR code."""
    import segno

    qr = io.BytesIO()
    segno.make(f.verification_url, error="m").save(qr, kind="png", scale=6, border=1)
    qr.seek(0)
    pdf.image(qr, x=237, y=150, w=38, h=38)
    pdf.set_xy(20, 160)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        210,
        6,
        _latin1(f"Verification code: {f.code}\nCheck this certificate at: {f.verification_url}"),
        align="L",
    )


def _latin1(text: str) -> str:
    """The core PDF fonts are Latin-1; anything else is replaced rather than failing."""
    return text.replace("–", "-").replace("’", "'").encode("latin-1", "replace").decode("latin-1")
