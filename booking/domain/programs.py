"""Learning programs: how far a person is through one (pure; standard library only).

A program is sets of courses, each with a rule: every course of an `all` set is a unit, an `any`
set is one unit (done when any of its courses is), an `optional` set has no units. Progress is
completed units / units × 100, rounded down; a program with no units is complete."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

RULES = ("all", "any", "optional")
COMPLETE, IN_PROGRESS, NOT_STARTED = "complete", "in_progress", "not_started"


@dataclass(frozen=True, slots=True)
class SetRule:
    title: str
    rule: str  # all | any | optional
    course_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetProgress:
    title: str
    rule: str
    complete: bool
    # (course code, status): complete | in_progress | not_started
    courses: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ProgramProgress:
    status: str
    progress_percent: int
    units: int
    done: int
    sets: tuple[SetProgress, ...]


def course_status(
    code: str, complete: Callable[[str], bool], started: Callable[[str], bool]
) -> str:
    """A course in a program: complete (a current completion), in progress (booked or partway
    through its criteria), or not started."""
    if complete(code):
        return COMPLETE
    return IN_PROGRESS if started(code) else NOT_STARTED


def progress(
    sets: Sequence[SetRule],
    complete: Callable[[str], bool],
    started: Callable[[str], bool] = lambda _: False,
) -> ProgramProgress:
    """Where a person stands in a program, given which courses they hold a current completion
    of (`complete`) and which they have started (`started`: booked, or partway). The program is
    `not_started` while no unit is done, whatever is booked (the contract's rule); a started
    course shows as `in_progress` on its own line."""
    units = done = 0
    out: list[SetProgress] = []
    for s in sets:
        courses = tuple((c, course_status(c, complete, started)) for c in s.course_codes)
        finished = [c for c, st in courses if st == COMPLETE]
        if s.rule == "all":
            units += len(courses)
            done += len(finished)
            set_done = len(finished) == len(courses)
        elif s.rule == "any":
            units += 1
            done += 1 if finished else 0
            set_done = bool(finished) or not courses
        else:
            set_done = True
        out.append(SetProgress(s.title, s.rule, set_done, courses))
    percent = 100 if units == 0 else done * 100 // units
    if done == units:
        status = COMPLETE
    elif done > 0:
        status = IN_PROGRESS
    else:
        status = NOT_STARTED
    return ProgramProgress(status, percent, units, done, tuple(out))


def still_required(sets: Sequence[SetProgress]) -> list[str]:
    """The courses a program still asks for: each not-complete course of an incomplete `all` or
    `any` set (for an `any` set, every one of its courses is a way to finish it)."""
    codes: list[str] = []
    for s in sets:
        if s.rule == "optional" or s.complete:
            continue
        codes.extend(c for c, st in s.courses if st != COMPLETE and c not in codes)
    return codes


def due_at(start: datetime, applied_at: datetime, due_within_days: int | None) -> datetime | None:
    """Due `due_within_days` after the later of the person's start and the day the program
    applied to them; no period, no due date."""
    if due_within_days is None:
        return None
    return max(start, applied_at) + timedelta(days=due_within_days)
