"""Exemptions and extensions of required learning, as pure rules.

A line manager (of the person, directly or up the chain) or an administrator asks; the course's
owner or an administrator decides. While an approved **exemption** lasts (no end date, or its
`until` date is today or later) the course is not required of the person: it leaves their
required learning and is counted as `exempt` in compliance instead. An approved **extension**
moves the requirement's due time to its `due_at` (reminders go on; only the date moves); the
latest approved extension wins.

Standard library only; the services read the facts and pass `now` in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from booking.domain.records import RequiredItem

KINDS = ("exemption", "extension")
STATES = ("pending", "approved", "declined")
DECISIONS = {"approve": "approved", "decline": "declined"}
MAX_REASON = 2000
MAX_COMMENT = 1000


class ExemptionError(ValueError):
    """A request that cannot be made; `field` names the input to change."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Granted:
    """An approved request for one person and one course."""

    course_id: int
    kind: str  # exemption | extension
    until: date | None = None
    due_at: datetime | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Applies:
    """What applies to one course for one person at a moment: an exemption (with its end, None
    for open-ended) or an extension's due time, or neither."""

    exempt: bool = False
    until: date | None = None
    due_at: datetime | None = None


NOTHING = Applies()


def check_request(
    kind: str,
    reason: str,
    until: date | None,
    due_at: datetime | None,
    now: datetime,
) -> None:
    """Refuse what cannot be asked, naming the field: an extension needs a due time in the
    future; an exemption's end date may not be in the past; a reason is needed."""
    if kind not in KINDS:
        raise ExemptionError("kind must be exemption or extension.", "kind")
    if not reason.strip():
        raise ExemptionError("Give a reason.", "reason")
    if len(reason) > MAX_REASON:
        raise ExemptionError("The reason is limited to 2,000 characters.", "reason")
    if kind == "extension":
        if due_at is None:
            raise ExemptionError("An extension needs the new due date.", "due_at")
        if due_at <= now:
            raise ExemptionError("The new due date must be in the future.", "due_at")
    elif due_at is not None:
        raise ExemptionError("Only an extension has a new due date.", "due_at")
    if until is not None and kind == "exemption" and until < now.date():
        raise ExemptionError("The exemption cannot end in the past.", "until")
    if until is not None and kind == "extension":
        raise ExemptionError("An extension has a new due date, not an end date.", "until")


def applies(granted: Iterable[Granted], course_id: int, now: datetime) -> Applies:
    """What the approved requests for one course do at `now`: a lasting exemption wins over an
    extension; of several, the one decided last counts."""
    today = now.date()
    exemption: Granted | None = None
    extension: Granted | None = None
    for g in sorted(granted, key=_decided):
        if g.course_id != course_id:
            continue
        if g.kind == "exemption" and (g.until is None or g.until >= today):
            exemption = g
        elif g.kind == "extension" and g.due_at is not None:
            extension = g
    if exemption is not None:
        return Applies(exempt=True, until=exemption.until)
    if extension is not None:
        return Applies(due_at=extension.due_at)
    return NOTHING


def _decided(g: Granted) -> tuple[bool, datetime]:
    return (g.decided_at is not None, g.decided_at or datetime.min)


def apply(
    items: Sequence[RequiredItem], granted: Sequence[Granted], now: datetime
) -> tuple[list[RequiredItem], int]:
    """Required items with the approved requests applied: exempt ones removed (and counted),
    extended ones due at the extension's time (`overdue` recomputed)."""
    out: list[RequiredItem] = []
    exempt = 0
    for item in items:
        a = applies(granted, item.course_id, now)
        if a.exempt:
            exempt += 1
            continue
        out.append(extended(item, a, now))
    return out, exempt


def extended(item: RequiredItem, a: Applies, now: datetime) -> RequiredItem:
    """The item due at the extension's time, when one applies."""
    if a.due_at is None:
        return item
    overdue = now >= a.due_at
    status = item.status
    if status == "overdue" and not overdue:
        status = "due"
    return replace(item, due_at=a.due_at, status=status, overdue=overdue)


def by_course(granted: Iterable[Granted]) -> Mapping[int, list[Granted]]:
    out: dict[int, list[Granted]] = {}
    for g in granted:
        out.setdefault(g.course_id, []).append(g)
    return out
