"""The pure progress rule of learning programs: all / any / optional sets, rounding down, the
empty program, the due date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from booking.domain.programs import SetRule, due_at, progress, still_required


def done(*codes: str) -> Callable[[str], bool]:
    return set(codes).__contains__


ALL3 = SetRule("Core", "all", ("A", "B", "C"))
ANY2 = SetRule("One of", "any", ("X", "Y"))
OPT = SetRule("Extra", "optional", ("Z",))


def test_each_course_of_an_all_set_is_a_unit_and_an_any_set_is_one() -> None:
    p = progress([ALL3, ANY2, OPT], done())
    assert (p.units, p.done, p.progress_percent, p.status) == (4, 0, 0, "not_started")
    p = progress([ALL3, ANY2, OPT], done("A"))
    assert (p.done, p.progress_percent, p.status) == (1, 25, "in_progress")
    p = progress([ALL3, ANY2, OPT], done("Y", "Z"))
    assert (p.done, p.progress_percent) == (1, 25)
    assert [s.complete for s in p.sets] == [False, True, True]
    p = progress([ALL3, ANY2], done("A", "B", "C", "X", "Y"))
    assert (p.done, p.progress_percent, p.status) == (4, 100, "complete")


def test_percent_is_rounded_down() -> None:
    p = progress([ALL3], done("A"))
    assert p.progress_percent == 33
    p = progress([ALL3], done("A", "B"))
    assert p.progress_percent == 66


def test_optional_sets_count_for_nothing_and_an_empty_program_is_complete() -> None:
    assert progress([], done()).status == "complete"
    assert progress([], done()).progress_percent == 100
    p = progress([OPT], done())
    assert (p.units, p.progress_percent, p.status) == (0, 100, "complete")


def test_course_status_and_what_is_still_required() -> None:
    p = progress([ALL3, ANY2, OPT], done("A"), started=done("B"))
    assert p.sets[0].courses == (("A", "complete"), ("B", "in_progress"), ("C", "not_started"))
    # Booked is not a unit done: the program has not started until one is.
    assert progress([ALL3], done(), started=done("B")).status == "not_started"
    assert still_required(p.sets) == ["B", "C", "X", "Y"]
    p = progress([ALL3, ANY2, OPT], done("A", "B", "C", "X"))
    assert still_required(p.sets) == []


def test_due_runs_from_the_later_of_start_and_applied() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    applied = datetime(2026, 3, 1, tzinfo=UTC)
    assert due_at(start, applied, 30) == applied + timedelta(days=30)
    assert due_at(applied, start, 30) == applied + timedelta(days=30)
    assert due_at(start, applied, None) is None
