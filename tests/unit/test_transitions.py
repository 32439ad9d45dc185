"""`record_transition` makes only the moves the state machine lists: anything else is a bug."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from booking.domain.states import can_move
from booking.kernel.actors import Actor
from booking.kernel.history import TransitionError, record_transition

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def move(from_state: str, to_state: str) -> None:
    booking: Any = SimpleNamespace(id=1, state=from_state)
    # The refusal comes before any statement, so no database is needed.
    asyncio.run(
        record_transition(
            None,  # type: ignore[arg-type]
            booking=booking,
            to_state=to_state,
            actor=Actor.system(),
            now=NOW,
            reason=None,
            notify=None,
        )
    )


def test_a_move_the_table_does_not_list_is_refused_as_a_bug() -> None:
    with pytest.raises(TransitionError, match="from cancelled to booked"):
        move("cancelled", "booked")
    with pytest.raises(TransitionError):
        move("waitlisted", "attended")


def test_a_next_approval_and_a_move_to_another_session_are_listed_moves() -> None:
    assert can_move("pending_approval", "pending_approval")
    assert can_move("booked", "booked")
    assert not can_move("waitlisted", "waitlisted")
