"""The closed sets the JSON API names, as `Literal` types: the OpenAPI document lists each as an
`enum`, and a value stays the plain string it is in the database, the pages and the emails.

Each set is checked against the code that decides it (tests/unit/test_vocabulary.py), so the
document cannot name a value the server never sends nor miss one it does."""

from __future__ import annotations

from typing import Literal, get_args

BookingStateName = Literal[
    "pending_approval",
    "pending_payment",
    "booked",
    "offered",
    "waitlisted",
    "cancelled",
    "declined",
    "attended",
    "partially_attended",
    "no_show",
]
SessionStatus = Literal["draft", "open", "full", "closed", "in_progress", "over", "cancelled"]
# What a session may be created or changed to by hand; the rest follow from dates and seats.
SessionStatusIn = Literal["draft", "open"]
WaitlistMode = Literal["auto", "offer", "off"]
ApprovalStep = Literal["self", "manager", "budget_holder", "admin"]
ApprovalKind = Literal["manager", "budget_holder", "admin"]
Decision = Literal["approve", "decline"]
ApprovalStatus = Literal["waiting", "approved", "declined", "lapsed"]
StaffType = Literal["payroll", "casual", "associate", "external"]
TokenScope = Literal["person", "records"]
Role = Literal["learner", "trainer", "budget_holder", "admin"]
AttendanceMark = Literal["attended", "partially_attended", "no_show"]
UpsertStatus = Literal["created", "updated", "unchanged"]
CompletionStatus = Literal["accepted", "duplicate", "error"]
RecordItemType = Literal["completion", "attendance"]
QuestionKind = Literal["text", "choice", "yes_no"]


def values(literal: object) -> tuple[str, ...]:
    """The strings a `Literal` type admits, in order."""
    return tuple(str(v) for v in get_args(literal))
