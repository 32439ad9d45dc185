"""Turns at one session's seats: at most `AT_ONCE` lean writes for the same session in this
process at a time, the rest waiting their turn in arrival order without holding a database
connection. The bookings made on their own pass here: those `bookings.group` runs at once (no
more than three for a session, as here) and a group's made one by one; the rest are written
in groups, which brought the rush's p99 below what the turns gave.

Every booking for a session ends by taking the session's row (the seat or the waiting-list
ticket), so bookings for one session run one after another however many are under way. In a
rush, the write admission (`web.admission`) lets in as many requests as the pool has
connections, all for the same session: all but one of them sit in PostgreSQL waiting for the
row, each holding a connection, while the one holding it waits for the event loop to send its
COMMIT — with nothing else left for the loop to do. Fewer at once hand the row on faster: the
rush of 1,000 on 50 seats answered its 99th percentile in 1.7–1.8 s with three at once against
2.0–2.2 s with ten, in alternating runs (bench/README.md). Bookings for different sessions do
not wait for each other, and writes that wait on something else (a card payment's provider, a
sign-in's hash) are not counted here, as they would be by a lower admission limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

AT_ONCE = 3


class Turns:
    def __init__(self, at_once: int = AT_ONCE) -> None:
        self.at_once = at_once
        # Session id → its semaphore and how many hold or wait for it (dropped at none).
        self._queues: dict[int, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def turn(self, session_id: int) -> AsyncIterator[None]:
        semaphore, users = self._queues.get(session_id) or (asyncio.Semaphore(self.at_once), 0)
        self._queues[session_id] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._queues[session_id]
            if users == 1:
                del self._queues[session_id]
            else:
                self._queues[session_id] = (semaphore, users - 1)

    def waiting(self, session_id: int) -> int:
        """How many hold or wait for a turn at this session (for tests)."""
        return self._queues.get(session_id, (None, 0))[1]


SESSIONS = Turns()
