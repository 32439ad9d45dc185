"""Approved exemptions and extensions applied to what the record and the compliance report
count (the hooks marked `# exemptions:` in `record.py` and `compliance.py` call these)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from booking.domain import exemptions as ex
from booking.domain import records as rules
from booking.records.facts import Catalogue, Learner, held
from booking.records.views import RecordView, RequiredView

_FAR = datetime.max.replace(tzinfo=UTC)


def apply_to_record(
    view: RecordView,
    cat: Catalogue,
    learner: Learner,
    granted: Sequence[ex.Granted],
    now: datetime,
) -> RecordView:
    """The record with the approved requests that apply at `now`: an exempt course leaves
    `required` and the compliance counts (counted in `exempt` instead) and its course item says
    until when; an extended item is due at the extension's time."""
    if not granted:
        return view
    exempt_ids: set[int] = set()
    for course_record in view.courses:
        a = ex.applies(granted, course_record.course_id, now)
        if not a.exempt:
            continue
        course_record.exemption = {"until": a.until}
        course = cat.courses.get(course_record.course_id)
        if course is None:
            continue
        counted = rules.compliance(
            [(cat.facts_for(course, learner), held(learner.completions.get(course.id, [])))], now
        )
        if counted.required:
            exempt_ids.add(course.id)
            total = rules.Compliance(
                view.compliance.required - counted.required,
                view.compliance.compliant - counted.compliant,
            )
            view.compliance.required = total.required
            view.compliance.compliant = total.compliant
            view.compliance.percent = total.percent
    view.compliance.exempt = len(exempt_ids)
    view.required = [
        _extended(item, granted, now)
        for item in view.required
        if not ex.applies(granted, item.course_id, now).exempt
    ]
    view.required.sort(key=lambda r: (r.due_at or _FAR, r.course_title))
    return view


def _extended(item: RequiredView, granted: Sequence[ex.Granted], now: datetime) -> RequiredView:
    a = ex.applies(granted, item.course_id, now)
    if a.due_at is None:
        return item
    item.due_at = a.due_at
    item.overdue = now >= a.due_at
    if item.status == "overdue" and not item.overdue:
        item.status = "due"
    item.extension = {"due_at": a.due_at}
    return item


def without_exempt(
    courses: Sequence[tuple[rules.CourseFacts, Sequence[rules.HeldCompletion]]],
    granted: Sequence[ex.Granted],
    now: datetime,
) -> tuple[list[tuple[rules.CourseFacts, Sequence[rules.HeldCompletion]]], int]:
    """The compliance report's courses for one person without those exempt at `now`, and how
    many required ones were left out."""
    if not granted:
        return list(courses), 0
    kept = []
    exempt = 0
    for facts, completions in courses:
        if ex.applies(granted, facts.course_id, now).exempt:
            exempt += rules.compliance([(facts, completions)], now).required
            continue
        kept.append((facts, completions))
    return kept, exempt


def counts_with_extensions(
    courses: Sequence[tuple[rules.CourseFacts, Sequence[rules.HeldCompletion]]],
    granted: Sequence[ex.Granted],
    now: datetime,
    *,
    joined_at: datetime | None,
    due_dates: Mapping[int, datetime | None] | None = None,
) -> rules.ComplianceCounts:
    """`rules.compliance_counts` (with the requirements' due dates, by course id, where known),
    with an approved extension deciding whether a course still to do is due or overdue (a
    lapsed certification stays `expired`)."""
    total = rules.ComplianceCounts()
    for facts, completions in courses:
        counted = rules.compliance_counts(
            [(facts, completions)], now, joined_at=joined_at, due_dates=due_dates
        )
        due_at = ex.applies(granted, facts.course_id, now).due_at if granted else None
        if due_at is not None and (counted.due or counted.overdue):
            late = now >= due_at
            counted = rules.ComplianceCounts(due=0 if late else 1, overdue=1 if late else 0)
        total = total + counted
    return total
