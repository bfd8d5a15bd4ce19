"""Dibao (低保) from the welfare service: a jurisdiction's standard and a person's status.

Spec: "Dibao status and the dibao standard live in the welfare service: eldercare reads
them from it … it does not keep a second copy." Both are asked through one
:class:`WelfareLink`: the internal network, the caller's Authorization header (welfare
applies the caller's own scopes and area), a short timeout, and after a failed call no
new call for ``retry_seconds``. When welfare is down, refuses, or does not know, the answer
says why and the evaluation goes on degraded instead of failing.

- :class:`DibaoStandards`: the standard (低保标准) that item 13 multiplies (1.3 ×), from
  ``GET /api/welfare/v1/standards``; each answer is kept for a short time per
  (jurisdiction, month).
- :class:`DibaoStatuses`: whether a person is in dibao in a month (items 9, 10, 11, 15,
  18, 21 read it), from ``POST /api/welfare/v1/enrolment-lookups`` with the citizen ID
  number in the body. Never kept: a new enrolment shows at once, and the answer depends on
  the caller's area.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from shared.logs import request_id_var
from shared.months import YearMonth

STANDARDS_PATH = "/api/welfare/v1/standards"
ENROLMENT_LOOKUP_PATH = "/api/welfare/v1/enrolment-lookups"
CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class WelfareAnswer:
    """A 200 answer's JSON body, or why there is none."""

    body: dict[str, Any] | None
    reason: str | None = None


class WelfareLink:
    """Calls to the welfare service with the caller's identity, a timeout and a pause after failure."""

    def __init__(self, client: httpx.AsyncClient, *, retry_seconds: float) -> None:
        self.client = client
        self.retry_seconds = retry_seconds
        self._unreachable_until = float("-inf")
        self._unreachable_reason = ""

    async def call(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None,
        purpose: str,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> WelfareAnswer:
        """Ask welfare; ``purpose`` ("reading the dibao standard") explains a refusal."""
        if time.monotonic() < self._unreachable_until:
            return WelfareAnswer(None, self._unreachable_reason)
        headers = {}
        if authorization:
            headers["Authorization"] = authorization
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-ID"] = request_id
        try:
            response = await self.client.request(method, path, params=params, json=json, headers=headers)
        except httpx.TimeoutException:
            return self._unreachable("the welfare service did not answer in time")
        except httpx.HTTPError as exc:
            return self._unreachable(f"the welfare service is unreachable ({type(exc).__name__})")
        if response.status_code in (401, 403):
            return WelfareAnswer(
                None,
                f"the welfare service refused the caller ({response.status_code}); {purpose} needs the "
                "scope welfare:read",
            )
        if response.status_code != 200:
            return WelfareAnswer(None, f"the welfare service answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return WelfareAnswer(None, "the welfare service answered with an unreadable body")
        return WelfareAnswer(body)

    def _unreachable(self, reason: str) -> WelfareAnswer:
        self._unreachable_until = time.monotonic() + self.retry_seconds
        self._unreachable_reason = reason
        return WelfareAnswer(None, reason)


@dataclass(frozen=True)
class DibaoLookup:
    """The standard in force on the month's first day, or why it is not known."""

    amount: Decimal | None
    reason: str | None = None


class DibaoStandards:
    def __init__(self, welfare: WelfareLink, *, cache_seconds: float) -> None:
        self.welfare = welfare
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, YearMonth], tuple[float, DibaoLookup]] = {}
        self._locks: dict[tuple[str, YearMonth], asyncio.Lock] = {}

    async def standard(self, jurisdiction: str, month: YearMonth, authorization: str | None) -> DibaoLookup:
        """The dibao standard of ``jurisdiction`` in force on the first day of ``month``."""
        key = (jurisdiction, month)
        cached = self._fresh(key)
        if cached is not None:
            return cached
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
        answer = await self.welfare.call(
            "GET",
            STANDARDS_PATH,
            params={"jurisdiction": jurisdiction, "on": on.isoformat()},
            authorization=authorization,
            purpose="reading the dibao standard",
        )
        if answer.body is None:
            # not kept: welfare may be back soon, and a refusal is the caller's own grants
            return DibaoLookup(None, answer.reason), False
        body = answer.body
        try:
            dibao = body.get("dibao")
            amount = None if dibao is None else Decimal(str(dibao))
        except InvalidOperation:
            return DibaoLookup(None, "the welfare service answered with an unreadable body"), False
        if amount is None:
            warnings = "; ".join(str(w) for w in body.get("warnings") or [])
            reason = f"the welfare service has no dibao standard for {jurisdiction} on {on.isoformat()}"
            return DibaoLookup(None, f"{reason} ({warnings})" if warnings else reason), True
        return DibaoLookup(amount), True


@dataclass(frozen=True)
class DibaoStatus:
    """Whether the welfare service has the person in dibao in the month, or why it cannot say.

    ``in_dibao`` is None when welfare could not answer (``reason`` says why).
    ``known_to_welfare``: a person with the number is registered in welfare within the
    caller's area (welfare answers a person outside it like an unknown number).
    """

    in_dibao: bool | None
    enrolment_id: str | None = None
    known_to_welfare: bool = False
    reason: str | None = None


class DibaoStatuses:
    def __init__(self, welfare: WelfareLink) -> None:
        self.welfare = welfare

    async def status(self, citizen_id: str, on: dt.date, authorization: str | None) -> DibaoStatus:
        """Whether the person with ``citizen_id`` is in a dibao enrolment in force in ``on``'s month."""
        answer = await self.welfare.call(
            "POST",
            ENROLMENT_LOOKUP_PATH,
            json={"citizen_id": citizen_id, "on": on.isoformat()},
            authorization=authorization,
            purpose="reading dibao status",
        )
        if answer.body is None:
            return DibaoStatus(None, reason=answer.reason)
        in_dibao = answer.body.get("dibao")
        enrolments = answer.body.get("enrolments")
        if not isinstance(in_dibao, bool) or not isinstance(enrolments, list):
            return DibaoStatus(None, reason="the welfare service answered with an unreadable body")
        enrolment_id = next(
            (
                str(e.get("enrolment_id"))
                for e in enrolments
                if isinstance(e, dict) and e.get("program") == "dibao"
            ),
            None,
        )
        return DibaoStatus(
            in_dibao, enrolment_id=enrolment_id, known_to_welfare=answer.body.get("person_id") is not None
        )
