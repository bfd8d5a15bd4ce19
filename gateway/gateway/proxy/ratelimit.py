"""Per-client rate limits: a fixed one-minute window, in memory or in Redis.

In memory is right for one gateway process; with several replicas set ``REDIS_URL``
so they share the counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int
    remaining: int


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int) -> Verdict: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int) -> Verdict:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            count = 0
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        count += 1
        self._windows[key] = (window, count)
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        return Verdict(allowed=count <= limit, retry_after=retry_after, remaining=max(0, limit - count))

    async def close(self) -> None:
        self._windows.clear()


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)

    async def hit(self, key: str, limit: int) -> Verdict:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        redis_key = f"gateway:rate:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, WINDOW_SECONDS + 5)
            count, _ = await pipe.execute()
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        return Verdict(
            allowed=int(count) <= limit,
            retry_after=retry_after,
            remaining=max(0, limit - int(count)),
        )

    async def close(self) -> None:
        await self._redis.aclose()


def make_rate_limiter(redis_url: str) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
