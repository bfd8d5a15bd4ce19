"""Payroll runs: months that have not begun are refused, a month may be paid again for those
who joined later, and payrolls sent together pay each enrolment once (through the gateway).

Runs in 双台子区 (211102) in November and December 2025, which no other test pays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import httpx
import pytest

from platformctl.testing import Platform, assert_problem
from shared.months import YearMonth

BASE = "/api/welfare/v1"
COUNTY = "211102"
CITY = "211100"
DECISION = {"by": "双台子区民政局", "on": "2025-10-20", "reference": "双民低〔2025〕11号"}


@pytest.fixture(scope="module")
async def clerk_headers(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "payroll-clerk-211102", scopes=["welfare:read", "welfare:write"], jurisdictions=[COUNTY]
    )


@pytest.fixture(scope="module")
async def city_headers(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "payroll-clerk-211100", scopes=["welfare:read", "welfare:write"], jurisdictions=[CITY]
    )


async def enrol(client: httpx.AsyncClient, start: str, income: str = "500.00") -> str:
    household = await client.post(f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "红旗街道"})
    enrolment = await client.post(
        f"{BASE}/enrolments",
        json={
            "program": "dibao",
            "jurisdiction": COUNTY,
            "household_id": household.json()["id"],
            "covered_members": 2,
            "per_capita_income": income,
            "start_month": start,
            "decision": DECISION,
        },
    )
    assert enrolment.status_code == 201, enrolment.text
    return str(enrolment.json()["id"])


async def regular_entries(
    client: httpx.AsyncClient, month: str, jurisdiction: str | None = None
) -> list[dict[str, str]]:
    """The month's regular entries of ``jurisdiction`` (of the caller's whole area without)."""
    entries: list[dict[str, str]] = []
    where = {"jurisdiction": jurisdiction} if jurisdiction else {}
    while True:
        page = (
            await client.get(
                f"{BASE}/ledger",
                params={
                    **where,
                    "month": month,
                    "kind": "regular",
                    "limit": 200,
                    "offset": len(entries),
                },
            )
        ).json()
        entries += page["items"]
        if len(entries) >= page["total"]:
            return entries


async def test_a_month_that_has_not_begun_is_refused(
    clerk_headers: dict[str, str], platform: Platform
) -> None:
    this_month = YearMonth.of(dt.datetime.now(ZoneInfo("Asia/Shanghai")).date())
    async with platform.client(headers=clerk_headers) as clerk:
        await enrol(clerk, str(this_month))
        for month in (this_month.next(), this_month.plus(13)):
            refused = await clerk.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": str(month)})
            problem = assert_problem(refused, 422)
            assert problem["errors"][0]["field"] == "body.month"
            assert str(month) in problem["errors"][0]["message"]
            assert "has not begun" in problem["detail"]
            # nothing was written, so the month is paid normally once it has begun
            assert await regular_entries(clerk, str(month), COUNTY) == []


async def test_a_month_paid_again_pays_those_who_joined_since(
    clerk_headers: dict[str, str], platform: Platform
) -> None:
    month = "2025-11"
    async with platform.client(headers=clerk_headers) as clerk:
        first_enrolment = await enrol(clerk, month)
        first = await clerk.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month})
        assert first.status_code == 201, first.text
        paid = {e["enrolment_id"]: e for e in await regular_entries(clerk, month, COUNTY)}
        assert paid[first_enrolment]["amount"] == "600.00"  # (800 − 500) × 2
        assert len(paid) == first.json()["entries"]  # the county's other enrolments too

        # a household approved later in November: asking again pays it, and only it
        late_enrolment = await enrol(clerk, month, income="600.00")
        second = await clerk.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month})
        assert second.status_code == 201, second.text
        body = second.json()
        assert body["id"] != first.json()["id"]
        assert first.json()["status"] == body["status"] == "succeeded"
        assert (body["entries"], body["total"]) == (1, "400.00")  # (800 − 600) × 2
        assert body["already_paid"] == len(paid)
        assert body["requested_by"] == body["created_by"] == "payroll-clerk-211102"

        # nobody left to pay: the latest run, nothing written
        third = await clerk.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month})
        assert third.status_code == 200, third.text
        assert third.json()["id"] == body["id"]
        entries = await regular_entries(clerk, month, COUNTY)
        assert len(entries) == len(paid) + 1
        late = [e for e in entries if e["enrolment_id"] == late_enrolment]
        assert [(e["amount"], e["payroll_run_id"]) for e in late] == [("400.00", body["id"])]
        assert Counter(e["payroll_run_id"] for e in entries) == {first.json()["id"]: len(paid), body["id"]: 1}


async def test_payrolls_sent_together_pay_each_enrolment_once(
    clerk_headers: dict[str, str], city_headers: dict[str, str], platform: Platform
) -> None:
    """County and city payrolls of one month, and a recalculation of the county, at once."""
    month = "2025-12"
    async with (
        platform.client(headers=clerk_headers) as clerk,
        platform.client(headers=city_headers) as city,
    ):
        for _ in range(3):
            await enrol(clerk, month)
        answers = await asyncio.gather(
            *(
                clerk.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month})
                for _ in range(4)
            ),
            *(city.post(f"{BASE}/payrolls", json={"jurisdiction": CITY, "month": month}) for _ in range(4)),
            clerk.post(f"{BASE}/recalculations", json={"jurisdiction": COUNTY, "from_month": month}),
        )
        *payrolls, recalculation = answers
        assert recalculation.status_code in (202, 409), recalculation.text
        runs: dict[str, dict[str, object]] = {}
        for scope, group in ((COUNTY, payrolls[:4]), (CITY, payrolls[4:])):
            statuses = sorted(r.status_code for r in group)
            assert statuses == [200, 200, 200, 201], [r.text for r in group]
            assert len({r.json()["id"] for r in group}) == 1  # every answer names the one run
            runs[scope] = next(r.json() for r in group if r.status_code == 201)
        entries = await regular_entries(city, month)
        assert len({e["enrolment_id"] for e in entries}) == len(entries)  # nobody paid twice
        assert len(entries) == sum(int(str(run["entries"])) for run in runs.values())
        assert {e["payroll_run_id"] for e in entries} <= {str(run["id"]) for run in runs.values()}
        ours = await regular_entries(clerk, month, COUNTY)
        assert len(ours) >= 3
