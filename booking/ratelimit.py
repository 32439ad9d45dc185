"""Fixed-window rate limits for sign-in, password resets and booking.

Booking attempts are counted per learner booked, not per person acting (`booking_counters`): a
learner booking for themselves keeps `BOOKING`; an administrator or a service token booking other
people (an HR feed, a cohort enrolled by L&D) is held to `BOOKING` per learner, so a runaway
script repeating one booking still stops, and to its own, much higher ceiling over everyone it
books (`BOOKING_BULK_BOOKINGS_PER_MINUTE`), so a legitimate cohort of hundreds goes through.

In one process the counts live in memory; with BOOKING_REDIS_URL every process shares them in
Redis (INCR + EXPIRE), so a client cannot multiply its allowance by spreading requests.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    count: int
    seconds: int


LOGIN = Limit("login", 10, 300)  # per account and per address, 10 failures in 5 minutes
PASSWORD_RESET = Limit("reset", 5, 3600)
BOOKING = Limit("booking", 60, 60)
# An administrator or service token booking other people: per learner booked (as `BOOKING`) ...
BOOKING_FOR = Limit("booking-for", 60, 60)


def bulk_booking(per_minute: int) -> Limit:
    """... and over everyone it books, the configured ceiling (a minute's window)."""
    return Limit("booking-bulk", per_minute, 60)


def booking_counters(
    actor_email: str, learner_email: str | None, *, bulk: bool, bulk_per_minute: int
) -> list[tuple[Limit, str]]:
    """The counters one booking attempt is charged to, as (limit, key) pairs.

    - For oneself (no `learner_email`, or one's own): `BOOKING` on one's own email.
    - For someone else by an administrator or a service token (`bulk`): `BOOKING_FOR` on the
      (actor, learner) pair, and the actor's bulk ceiling.
    - For someone else by anyone else (a manager, a trainer adding a learner): `BOOKING` on the
      acting person's email, as for their own bookings. Charging the named learner instead would
      let anyone use up another person's allowance by naming them in refused requests.
    """
    actor = actor_email.strip().lower()
    learner = (learner_email or "").strip().lower() or actor
    if learner == actor or not bulk:
        return [(BOOKING, actor)]
    return [(BOOKING_FOR, f"{actor}>{learner}"), (bulk_booking(bulk_per_minute), actor)]


class Store(Protocol):
    async def hit(self, key: str, window: int) -> int: ...
    async def count(self, key: str) -> int: ...
    async def ttl(self, key: str) -> int: ...
    async def clear(self, key: str) -> None: ...
    async def aclose(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, window: int) -> int:
        async with self._lock:
            now = time.monotonic()
            count, until = self._counts.get(key, (0, now + window))
            if now >= until:
                count, until = 0, now + window
            count += 1
            self._counts[key] = (count, until)
            if len(self._counts) > 100_000:  # forget expired windows now and then
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            return count

    async def count(self, key: str) -> int:
        count, until = self._counts.get(key, (0, 0.0))
        return count if time.monotonic() < until else 0

    async def ttl(self, key: str) -> int:
        _, until = self._counts.get(key, (0, 0.0))
        return max(0, math.ceil(until - time.monotonic()))

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    async def aclose(self) -> None:
        return None


class RedisStore:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)

    async def hit(self, key: str, window: int) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(f"booking:rl:{key}")
            pipe.expire(f"booking:rl:{key}", window, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def count(self, key: str) -> int:
        return int(await self._redis.get(f"booking:rl:{key}") or 0)

    async def ttl(self, key: str) -> int:
        return max(0, int(await self._redis.ttl(f"booking:rl:{key}")))

    async def clear(self, key: str) -> None:
        await self._redis.delete(f"booking:rl:{key}")

    async def aclose(self) -> None:
        # `aclose` is redis-py 5.0.1's name for `close`.
        await getattr(self._redis, "aclose", self._redis.close)()


class RateLimiter:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def exceeded(self, limit: Limit, who: str) -> int | None:
        """Count one attempt; the seconds to wait if the limit is now exceeded, else None."""
        key = f"{limit.name}:{who}"
        if await self.store.hit(key, limit.seconds) > limit.count:
            return max(1, await self.store.ttl(key))
        return None

    async def exceeded_any(self, counters: list[tuple[Limit, str]]) -> int | None:
        """Count one attempt on every counter; the longest wait among those now exceeded."""
        waits = [await self.exceeded(limit, who) for limit, who in counters]
        return max((w for w in waits if w), default=None)

    async def blocked(self, limit: Limit, who: str) -> int | None:
        """Seconds to wait if `who` has used up the limit (failures counted by `count`)."""
        key = f"{limit.name}:{who}"
        if await self.store.count(key) >= limit.count:
            return max(1, await self.store.ttl(key))
        return None

    async def count(self, limit: Limit, who: str) -> None:
        await self.store.hit(f"{limit.name}:{who}", limit.seconds)

    async def reset(self, limit: Limit, who: str) -> None:
        await self.store.clear(f"{limit.name}:{who}")

    async def aclose(self) -> None:
        """Close the store's connections (the app's shutdown)."""
        await self.store.aclose()


def limiter_for(redis_url: str | None) -> RateLimiter:
    return RateLimiter(RedisStore(redis_url) if redis_url else MemoryStore())
