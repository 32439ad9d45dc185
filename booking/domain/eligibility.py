"""Audience rules: organisation units (with their sub-units), job roles, staff types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from booking.domain.reasons import UNPROCESSABLE, Reason


@dataclass(frozen=True, slots=True)
class Audience:
    org_units: frozenset[str] = frozenset()
    job_roles: frozenset[str] = frozenset()
    staff_types: frozenset[str] = frozenset()

    @property
    def is_everyone(self) -> bool:
        return not (self.org_units or self.job_roles or self.staff_types)

    @classmethod
    def from_json(cls, data: dict | None) -> Audience | None:
        if not data:
            return None
        audience = cls(
            org_units=frozenset(data.get("org_units") or ()),
            job_roles=frozenset(r.casefold() for r in data.get("job_roles") or ()),
            staff_types=frozenset(data.get("staff_types") or ()),
        )
        return None if audience.is_everyone else audience


@dataclass(frozen=True, slots=True)
class LearnerProfile:
    id: int
    job_role: str | None = None
    staff_type: str = "payroll"
    # The learner's unit code followed by every ancestor's code.
    org_unit_path: Sequence[str] = field(default_factory=tuple)


def audience_reasons(audience: Audience, learner: LearnerProfile) -> list[Reason]:
    reasons: list[Reason] = []
    if audience.org_units and not audience.org_units.intersection(learner.org_unit_path):
        reasons.append(
            Reason(
                "audience_org_unit",
                "This course is for staff in "
                + _listing(sorted(audience.org_units))
                + ". Ask the training team if you think it should include you.",
                UNPROCESSABLE,
            )
        )
    if audience.job_roles and (learner.job_role or "").casefold() not in audience.job_roles:
        reasons.append(
            Reason(
                "audience_job_role",
                "This course is for these job roles: "
                + _listing(sorted(audience.job_roles))
                + ". Ask your manager or the training team about an exception.",
                UNPROCESSABLE,
            )
        )
    if audience.staff_types and learner.staff_type not in audience.staff_types:
        reasons.append(
            Reason(
                "audience_staff_type",
                "This course is open to " + _listing(sorted(audience.staff_types)) + " staff only.",
                UNPROCESSABLE,
            )
        )
    return reasons


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
