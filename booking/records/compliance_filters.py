"""The compliance report's filters, shared by its page, its downloads, its API and the reports'
compliance page: an organisation unit (with or without its sub-units), a staff type and an
as-of date, read from the query string with a message for each value that cannot be used."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from booking.people import STAFF_TYPES
from booking.records.facts import Learner

FILTER_KEYS = ("unit", "sub_units", "staff_type", "as_of")
_TRUE = ("true", "1", "on", "yes")
_FALSE = ("false", "0", "off", "no")


@dataclass(frozen=True, slots=True)
class ComplianceFilters:
    """No unit: every unit (and nobody's); no staff type: all; no date: now."""

    unit: str | None = None
    sub_units: bool = True
    staff_type: str | None = None
    as_of: date | None = None

    def moment(self, now: datetime) -> datetime:
        """The end of the as-of day (UTC), or now if that is sooner."""
        if self.as_of is None:
            return now
        end = datetime.combine(self.as_of + timedelta(days=1), time(), tzinfo=UTC)
        return min(end - timedelta(microseconds=1), now)

    def includes(self, learner: Learner) -> bool:
        if self.staff_type is not None and learner.person.staff_type != self.staff_type:
            return False
        if self.unit is None:
            return True
        if self.sub_units:
            return self.unit in learner.unit_path  # the unit itself, then those above it
        return learner.unit_code == self.unit

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for the download links)."""
        out: dict[str, str] = {}
        if self.unit is not None:
            out["unit"] = self.unit
            out["sub_units"] = "true" if self.sub_units else "false"
        if self.staff_type is not None:
            out["staff_type"] = self.staff_type
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


def read_compliance_filters(
    raw: Mapping[str, Sequence[str]], today: date, unit_codes: Collection[str]
) -> tuple[ComplianceFilters, dict[str, str]]:
    """The filters asked for (each key's last value counts: the page's checkbox follows a
    hidden "false"), and a message for each value that cannot be used, keyed by the field."""
    errors: dict[str, str] = {}

    def last(key: str) -> str:
        values = raw.get(key) or []
        return values[-1].strip() if values else ""

    unit: str | None = last("unit") or None
    if unit is not None and unit not in unit_codes:
        errors["unit"] = "Choose an organisation unit from the list."
        unit = None
    sub_text = last("sub_units").lower()
    sub_units = sub_text not in _FALSE
    if sub_text and sub_text not in _TRUE + _FALSE:
        errors["sub_units"] = "Include sub-units must be true or false."
    staff_type: str | None = last("staff_type") or None
    if staff_type is not None and staff_type not in STAFF_TYPES:
        errors["staff_type"] = "Choose a staff type: " + ", ".join(STAFF_TYPES) + "."
        staff_type = None
    as_of = _as_of(last("as_of"), today, errors)
    return ComplianceFilters(unit, sub_units, staff_type, as_of), errors


def _as_of(text: str, today: date, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    value: date | None = None
    if len(text) == 10 and text.isascii():
        try:
            value = date.fromisoformat(text)
        except ValueError:
            value = None
    if value is None or value.year < 1900:
        errors["as_of"] = "Enter the as-of date as YYYY-MM-DD, such as 2027-01-31."
        return None
    if value > today:
        errors["as_of"] = "The as-of date cannot be in the future."
        return None
    return value
