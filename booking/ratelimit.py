"""Fixed-window rate limits for sign-in, password resets and booking.

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
