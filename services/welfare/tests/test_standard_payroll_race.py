"""A standard version and a payroll of the same month sent at once (through the gateway).

盘山县 (211122), the months of 2022, which no other test pays. One dibao household (one
member, assessed income 0.00) is enrolled from January 2022. Each round adds the county's
own version for one month (closed to that month, 2000.00 + round) and asks for that month's
payroll at the same moment. Whatever order they commit in, every month ends up booked at the
new standard: paid at it, or paid at the old one and corrected by the recalculation the
version started. The enrolment is ended after the rounds, so later payrolls of the county
leave it alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx

from platformctl.testing import Platform

BASE = "/api/welfare/v1"
COUNTY = "211122"
DECISION = {"by": "盘山县民政局", "on": "2021-12-20", "reference": "盘民低〔2021〕40号"}
CITATION = {"document": "盘山政办发〔2022〕1号", "article": "一"}
MONTHS = [f"2022-{number:02d}" for number in range(1, 13)]


async def wait_for(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(600):
        run: dict[str, Any] = (await client.get(f"{BASE}/recalculations/{run_id}")).json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"recalculation {run_id} did not finish")


def last_day(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    following = f"{year + number // 12}-{number % 12 + 1:02d}-01"
    return (dt.date.fromisoformat(following) - dt.timedelta(days=1)).isoformat()


async def test_every_month_paid_during_a_new_version_ends_at_the_new_standard(platform: Platform) -> None:
    headers = await platform.account(
        "standards-race-211122",
        scopes=["welfare:read", "welfare:write", "welfare:admin"],
        jurisdictions=[COUNTY],
    )
    async with platform.client(headers=headers) as client:
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "坝墙子镇"}
        )
        assert household.status_code == 201, household.text
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "covered_members": 1,
                "per_capita_income": "0.00",
                "start_month": MONTHS[0],
                "decision": DECISION,
            },
        )
        assert enrolment.status_code == 201, enrolment.text
        enrolment_id = enrolment.json()["id"]
        due: dict[str, Decimal] = {}
        runs = []
        for number, month in enumerate(MONTHS):
            amount = f"{2000 + number}.00"
            due[month] = Decimal(amount)
            version, payroll = await asyncio.gather(
                client.post(
                    f"{BASE}/standards/versions",
                    json={
                        "jurisdiction": COUNTY,
                        "version_id": f"ps-race-{month}",
                        "effective_from": f"{month}-01",
                        "effective_to": last_day(month),
                        "published_on": "2021-12-01",
                        "dibao": amount,
                        "dibao_citation": CITATION,
                    },
                ),
                client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month}),
            )
            assert version.status_code == 201, version.text
            assert payroll.status_code in (200, 201, 409), payroll.text
            if version.json()["recalculation_id"] is not None:
                runs.append(version.json()["recalculation_id"])
            if payroll.status_code == 409:  # the version kept the area busy too long: ask again
                again = await client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month})
                assert again.status_code in (200, 201), again.text
        for run in runs:
            finished = await wait_for(client, run)
            unpriced = (await client.get(f"{BASE}/recalculations/{run}/unpriced")).json()
            assert finished["status"] == "succeeded", (finished, unpriced)
        booked: dict[str, Decimal] = defaultdict(Decimal)
        ledger = (
            await client.get(f"{BASE}/ledger", params={"enrolment_id": enrolment_id, "limit": 200})
        ).json()
        for entry in ledger["items"]:
            booked[entry["month"]] += Decimal(entry["amount"])
        assert dict(booked) == due
        current = await client.get(f"{BASE}/enrolments/{enrolment_id}")
        ended = await client.patch(
            f"{BASE}/enrolments/{enrolment_id}",
            json={"status": "ended", "end_month": MONTHS[-1]},
            headers={"If-Match": current.headers["ETag"]},
        )
        assert ended.status_code == 200, ended.text
