"""A request's place among the writes running at once (`web.admission`), and the way to give it
up early: a request that has handed its work to someone else and only waits for the outcome
(a booking waiting in line for its group, `bookings.group`) uses no connection and no CPU while
it waits, so the next request in the queue may start."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar


class Slot:
    """One admitted request's slot: given back once, early or when the request ends."""

    __slots__ = ("_semaphore", "_held")

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore = semaphore
        self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._semaphore.release()


SLOT: ContextVar[Slot | None] = ContextVar("admission_slot", default=None)


def step_aside() -> None:
    """The current request needs its admission slot no more (a no-op outside one)."""
    slot = SLOT.get()
    if slot is not None:
        slot.give_back()
