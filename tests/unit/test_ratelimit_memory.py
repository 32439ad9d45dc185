"""The in-memory rate limit store: windows end on time whether or not the sweep has run, and the
sweep that frees their memory runs at most once a second, not after every hit."""

from __future__ import annotations

import asyncio
import time

import pytest

from booking.ratelimit import Limit, MemoryStore, RateLimiter

TWO_A_SECOND = Limit("test", 2, 1)


async def test_a_window_ends_on_time_without_waiting_for_a_sweep() -> None:
    store = MemoryStore()
    limiter = RateLimiter(store)
    assert await limiter.exceeded(TWO_A_SECOND, "lee") is None
    assert await limiter.exceeded(TWO_A_SECOND, "lee") is None
    assert await limiter.exceeded(TWO_A_SECOND, "lee") == 1
    store._swept_at = time.monotonic() + 3600  # no sweep from now on
    await asyncio.sleep(1.05)
    assert await limiter.exceeded(TWO_A_SECOND, "lee") is None


async def test_the_sweep_runs_at_most_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    limiter = RateLimiter(store)
    sweeps: list[float] = []
    original = asyncio.create_task

    def counting(coro, **kw):  # type: ignore[no-untyped-def]
        if "expire_events" in getattr(coro, "__qualname__", ""):
            sweeps.append(time.monotonic())
        return original(coro, **kw)

    monkeypatch.setattr(asyncio, "create_task", counting)
    for n in range(500):
        await limiter.exceeded(TWO_A_SECOND, f"learner{n}")
    assert len(sweeps) == 1
    # Once the interval has passed, the next hit sweeps, and the ended windows are freed.
    await asyncio.sleep(1.05)
    await limiter.exceeded(TWO_A_SECOND, "last")
    await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert len(sweeps) == 2
    assert set(store.storage) == {"test:last"}


async def test_the_control_limits_own_store_sweeps_after_every_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the override changes: `limits`' store schedules a sweep whenever the last is done."""
    from limits.aio.storage import MemoryStorage

    store = MemoryStorage()
    limiter = RateLimiter(store)  # type: ignore[arg-type]
    sweeps = 0
    original = asyncio.create_task

    def counting(coro, **kw):  # type: ignore[no-untyped-def]
        nonlocal sweeps
        if "expire_events" in getattr(coro, "__qualname__", ""):
            sweeps += 1
        return original(coro, **kw)

    monkeypatch.setattr(asyncio, "create_task", counting)
    for n in range(50):
        await limiter.exceeded(TWO_A_SECOND, f"learner{n}")
        await asyncio.sleep(0)
    assert sweeps > 10
