"""Admission for state-changing requests: at most `limit` of them run at once in a process, and
the rest wait their turn in arrival order.

Without it, a rush of a thousand sign-ups runs a thousand requests side by side on one event
loop: each gets a thousandth of the CPU, all of them finish late, and the seats go to whoever the
scheduler happened to favour. With it, requests are served first come, first served at full
speed, so the first to arrive get their answer (and the seats) in a fraction of the time, and
the rest queue in memory instead of piling onto the connection pool. The limit is the database
pool size: a write cannot go faster than the connections it needs anyway. Reads (pages, feeds,
live updates) are not held back. A request that hands its work on and only waits for the
outcome gives its slot back early (`kernel.admission.step_aside`: a booking waiting in line for
its group).
"""

from __future__ import annotations

import asyncio

from litestar.types import ASGIApp, Receive, Scope, Send

from booking.kernel.admission import SLOT, Slot

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteAdmission:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        if limit < 1:
            raise ValueError("the admission limit must be at least 1")
        self.app = app
        self.limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(limit)

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop: an app object may outlive a loop (tests build one app and serve
        # it from several), and an asyncio semaphore belongs to the loop that first waits on it.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._slots = asyncio.Semaphore(self.limit)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE:
            await self.app(scope, receive, send)
            return
        semaphore = self._semaphore()
        await semaphore.acquire()
        slot = Slot(semaphore)
        admitted = SLOT.set(slot)
        try:
            await self.app(scope, receive, send)
        finally:
            SLOT.reset(admitted)
            slot.give_back()
