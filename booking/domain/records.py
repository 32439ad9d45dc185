"""Learner records, as pure rules: when a course with criteria is complete, what state a
certification is in at a given moment, what a learner must still do, and how compliant they are.

Standard library only; the services read the facts and pass `now` in.

**Completion criteria.** A course may be completed through other courses: `all` of them or
`any` of them (for example a workshop and an e-learning module, each a course of its own). Every
completion of a criterion course counts from the moment it happened. With `any`, each criterion
completion completes the course. With `all`, the course is complete once every criterion has been
completed since the course was last completed through its criteria: a renewal needs every
criterion again, and earlier completions are kept as previous completions.

**Certification statuses** of a learner's latest completion of a certifying course, with E its
expiry, W its window (days) and half-open intervals, so each edge belongs to the later status:

| status      | from                              | until                             |
| ----------- | --------------------------------- | --------------------------------- |
| certified   | completion                        | the window opens (E − W days)     |
| window_open | the window opens                  | due                               |
| due         | the later of E − 30 days and the window opening | E                   |
| overdue     | E                                 | E + 90 days                       |
| expired     | E + 90 days                       | a new completion                  |

From the window opening until it is `expired`, the renewal is required learning, due at E.
`overdue` and `expired` certifications no longer satisfy prerequisites (they have expired); an
`expired` one is simply history unless the course is mandatory for the learner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DUE_SOON = timedelta(days=30)
OVERDUE_FOR = timedelta(days=90)
MODES = ("all", "any")
MAX_CRITERIA = 20


class CertificationStatus(StrEnum):
    CERTIFIED = "certified"
    WINDOW_OPEN = "window_open"
    DUE = "due"
    OVERDUE = "overdue"
    EXPIRED = "expired"


# Statuses in which the certification is still valid.
CURRENT = (CertificationStatus.CERTIFIED, CertificationStatus.WINDOW_OPEN, CertificationStatus.DUE)
# Statuses in which renewing is required learning.
RENEWING = (
    CertificationStatus.WINDOW_OPEN,
    CertificationStatus.DUE,
    CertificationStatus.OVERDUE,
)

STATUS_LABELS = {
    CertificationStatus.CERTIFIED: "Certified",
    CertificationStatus.WINDOW_OPEN: "Renewal open",
    CertificationStatus.DUE: "Renewal due",
    CertificationStatus.OVERDUE: "Overdue",
    CertificationStatus.EXPIRED: "Expired",
}


# ---------------------------------------------------------------------------------------------
# Completion criteria


@dataclass(frozen=True, slots=True)
class CompletionRule:
    mode: str  # all | any
    criteria: tuple[str, ...]  # course codes


class RuleError(ValueError):
    """A completion rule that cannot work; the message says what to change."""


def parse_rule(own_code: str, mode: str | None, criteria: Sequence[str]) -> CompletionRule | None:
    """A validated rule, or None for "attending or completing the course itself"."""
    codes = tuple(dict.fromkeys(c.strip() for c in criteria if c and c.strip()))
    if mode in (None, "") and not codes:
        return None
    if mode not in MODES:
        raise RuleError("The completion rule's mode must be all or any.")
    if not codes:
        raise RuleError("Name at least one course whose completion counts.")
    if len(codes) > MAX_CRITERIA:
        raise RuleError(f"A completion rule can name at most {MAX_CRITERIA} courses.")
    if own_code in codes:
        raise RuleError("A course cannot be one of its own completion criteria.")
    return CompletionRule(mode, codes)


def derived_completions(
    rule: CompletionRule, done: Mapping[str, Iterable[datetime]]
) -> list[datetime]:
    """Every moment the course was completed through its criteria, oldest first, from the
    completion moments of each criterion course (see the module's docstring)."""
    moments = {code: sorted(done.get(code, ())) for code in rule.criteria}
    if rule.mode == "any":
        return sorted({t for times in moments.values() for t in times})
    result: list[datetime] = []
    since: datetime | None = None
    while True:
        firsts = []
        for times in moments.values():
            first = next((t for t in times if since is None or t > since), None)
            if first is None:
                return result
            firsts.append(first)
        since = max(firsts)
        result.append(since)


@dataclass(frozen=True, slots=True)
class CriterionProgress:
    course_code: str
    done_at: datetime | None


def progress(
    rule: CompletionRule, done: Mapping[str, Iterable[datetime]], last_completed: datetime | None
) -> list[CriterionProgress]:
    """Each criterion, with its completion towards the next completion of the course (the
    latest one since the course was last completed, or None)."""
    out = []
    for code in rule.criteria:
        times = [t for t in done.get(code, ()) if last_completed is None or t > last_completed]
        out.append(CriterionProgress(code, max(times) if times else None))
    return out


# ---------------------------------------------------------------------------------------------
# Certifications


@dataclass(frozen=True, slots=True)
class CertificationState:
    status: CertificationStatus
    completed_at: datetime
    expires_at: datetime
    window_opens_at: datetime
    due_from: datetime
    overdue_until: datetime

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT

    @property
    def needs_renewal(self) -> bool:
        return self.status in RENEWING


def certification_state(
    completed_at: datetime, expires_at: datetime, window_days: int, now: datetime
) -> CertificationState:
    """The status of one certification (the learner's latest completion) at `now`."""
    opens = expires_at - timedelta(days=max(0, window_days))
    due_from = max(opens, expires_at - DUE_SOON)
    overdue_until = expires_at + OVERDUE_FOR
    if now < opens:
        status = CertificationStatus.CERTIFIED
    elif now < due_from:
        status = CertificationStatus.WINDOW_OPEN
    elif now < expires_at:
        status = CertificationStatus.DUE
    elif now < overdue_until:
        status = CertificationStatus.OVERDUE
    else:
        status = CertificationStatus.EXPIRED
    return CertificationState(status, completed_at, expires_at, opens, due_from, overdue_until)


# ---------------------------------------------------------------------------------------------
# Required learning and compliance


class Unset:
    """No value given (distinct from None)."""


UNSET = Unset()


@dataclass(frozen=True, slots=True)
class CourseFacts:
    """What the rules need to know about one course for one learner."""

    course_id: int
    code: str
    title: str
    mandatory: bool = False
    # Days a learner has, from joining, to complete a mandatory course the first time.
    due_within_days: int | None = None
    certification_window_days: int | None = None
    certifies: bool = False


@dataclass(frozen=True, slots=True)
class HeldCompletion:
    completed_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RequiredItem:
    course_id: int
    code: str
    title: str
    kind: str  # renewal | mandatory
    due_at: datetime | None
    status: str  # window_open | due | overdue | not_started | expired | in_progress
    overdue: bool


def latest(completions: Sequence[HeldCompletion]) -> HeldCompletion | None:
    return max(completions, key=lambda c: c.completed_at) if completions else None


def course_state(
    course: CourseFacts, completions: Sequence[HeldCompletion], now: datetime
) -> CertificationState | None:
    last = latest(completions)
    if last is None or last.expires_at is None or not course.certifies:
        return None
    return certification_state(
        last.completed_at, last.expires_at, course.certification_window_days or 0, now
    )


def required_item(
    course: CourseFacts,
    completions: Sequence[HeldCompletion],
    now: datetime,
    *,
    joined_at: datetime | None,
    in_progress: bool = False,
    due: datetime | None | Unset = UNSET,
) -> RequiredItem | None:
    """What the learner must still do on this course, if anything.

    A certification's renewal is required from its window opening until it is `expired`
    (whether or not the course is mandatory). A mandatory course (for the learner's audience)
    is required while the learner has no current completion of it, due `due` (its requirement's
    due date) or, without one, `due_within_days` after `joined_at`."""
    state = course_state(course, completions, now)
    if state is not None and state.needs_renewal:
        return RequiredItem(
            course.course_id,
            course.code,
            course.title,
            "renewal",
            state.expires_at,
            state.status.value,
            now >= state.expires_at,
        )
    if not course.mandatory:
        return None
    last = latest(completions)
    if last is not None and (last.expires_at is None or last.expires_at > now):
        return None
    if state is not None:  # expired long ago: due since it expired
        return RequiredItem(
            course.course_id,
            course.code,
            course.title,
            "mandatory",
            state.expires_at,
            "expired",
            True,
        )
    if isinstance(due, Unset):
        due = (
            joined_at + timedelta(days=course.due_within_days)
            if joined_at is not None and course.due_within_days is not None
            else None
        )
    return RequiredItem(
        course.course_id,
        course.code,
        course.title,
        "mandatory",
        due,
        "in_progress" if in_progress else "not_started",
        due is not None and now >= due,
    )


@dataclass(frozen=True, slots=True)
class Compliance:
    required: int
    compliant: int

    @property
    def percent(self) -> int | None:
        """Rounded half up; None when nothing is required."""
        if self.required == 0:
            return None
        return (200 * self.compliant + self.required) // (2 * self.required)

    @property
    def fully(self) -> bool:
        return self.compliant == self.required

    def __add__(self, other: Compliance) -> Compliance:
        return Compliance(self.required + other.required, self.compliant + other.compliant)


def compliance(
    courses: Sequence[tuple[CourseFacts, Sequence[HeldCompletion]]], now: datetime
) -> Compliance:
    """Required: each mandatory course, and each certification that is current or renewing
    (certified, window open, due, overdue). Compliant: a current completion of it."""
    required = compliant = 0
    for course, completions in courses:
        if not _is_required(course, completions, now):
            continue
        required += 1
        if _is_current(completions, now):
            compliant += 1
    return Compliance(required, compliant)


def _is_required(course: CourseFacts, completions: Sequence[HeldCompletion], now: datetime) -> bool:
    state = course_state(course, completions, now)
    return course.mandatory or (state is not None and state.status != CertificationStatus.EXPIRED)


def _is_current(completions: Sequence[HeldCompletion], now: datetime) -> bool:
    last = latest(completions)
    return last is not None and (last.expires_at is None or last.expires_at > now)


@dataclass(frozen=True, slots=True)
class ComplianceCounts:
    """The items `compliance` counts as required, each in one place: complete (a current
    completion), due (still to do, not late yet), overdue (past its due date, or a renewal past
    the expiry) and expired (a mandatory course whose certification lapsed past renewing)."""

    complete: int = 0
    due: int = 0
    overdue: int = 0
    expired: int = 0

    def __add__(self, other: ComplianceCounts) -> ComplianceCounts:
        return ComplianceCounts(
            self.complete + other.complete,
            self.due + other.due,
            self.overdue + other.overdue,
            self.expired + other.expired,
        )


def compliance_counts(
    courses: Sequence[tuple[CourseFacts, Sequence[HeldCompletion]]],
    now: datetime,
    *,
    joined_at: datetime | None,
    due_dates: Mapping[int, datetime | None] | None = None,
) -> ComplianceCounts:
    """Where each required item stands (`required_item` says what is still to do and whether
    it is late; `due_dates`, by course id, the requirements' due dates where known); the four
    counts add up to `compliance(...).required`."""
    complete = due = overdue = expired = 0
    for course, completions in courses:
        if not _is_required(course, completions, now):
            continue
        if _is_current(completions, now):
            complete += 1
            continue
        known = due_dates or {}
        item = required_item(
            course,
            completions,
            now,
            joined_at=joined_at,
            due=known.get(course.course_id, UNSET),
        )
        if item is not None and item.status == "expired":
            expired += 1
        elif item is not None and item.overdue:
            overdue += 1
        else:
            due += 1
    return ComplianceCounts(complete, due, overdue, expired)
