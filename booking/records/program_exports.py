"""A record's learning programs in its downloads: one row per course of each set.

The XLSX gets them on a second sheet, "Programs" (the team's: one row per member and
program); the record's CSV, only when the person has programs,
after the courses as a section of its own (a blank row, a "Programs" row, its header row), so a
record without programs downloads exactly as before."""

from __future__ import annotations

from typing import Any

from booking.records.exports import to_csv
from booking.records.views import RecordView, TeamView

PROGRAM_HEADERS = (
    "Program code",
    "Program",
    "Status",
    "Progress %",
    "Due",
    "Set",
    "Rule",
    "Set complete",
    "Course code",
    "Course status",
)
STATUS_LABELS = {"complete": "Complete", "in_progress": "In progress", "not_started": "Not started"}


def program_rows(record: RecordView) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for p in record.programs:
        head = [
            p.code,
            p.title,
            STATUS_LABELS.get(p.status, p.status),
            p.progress_percent,
            p.due_at,
        ]
        if not p.sets:
            rows.append([*head, "", "", "", "", ""])
        for s in p.sets:
            for c in s.courses:
                status = "Booked" if c.status == "in_progress" else STATUS_LABELS.get(c.status)
                rows.append(
                    [*head, s.title, s.rule, "yes" if s.complete else "no", c.course_code, status]
                )
    return rows


def programs_csv_section(record: RecordView) -> str:
    """The programs section to append to a record's CSV ("" when there are none)."""
    if not record.programs:
        return ""
    return "\r\n" + to_csv(["Programs"], []) + to_csv(PROGRAM_HEADERS, program_rows(record))


TEAM_PROGRAM_HEADERS = ("Name", "Email", *PROGRAM_HEADERS[:5])


def team_program_rows(team: TeamView) -> list[list[Any]]:
    """One row per member and program (the team download's "Programs" sheet)."""
    return [
        [
            m.record.person.name,
            m.record.person.email,
            p.code,
            p.title,
            STATUS_LABELS.get(p.status, p.status),
            p.progress_percent,
            p.due_at,
        ]
        for m in team.members
        for p in m.record.programs
    ]
