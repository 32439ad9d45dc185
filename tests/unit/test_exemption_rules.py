"""Exemptions and extensions as pure rules: what may be asked, what applies at a moment (an
exemption's end date is inclusive; past it the course is required again), and what an approved
one does to required items."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from booking.domain import exemptions as ex
from booking.domain.records import RequiredItem

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def item(course_id: int, due: datetime | None, status: str = "not_started") -> RequiredItem:
    overdue = due is not None and due <= NOW
    return RequiredItem(
        course_id, f"C{course_id}", f"Course {course_id}", "mandatory", due, status, overdue
    )


@pytest.mark.parametrize(
    ("kind", "reason", "until", "due_at", "field"),
    [
        ("holiday", "x", None, None, "kind"),
        ("exemption", "  ", None, None, "reason"),
        ("exemption", "x" * 2001, None, None, "reason"),
        ("extension", "x", None, None, "due_at"),
        ("extension", "x", None, NOW, "due_at"),
        ("extension", "x", date(2027, 6, 1), NOW + timedelta(days=1), "until"),
        ("exemption", "x", date(2027, 2, 28), None, "until"),
        ("exemption", "x", None, NOW + timedelta(days=1), "due_at"),
    ],
)
def test_refusals_name_their_field(
    kind: str, reason: str, until: date | None, due_at: datetime | None, field: str
) -> None:
    with pytest.raises(ex.ExemptionError) as err:
        ex.check_request(kind, reason, until, due_at, NOW)
    assert err.value.field == field


def test_good_requests_pass() -> None:
    ex.check_request("exemption", "Nurse", None, None, NOW)
    ex.check_request("exemption", "Nurse", NOW.date(), None, NOW)  # ends today: fine
    ex.check_request("extension", "Sick", None, NOW + timedelta(minutes=1), NOW)


def test_an_exemption_lasts_through_its_end_date_then_expires() -> None:
    granted = [ex.Granted(1, "exemption", until=date(2027, 3, 10), decided_at=NOW)]
    assert ex.applies(granted, 1, NOW) == ex.Applies(exempt=True, until=date(2027, 3, 10))
    last_day = datetime(2027, 3, 10, 23, 0, tzinfo=UTC)
    assert ex.applies(granted, 1, last_day).exempt
    assert ex.applies(granted, 1, last_day + timedelta(hours=2)) == ex.NOTHING
    assert ex.applies(granted, 2, NOW) == ex.NOTHING  # another course


def test_open_ended_exemption_wins_over_an_extension() -> None:
    due = NOW + timedelta(days=30)
    granted = [
        ex.Granted(1, "extension", due_at=due, decided_at=NOW),
        ex.Granted(1, "exemption", decided_at=NOW - timedelta(days=1)),
    ]
    assert ex.applies(granted, 1, NOW + timedelta(days=400)).exempt


def test_the_latest_extension_counts() -> None:
    first, second = NOW + timedelta(days=10), NOW + timedelta(days=5)
    granted = [
        ex.Granted(1, "extension", due_at=first, decided_at=NOW - timedelta(days=2)),
        ex.Granted(1, "extension", due_at=second, decided_at=NOW - timedelta(days=1)),
    ]
    assert ex.applies(granted, 1, NOW).due_at == second


def test_apply_removes_exempt_items_and_moves_extended_ones() -> None:
    late = NOW - timedelta(days=3)
    later = NOW + timedelta(days=20)
    items = [item(1, late), item(2, late, "overdue"), item(3, None)]
    granted = [
        ex.Granted(1, "exemption", decided_at=NOW),
        ex.Granted(2, "extension", due_at=later, decided_at=NOW),
    ]
    kept, exempt = ex.apply(items, granted, NOW)
    assert exempt == 1
    assert [(i.course_id, i.due_at, i.overdue, i.status) for i in kept] == [
        (2, later, False, "due"),
        (3, None, False, "not_started"),
    ]
    # Once the extension's time passes, the item is overdue again.
    (moved,) = [i for i in ex.apply(items, granted, later)[0] if i.course_id == 2]
    assert moved.overdue
