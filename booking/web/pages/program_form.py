"""The administrators' program form as typed: read from the posted fields, shown again as sent
when refused, turned into what `records.create_program` takes. Sets are repeating rows; "Add
another set" posts the form back with one more blank row (no JavaScript needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from booking.records import ProgramInput, ProgramSetInput, ProgramView

MAX_TYPED = 10_000  # past any column's limit: the service names the limit
MAX_ROWS = 30
RULE_CHOICES = (
    ("all", "All of these courses"),
    ("any", "Any one of these courses"),
    ("optional", "Optional (does not count towards progress)"),
)
STAFF_TYPES = (
    ("payroll", "Payroll"),
    ("casual", "Casual"),
    ("associate", "Associate"),
    ("external", "External"),
)


@dataclass(slots=True)
class SetRow:
    title: str = ""
    rule: str = "all"
    codes: str = ""


@dataclass(slots=True)
class ProgramForm:
    code: str = ""
    title: str = ""
    summary: str = ""
    due_within_days: str = ""
    audience_units: str = ""
    audience_roles: str = ""
    audience_staff: list[str] = field(default_factory=list)
    archived: bool = False
    sets: list[SetRow] = field(default_factory=lambda: [SetRow()])


def _cut(value: str | None) -> str:
    return (value or "").strip()[:MAX_TYPED]


def read_form(raw: dict[str, str], staff: list[str]) -> tuple[ProgramForm, bool]:
    """The form as sent, and whether "Add another set" was pressed."""
    try:
        rows = min(max(int(raw.get("set_rows", "1")), 0), MAX_ROWS)
    except ValueError:
        rows = 1
    sets = [
        SetRow(
            _cut(raw.get(f"set_title_{i}")),
            _cut(raw.get(f"set_rule_{i}")) or "all",
            _cut(raw.get(f"set_codes_{i}")),
        )
        for i in range(rows)
    ]
    adding = raw.get("add_set") == "yes"
    if adding and len(sets) < MAX_ROWS:
        sets.append(SetRow())
    form = ProgramForm(
        code=_cut(raw.get("code")),
        title=_cut(raw.get("title")),
        summary=_cut(raw.get("summary")),
        due_within_days=_cut(raw.get("due_within_days")),
        audience_units=_cut(raw.get("audience_units")),
        audience_roles=_cut(raw.get("audience_roles")),
        audience_staff=[s for s in staff if s in dict(STAFF_TYPES)],
        archived=raw.get("archived") == "yes",
        sets=sets or [SetRow()],
    )
    return form, adding


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def program_input(form: ProgramForm) -> tuple[ProgramInput | None, dict[str, str]]:
    """What the records service takes, or the messages for what cannot be read. Empty set rows
    are ignored."""
    days: int | None = None
    if form.due_within_days:
        try:
            days = int(form.due_within_days)
        except ValueError:
            return None, {"due_within_days": "Enter the number of days as a whole number."}
    audience: dict[str, Any] = {
        "org_units": _listed(form.audience_units),
        "job_roles": _listed(form.audience_roles),
        "staff_types": list(form.audience_staff),
    }
    return (
        ProgramInput(
            code=form.code,
            title=form.title,
            summary=form.summary,
            audience={k: v for k, v in audience.items() if v} or None,
            due_within_days=days,
            sets=[
                ProgramSetInput(row.title, row.rule, _listed(row.codes))
                for row in form.sets
                if row.title or row.codes
            ],
            archived=form.archived,
        ),
        {},
    )


def form_of(program: ProgramView) -> ProgramForm:
    audience = program.audience or {}
    return ProgramForm(
        code=program.code,
        title=program.title,
        summary=program.summary,
        due_within_days="" if program.due_within_days is None else str(program.due_within_days),
        audience_units=", ".join(audience.get("org_units") or []),
        audience_roles=", ".join(audience.get("job_roles") or []),
        audience_staff=list(audience.get("staff_types") or []),
        archived=program.archived_at is not None,
        sets=[SetRow(s.title, s.rule, ", ".join(s.course_codes)) for s in program.sets]
        or [SetRow()],
    )


def placed(field_name: str | None, form: ProgramForm, message: str) -> dict[str, str]:
    """The service's field (`sets[2].course_codes`) as the form's input id (`set_codes_N`),
    counting only the rows that were not empty."""
    simple = {"code", "title", "summary", "due_within_days", "audience"}
    if field_name in simple:
        return {field_name: message}
    if field_name and field_name.startswith("sets["):
        index_text, _, part = field_name[5:].partition("].")
        kept = [i for i, row in enumerate(form.sets) if row.title or row.codes]
        try:
            row = kept[int(index_text)]
        except (ValueError, IndexError):
            return {"sets": message}
        name = {"title": "set_title", "rule": "set_rule", "course_codes": "set_codes"}.get(part)
        return {f"{name}_{row}": message} if name else {"sets": message}
    return {"sets" if field_name == "sets" else "form": message}
