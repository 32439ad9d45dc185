"""Fixed-window rate limits for sign-in, password resets and booking.

Booking attempts are counted per learner booked, not per person acting (`booking_counters`): a
learner booking for themselves keeps `BOOKING`; an administrator or a service token booking other
people (an HR feed, a cohort enrolled by L&D) is held to `BOOKING` per learner, so a runaway
script repeating one booking still stops, and to its own, much higher ceiling over everyone it
books (`BOOKING_BULK_BOOKINGS_PER_MINUTE`), so a legitimate cohort of hundreds goes through.

The windows are counted by `limits`. In one process the counts live in memory; with
BOOKING_REDIS_URL every process shares them in Redis (INCR + EXPIRE), so a client cannot multiply
its allowance by spreading requests.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import redis.asyncio
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    count: int
    seconds: int


LOGIN = Limit("login", 10, 300)  # per account and per address, 10 failures in 5 minutes
PASSWORD_RESET = Limit("reset", 5, 3600)
# The public account request form: per address and per email, as for password resets.
ACCOUNT_REQUEST = Limit("account-request", 5, 3600)
# The public certificate check: codes not found, per address (guessing one is hopeless anyway).
CERTIFICATE_CHECK = Limit("certificate-check", 30, 60)
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


class _Window(RateLimitItemPerSecond):
    """A limit's window, counted under `name:who` as before we used `limits`: the Redis keys
    (`booking:rl:name:who`) are unchanged, so counts carry across a rolling upgrade."""

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return ":".join([self.namespace, *(str(i) for i in identifiers)])


def _window(limit: Limit) -> _Window:
    return _Window(limit.count, limit.seconds, namespace=limit.name)


class MemoryStore(MemoryStorage):
    """Counts in this process only.

    `limits` sweeps every key for ended windows after each hit: a pass over all the windows
    open (one per learner who booked in the last minute) on every request, ~9 % of a booking's
    CPU with a couple of thousand open (bench/README.md, "The lean booking path"). Here the
    sweep runs at most once every `SWEEP_EVERY` seconds. It only frees memory: a window past
    its end is dropped by `get` when it is next read, swept or not (tests/unit/test_ratelimit.py).
    """

    SWEEP_EVERY = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._swept_at = -math.inf

    async def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - limits' own hook
        now = time.monotonic()
        if now - self._swept_at < self.SWEEP_EVERY:
            return
        self._swept_at = now
        await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]

    async def aclose(self) -> None:
        return None


class RedisStore(RedisStorage):
    """Counts shared by every process through Redis (`booking:rl:<name>:<who>`, INCR + EXPIRE)."""

    def __init__(self, url: str) -> None:
        # Our own pool, so that shutdown can close it; `limits` takes the client's options from it.
        self.pool = redis.asyncio.ConnectionPool.from_url(url)
        super().__init__(
            "async+" + ("redis+" + url if url.startswith("unix://") else url),
            implementation="redispy",
            key_prefix="booking:rl",
            connection_pool=self.pool,  # type: ignore[arg-type]
        )

    async def aclose(self) -> None:
        await self.pool.disconnect()


class RateLimiter:
    """Fixed windows (`limits`' FixedWindowRateLimiter): a window opens at a key's first hit and
    lasts the limit's seconds; the answer is how long to wait, in whole seconds, or None."""

    def __init__(self, store: MemoryStore | RedisStore) -> None:
        self.store = store
        self._windows = FixedWindowRateLimiter(store)

    async def exceeded(self, limit: Limit, who: str) -> int | None:
        """Count one attempt; the seconds to wait if the limit is now exceeded, else None."""
        if await self._windows.hit(_window(limit), who):
            return None
        return await self._wait(limit, who)

    async def exceeded_any(self, counters: list[tuple[Limit, str]]) -> int | None:
        """Count one attempt on every counter; the longest wait among those now exceeded."""
        waits = [await self.exceeded(limit, who) for limit, who in counters]
        return max((w for w in waits if w), default=None)

    async def blocked(self, limit: Limit, who: str) -> int | None:
        """Seconds to wait if `who` has used up the limit (failures counted by `count`)."""
        if await self._windows.test(_window(limit), who):
            return None
        return await self._wait(limit, who)

    async def count(self, limit: Limit, who: str) -> None:
        await self._windows.hit(_window(limit), who)

    async def reset(self, limit: Limit, who: str) -> None:
        await self._windows.clear(_window(limit), who)

    async def aclose(self) -> None:
        """Close the store's connections (the app's shutdown)."""
        await self.store.aclose()

    async def _wait(self, limit: Limit, who: str) -> int:
        reset_at, _ = await self._windows.get_window_stats(_window(limit), who)
        return max(1, math.ceil(reset_at - time.time()))


def limiter_for(redis_url: str | None) -> RateLimiter:
    return RateLimiter(RedisStore(redis_url) if redis_url else MemoryStore())
