"""Who may book: audience (organisation units with their sub-units, job roles, staff types),
prerequisites, certification windows and sign-up answers. Each failed rule is a reason with a
plain sentence that says what to do."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
    completions: Sequence[Completion] = field(default_factory=tuple)


def audience_reasons(
    audience: Audience, learner: LearnerProfile, unit_names: Mapping[str, str] | None = None
) -> list[Reason]:
    reasons: list[Reason] = []
    if audience.org_units and not audience.org_units.intersection(learner.org_unit_path):
        names = [(unit_names or {}).get(code, code) for code in sorted(audience.org_units)]
        reasons.append(
            Reason(
                "audience_org_unit",
                f"This course is for {_listing(names)} staff. Ask your line manager if you "
                "need it.",
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


def audience_phrase(audience: Audience | None) -> str:
    """Who an audience is, for a sentence ("staff in NURS or ICU, casual staff"); units by code,
    with their sub-units."""
    if audience is None:
        return "everyone"
    parts = []
    if audience.org_units:
        parts.append("staff in " + _either(sorted(audience.org_units)))
    if audience.job_roles:
        parts.append(_either(sorted(audience.job_roles)) + " roles")
    if audience.staff_types:
        parts.append(_either(sorted(audience.staff_types)) + " staff")
    return "; ".join(parts)


def _either(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------------------------
# Prerequisites, certification windows, sign-up questions


@dataclass(frozen=True, slots=True)
class Completion:
    """A learner's completion of a course, from any source (workshop, e-learning, import)."""

    course_code: str
    completed_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Prerequisite:
    course_code: str
    title: str
    within_months: int | None = None


@dataclass(frozen=True, slots=True)
class Certification:
    """Completing the course certifies for `months`; renewal may be booked from `window_days`
    before expiry."""

    months: int
    window_days: int


def add_months(at: datetime, months: int) -> datetime:
    """The same day `months` calendar months later (or earlier, if negative), clamped to the
    month's last day: 31 January + 1 month = 28/29 February."""
    month_index = at.month - 1 + months
    year, month = at.year + month_index // 12, month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def prerequisite_reasons(
    prerequisites: Sequence[Prerequisite], completions: Sequence[Completion], now: datetime
) -> list[Reason]:
    reasons: list[Reason] = []
    for p in prerequisites:
        done = [
            c
            for c in completions
            if c.course_code == p.course_code and (c.expires_at is None or c.expires_at > now)
        ]
        if p.within_months is not None:
            since = add_months(now, -p.within_months)
            done = [c for c in done if c.completed_at >= since]
        if not done:
            within = (
                f" within the last {p.within_months} months" if p.within_months is not None else ""
            )
            reasons.append(
                Reason(
                    "prerequisite_missing",
                    f"Complete “{p.title}”{within} first; you can book once it shows as "
                    "complete in your record of learning.",
                    UNPROCESSABLE,
                    extra={"course_code": p.course_code},
                )
            )
    return reasons


def certification_reasons(
    course_code: str,
    certification: Certification | None,
    completions: Sequence[Completion],
    now: datetime,
) -> list[Reason]:
    """A current certification may be renewed only once its window has opened."""
    if certification is None:
        return []
    current = [
        c
        for c in completions
        if c.course_code == course_code and c.expires_at is not None and c.expires_at > now
    ]
    if not current:
        return []
    expires = max(c.expires_at for c in current if c.expires_at is not None)
    opens = expires - timedelta(days=certification.window_days)
    if now >= opens:
        return []
    return [
        Reason(
            "certification_current",
            f"Your certification is current until {expires:%-d %B %Y}. You can book a renewal "
            f"from {opens:%-d %B %Y}.",
            UNPROCESSABLE,
            extra={"expires_at": expires.isoformat(), "window_opens_at": opens.isoformat()},
        )
    ]


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    label: str
    kind: str  # text | choice | yes_no
    required: bool = False
    choices: tuple[str, ...] = ()


QUESTION_KINDS = ("text", "choice", "yes_no")
MAX_ANSWER_LENGTH = 2000


def answer_reasons(
    questions: Sequence[Question], answers: dict[str, object] | None
) -> list[Reason]:
    """Required questions answered, choices among those offered, yes/no as true or false."""
    answers = answers or {}
    reasons: list[Reason] = []
    known = {q.id for q in questions}
    for key in answers:
        if key not in known:
            reasons.append(
                Reason("answer_unknown", f"There is no sign-up question “{key}”.", UNPROCESSABLE)
            )
    for q in questions:
        value = answers.get(q.id)
        if value is None or (isinstance(value, str) and not value.strip()):
            if q.required:
                reasons.append(
                    Reason(
                        "answer_required",
                        f"Please answer “{q.label}”.",
                        UNPROCESSABLE,
                        extra={"question": q.id},
                    )
                )
            continue
        if q.kind == "yes_no" and not isinstance(value, bool):
            reasons.append(
                Reason(
                    "answer_invalid",
                    f"Answer “{q.label}” with yes or no.",
                    UNPROCESSABLE,
                    extra={"question": q.id},
                )
            )
        elif q.kind == "choice" and value not in q.choices:
            reasons.append(
                Reason(
                    "answer_invalid",
                    f"Choose one of the options for “{q.label}”.",
                    UNPROCESSABLE,
                    extra={"question": q.id},
                )
            )
        elif q.kind == "text" and (not isinstance(value, str) or len(value) > MAX_ANSWER_LENGTH):
            reasons.append(
                Reason(
                    "answer_invalid",
                    f"The answer to “{q.label}” must be text of at most 2,000 characters.",
                    UNPROCESSABLE,
                    extra={"question": q.id},
                )
            )
    return reasons
