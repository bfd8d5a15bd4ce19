"""The dibao standard (低保标准) of a jurisdiction, read from the welfare service.

Item 13 gives at least 1.3 × the local dibao standard. Eldercare keeps no copy of the
standard (spec: "it does not keep a second copy"): it asks welfare's
``GET /api/welfare/v1/standards`` with the caller's Authorization header and a short
timeout, and keeps each answer for a short time per (jurisdiction, month). When welfare is
down, refuses, or knows no standard for the place, the answer says why, and the
evaluation lists item 13 as degraded instead of failing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import httpx

from shared.logs import request_id_var
from shared.months import YearMonth

STANDARDS_PATH = "/api/welfare/v1/standards"
CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class DibaoLookup:
    """The standard in force on the month's first day, or why it is not known."""

    amount: Decimal | None
    reason: str | None = None


class DibaoStandards:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        cache_seconds: float,
        retry_seconds: float,
    ) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self.retry_seconds = retry_seconds
        self._cache: dict[tuple[str, YearMonth], tuple[float, DibaoLookup]] = {}
        self._locks: dict[tuple[str, YearMonth], asyncio.Lock] = {}
        self._unreachable_until = float("-inf")
        self._unreachable_reason = ""

    async def standard(self, jurisdiction: str, month: YearMonth, authorization: str | None) -> DibaoLookup:
        """The dibao standard of ``jurisdiction`` in force on the first day of ``month``."""
        key = (jurisdiction, month)
        cached = self._fresh(key)
        if cached is not None:
            return cached
        if time.monotonic() < self._unreachable_until:
            return DibaoLookup(None, self._unreachable_reason)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one request per key at a time; the others take its answer
            cached = self._fresh(key)
            if cached is not None:
                return cached
            lookup, cacheable = await self._ask(jurisdiction, month.first_day, authorization)
            if cacheable:
                if len(self._cache) >= CACHE_LIMIT:
                    self._cache.clear()
                    self._locks.clear()
                self._cache[key] = (time.monotonic() + self.cache_seconds, lookup)
            return lookup

    def _fresh(self, key: tuple[str, YearMonth]) -> DibaoLookup | None:
        entry = self._cache.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    async def _ask(
        self, jurisdiction: str, on: dt.date, authorization: str | None
    ) -> tuple[DibaoLookup, bool]:
        """Ask welfare; returns the lookup and whether it may be kept for other callers."""
        headers = {}
        if authorization:
            headers["Authorization"] = authorization
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-ID"] = request_id
        params = {"jurisdiction": jurisdiction, "on": on.isoformat()}
        try:
            response = await self.client.get(STANDARDS_PATH, params=params, headers=headers)
        except httpx.TimeoutException:
            return self._unreachable("the welfare service did not answer in time"), False
        except httpx.HTTPError as exc:
            return self._unreachable(f"the welfare service is unreachable ({type(exc).__name__})"), False
        if response.status_code in (401, 403):
            # the caller's own grants: not kept, another caller may be allowed
            return DibaoLookup(
                None,
                f"the welfare service refused the caller ({response.status_code}); reading the dibao "
                "standard needs the scope welfare:read",
            ), False
        if response.status_code != 200:
            return DibaoLookup(None, f"the welfare service answered {response.status_code}"), False
        try:
            body = response.json()
            dibao = body.get("dibao")
            amount = None if dibao is None else Decimal(str(dibao))
        except (ValueError, AttributeError, InvalidOperation):
            return DibaoLookup(None, "the welfare service answered with an unreadable body"), False
        if amount is None:
            warnings = "; ".join(str(w) for w in body.get("warnings") or [])
            reason = f"the welfare service has no dibao standard for {jurisdiction} on {on.isoformat()}"
            return DibaoLookup(None, f"{reason} ({warnings})" if warnings else reason), True
        return DibaoLookup(amount), True

    def _unreachable(self, reason: str) -> DibaoLookup:
        self._unreachable_until = time.monotonic() + self.retry_seconds
        self._unreachable_reason = reason
        return DibaoLookup(None, reason)
