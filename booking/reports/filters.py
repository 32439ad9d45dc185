"""The reports' filters: a date range of session starts, a course, an organisation unit (the
learner's, with its sub-units) and a trainer, read from the query string with a message for
each value that cannot be used; and the choices the filter form offers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Course, OrgUnit, Person, SessionFacilitator

# Dates are the organisation's calendar days: a session starting at 00:30 on 1 April in
# London belongs to 1 April.
REPORT_ZONE = ZoneInfo("Europe/London")
# The default window: what ran lately and what is coming.
DAYS_BACK = 90
DAYS_AHEAD = 90
# A longer range is refused: ten years is more than any report needs.
MAX_DAYS = 3660
FILTER_NAMES = ("dates", "course", "unit", "trainer")


@dataclass(frozen=True, slots=True)
class ReportFilters:
    start: date
    end: date
    course_id: int | None = None
    unit_id: int | None = None
    trainer_id: int | None = None

    def window(self) -> tuple[datetime, datetime]:
        """From the first day's midnight to the midnight after the last day, in UTC."""
        first = datetime.combine(self.start, time(), tzinfo=REPORT_ZONE)
        after = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=REPORT_ZONE)
        return first.astimezone(UTC), after.astimezone(UTC)

    def query(self) -> dict[str, str]:
        """The filters as the form sends them (for the download links)."""
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for key, value in (
            ("course", self.course_id),
            ("unit", self.unit_id),
            ("trainer", self.trainer_id),
        ):
            if value is not None:
                out[key] = str(value)
        return out


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True, slots=True)
class FilterChoices:
    courses: list[Choice]
    units: list[Choice]
    trainers: list[Choice]
    # Unit id → its parent, for a unit's sub-units; and its code.
    parents: dict[int, int | None]
    unit_codes: dict[int, str]

    def unit_and_below(self, unit_id: int) -> set[int]:
        children: dict[int | None, list[int]] = {}
        for child, parent in self.parents.items():
            children.setdefault(parent, []).append(child)
        found, todo = {unit_id}, [unit_id]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found


def default_filters(today: date) -> ReportFilters:
    return ReportFilters(today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD))


def read_filters(
    raw: Mapping[str, str], today: date, choices: FilterChoices
) -> tuple[ReportFilters, dict[str, str]]:
    """The filters asked for, or the defaults where nothing was asked, and a message for each
    value that cannot be used (keyed by the form field)."""
    errors: dict[str, str] = {}
    default = default_filters(today)
    start = _date(raw, "from", default.start, errors)
    end = _date(raw, "to", default.end, errors)
    if "from" not in errors and "to" not in errors:
        if end < start:
            errors["to"] = "The end date must be the same as or after the start date."
        elif (end - start).days > MAX_DAYS:
            errors["to"] = "Choose a range of at most ten years."
    course = _choice(raw, "course", choices.courses, "Choose a course from the list.", errors)
    unit = _choice(raw, "unit", choices.units, "Choose an organisation unit from the list.", errors)
    trainer = _choice(raw, "trainer", choices.trainers, "Choose a trainer from the list.", errors)
    return ReportFilters(start, end, course, unit, trainer), errors


def _date(raw: Mapping[str, str], key: str, default: date, errors: dict[str, str]) -> date:
    text = (raw.get(key) or "").strip()
    if not text:
        return default
    try:
        value = date.fromisoformat(text[:10]) if len(text) == 10 else None
    except ValueError:
        value = None
    if value is None or not 1900 <= value.year <= 2999:
        errors[key] = "Enter a real date, such as 2027-03-01."
        return default
    return value


def _choice(
    raw: Mapping[str, str],
    key: str,
    options: list[Choice],
    message: str,
    errors: dict[str, str],
) -> int | None:
    text = (raw.get(key) or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 18:
        value = int(text)
        if any(o.id == value for o in options):
            return value
    errors[key] = message
    return None


async def filter_choices(s: AsyncSession) -> FilterChoices:
    """Courses, units and trainers (anyone who runs or ran a session, or has the role), in three
    statements whatever their number."""
    courses = (
        await s.execute(select(Course.id, Course.code, Course.title).order_by(Course.code))
    ).all()
    units = (
        await s.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id).order_by(OrgUnit.name)
        )
    ).all()
    ran = select(SessionFacilitator.person_id)
    trainers = (
        await s.execute(
            select(Person.id, Person.name)
            .where(Person.id.in_(ran) | Person.roles.contains("trainer"))
            .order_by(Person.name, Person.id)
        )
    ).all()
    return FilterChoices(
        courses=[Choice(c.id, f"{c.code} – {c.title}") for c in courses],
        units=[Choice(u.id, u.name) for u in units],
        trainers=[Choice(t.id, t.name) for t in trainers],
        parents={u.id: u.parent_id for u in units},
        unit_codes={u.id: u.code for u in units},
    )
