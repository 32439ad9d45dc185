"""Write admission: at most `limit` state-changing requests at once, served in arrival order;
reads are never held back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from booking.web.admission import WriteAdmission


class Recorder:
    """An ASGI app that holds each request until released and records what it saw."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        self.started.append(scope["path"])
        if scope["method"] != "GET":
            await self.release.wait()
        self.running -= 1


def request(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path}


async def nothing() -> dict[str, Any]:
    return {}


async def ignore(message: Any) -> None:
    return None


async def test_at_most_the_limit_of_writes_run_and_the_rest_go_in_arrival_order() -> None:
    app = Recorder()
    admitted = WriteAdmission(app, limit=2)
    writes = [
        asyncio.create_task(admitted(request("POST", f"/w{i}"), nothing, ignore)) for i in range(6)
    ]
    for _ in range(20):  # let every task run as far as it can (yielding, not waiting on time)
        await asyncio.sleep(0)
    assert app.started == ["/w0", "/w1"]

    # A read is not held back by the writes waiting.
    await asyncio.wait_for(admitted(request("GET", "/page"), nothing, ignore), timeout=5)
    assert app.started[-1] == "/page"

    app.release.set()
    await asyncio.gather(*writes)
    assert app.most <= 3  # two writes and the read
    assert [p for p in app.started if p.startswith("/w")] == [f"/w{i}" for i in range(6)]


def test_the_limit_must_admit_someone() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WriteAdmission(Recorder(), limit=0)


async def test_a_request_that_steps_aside_lets_the_next_in_and_gives_its_slot_back_once() -> None:
    """A write that hands its work on (`step_aside`, as a booking waiting for its group does)
    frees its slot at once: the next write starts while it still waits. When both end, the
    slots are as they were: given back once each, never twice (a second `step_aside` and the
    request's end change nothing more)."""
    from booking.kernel.admission import step_aside

    app = Recorder()

    async def aside(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/aside":
            step_aside()
            step_aside()
        await app(scope, receive, send)

    admitted = WriteAdmission(aside, limit=1)
    first = asyncio.create_task(admitted(request("POST", "/aside"), nothing, ignore))
    second = asyncio.create_task(admitted(request("POST", "/next"), nothing, ignore))
    third = asyncio.create_task(admitted(request("POST", "/last"), nothing, ignore))
    for _ in range(20):
        await asyncio.sleep(0)
    assert app.started == ["/aside", "/next"]  # "/last" waits: "/next" holds the one slot
    app.release.set()
    await asyncio.gather(first, second, third)
    assert app.started == ["/aside", "/next", "/last"]
    semaphore = admitted._semaphore()
    assert semaphore._value == 1
    step_aside()  # outside any request: nothing to give back
    assert semaphore._value == 1
