"""The printable sign-in sheet: every piece of text stays inside its own column, however long a
name or a job title, so the Signature column is left empty to sign in."""

from __future__ import annotations

import io

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from booking import bookings, people, roster
from booking.bookings import BookingRequest
from booking.roster import SIGN_IN_COLUMNS_MM
from tests import support

MM_PER_PT = 25.4 / 72
LONG_NAME = "Maximilian Alexander Fotheringham-Worthington-Smythe"
LONG_ROLE = (
    "Senior Practitioner and Deputy Team Manager (Multi-Agency Safeguarding Hub), "
    "Interprofessionalsafeguardingcoordination"
)


def text_runs(pdf: bytes) -> list[tuple[float, float, str, float]]:
    """Every run of text on every page: x and y of its start (mm from the page's left and
    bottom), its text and its font size."""
    runs: list[tuple[float, float, str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            runs.append((tm[4] * MM_PER_PT, tm[5] * MM_PER_PT, text.strip(), size))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_long_names_and_job_titles_wrap_inside_their_columns(
    db_url: str, world: support.World
) -> None:
    await people.upsert_people(
        world.db,
        world.clock,
        world.admin,
        [people.PersonInput("max@example.org", LONG_NAME, None, None, "ADULT", LONG_ROLE)],
    )
    session_id = await support.make_session(world, facilitators=["trainer@example.org"])
    for email in ("max@example.org", "lee@example.org"):
        who = await support.actor(world.db, email)
        await bookings.book_place(world.db, world.clock, who, BookingRequest(session_id))
    trainer = await support.actor(world.db, "trainer@example.org")

    pdf = await roster.sign_in_sheet(world.db, world.clock, trainer, session_id)

    runs = text_runs(pdf)
    left = 10.0  # fpdf's default margin
    edges = [left]
    for width in SIGN_IN_COLUMNS_MM:
        edges.append(edges[-1] + width)
    signature_starts = edges[2]
    heading_y = next(y for x, y, text, _ in runs if text == "Signature")
    measure = FPDF(unit="mm")
    problems = []
    for x, y, text, size in runs:
        if y > heading_y or text == "Signature":
            continue  # the title, dates and place above the table, and the Signature heading
        measure.set_font("Helvetica", "B" if y == heading_y else "", size)
        right = x + measure.get_string_width(text)
        column = next(i for i in range(3) if edges[i] <= x < edges[i + 1])
        if column == 2 or right > edges[column + 1]:
            problems.append(f"{text!r} from {x:.1f} to {right:.1f} mm (column {column})")
    assert not problems, f"text outside its column (Signature starts at {signature_starts}):\n" + (
        "\n".join(problems)
    )
    # Nothing was cut off: the name and the job title are there in full, wrapped.
    everything = "".join("".join(text.split()) for _, _, text, _ in runs)
    assert "".join(LONG_NAME.split()) in everything
    assert "".join(LONG_ROLE.split()) in everything
