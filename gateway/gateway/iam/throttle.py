"""A brake on ``/auth/token``: sign-in attempts counted per (name, client address) and,
with a higher cap, per name alone; exponential lock-outs answered 429 with Retry-After.

Every attempt is counted before its password is hashed (so a burst of concurrent guesses
is cut off at the limit, not after all of them were hashed) and a successful sign-in takes
its own attempt back. Keyed on the pair, one clerk's typos lock only that clerk at that
address: colleagues behind the same county NAT address sign in as before. The per-name cap
stops guessing one name from many addresses. Unknown and known names are counted alike, so
the answers (400, then 429) do not tell them apart.

In memory for one gateway process; with ``REDIS_URL`` the counts are shared by every
replica (one Lua script per attempt, atomic).
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Protocol

from starlette.types import Scope

from gateway.config import GatewaySettings


@dataclass(frozen=True)
class Limit:
    free: int  # attempts before the first lock-out
    base_seconds: float
    max_seconds: float
    window_seconds: float  # counts are forgotten this long after the last attempt

    def lockout(self, count: int) -> float:
        """Seconds locked after attempt number ``count`` (0 while within the free ones)."""
        if count <= self.free:
            return 0.0
        return float(min(self.max_seconds, self.base_seconds * 2 ** min(count - self.free - 1, 40)))


class AttemptStore(Protocol):
    async def attempt(self, key: str, limit: Limit) -> float:
        """Count an attempt; 0 when it may go ahead, else the seconds until it may."""
        ...

    async def forgive(self, key: str, *, reset: bool) -> None:
        """Take one attempt back (``reset``: forget them all)."""
        ...

    async def close(self) -> None: ...


class MemoryAttempts:
    def __init__(self) -> None:
        self._state: dict[str, tuple[int, float, float]] = {}  # key → (count, locked until, last)

    async def attempt(self, key: str, limit: Limit) -> float:
        now = time.time()
        count, until, last = self._state.get(key, (0, 0.0, now))
        if now - last > limit.window_seconds:
            count, until = 0, 0.0
        if now < until:
            return until - now
        count += 1
        self._state[key] = (count, now + limit.lockout(count), now)
        if len(self._state) > 100_000:
            self._state = {k: v for k, v in self._state.items() if now - v[2] <= limit.window_seconds}
        return 0.0

    async def forgive(self, key: str, *, reset: bool) -> None:
        state = self._state.get(key)
        if state is None:
            return
        if reset or state[0] <= 1:
            del self._state[key]
        else:
            self._state[key] = (state[0] - 1, 0.0, state[2])

    async def close(self) -> None:
        self._state.clear()


# KEYS[1]; ARGV: now, free, base, max, window. Returns seconds to wait as a string (0: go).
_ATTEMPT = """
local now = tonumber(ARGV[1])
local until_ = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < until_ then return tostring(until_ - now) end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local free, base, max, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local lock = 0
if count > free then lock = math.min(max, base * 2 ^ math.min(count - free - 1, 40)) end
redis.call('HSET', KEYS[1], 'until', tostring(now + lock))
redis.call('EXPIRE', KEYS[1], math.ceil(window + lock))
return '0'
"""
_FORGIVE = """
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
if ARGV[1] == '1' or count <= 1 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('HINCRBY', KEYS[1], 'count', -1)
redis.call('HSET', KEYS[1], 'until', '0')
return 0
"""


class RedisAttempts:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._attempt = self._redis.register_script(_ATTEMPT)
        self._forgive = self._redis.register_script(_FORGIVE)

    async def attempt(self, key: str, limit: Limit) -> float:
        args = [time.time(), limit.free, limit.base_seconds, limit.max_seconds, limit.window_seconds]
        wait = await self._attempt(keys=[f"gateway:signin:{key}"], args=args)
        return float(wait)

    async def forgive(self, key: str, *, reset: bool) -> None:
        await self._forgive(keys=[f"gateway:signin:{key}"], args=["1" if reset else "0"])

    async def close(self) -> None:
        await self._redis.aclose()


class SignInThrottle:
    def __init__(self, settings: GatewaySettings, store: AttemptStore) -> None:
        self.store = store
        common = {
            "base_seconds": settings.signin_lockout_base_seconds,
            "max_seconds": settings.signin_lockout_max_seconds,
            "window_seconds": settings.signin_window_seconds,
        }
        self.pair = Limit(free=settings.signin_failures_per_address, **common)
        self.name = Limit(free=settings.signin_failures_per_name, **common)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SignInThrottle:
        store: AttemptStore = RedisAttempts(settings.redis_url) if settings.redis_url else MemoryAttempts()
        return cls(settings, store)

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str]:
        folded = name.strip().casefold()
        return f"pair:{folded}|{address}", f"name:{folded}"

    async def attempt(self, name: str, address: str) -> int:
        """0 when this attempt may be checked; else Retry-After seconds (nothing counted)."""
        pair_key, name_key = self._keys(name, address)
        wait = await self.store.attempt(pair_key, self.pair)
        if wait > 0:
            return math.ceil(wait)
        wait = await self.store.attempt(name_key, self.name)
        if wait > 0:
            await self.store.forgive(pair_key, reset=False)
            return math.ceil(wait)
        return 0

    async def succeeded(self, name: str, address: str) -> None:
        pair_key, name_key = self._keys(name, address)
        await self.store.forgive(pair_key, reset=True)
        await self.store.forgive(name_key, reset=False)

    async def abandoned(self, name: str, address: str) -> None:
        """Take back an attempt that was never checked."""
        for key in self._keys(name, address):
            await self.store.forgive(key, reset=False)

    async def close(self) -> None:
        await self.store.close()


def client_address(
    scope: Scope, trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> str:
    """The caller's address: the peer's, or (when the peer is a trusted proxy) the last
    address in ``X-Forwarded-For`` that is not itself a trusted proxy."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return str(peer)
    forwarded = b",".join(value for name, value in scope["headers"] if name == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return str(peer)  # not an address: believe nothing further
    return str(peer)


def _trusted(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
