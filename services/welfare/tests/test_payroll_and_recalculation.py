"""Payroll once per month, and arrears when a higher standard is entered after months were paid.

Runs in 大洼区 (211104) in 2025, which no other test touches: the county gets its own
792.00 standard for 2025, July to September are paid, then 800.00 is entered from July.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from platformctl.testing import Platform, assert_problem

BASE = "/api/welfare/v1"
COUNTY = "211104"
DECISION = {"by": "大洼区民政局", "on": "2024-12-28", "reference": "大民低〔2024〕7号"}
CITATION = {"document": "大政办发〔2025〕1号", "article": "一"}


async def wait_for(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(300):
        run: dict[str, Any] = (await client.get(f"{BASE}/recalculations/{run_id}")).json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError("recalculation did not finish")


@pytest.fixture(scope="module")
async def county_clerk(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "clerk-211104", scopes=["welfare:read", "welfare:write"], jurisdictions=[COUNTY]
    )


async def enrol(client: httpx.AsyncClient, members: int, income: str) -> str:
    household = await client.post(f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "榆树街道"})
    enrolment = await client.post(
        f"{BASE}/enrolments",
        json={
            "program": "dibao",
            "jurisdiction": COUNTY,
            "household_id": household.json()["id"],
            "covered_members": members,
            "per_capita_income": income,
            "start_month": "2025-01",
            "decision": DECISION,
        },
    )
    assert enrolment.status_code == 201, enrolment.text
    return str(enrolment.json()["id"])


async def test_payroll_then_a_higher_standard_books_arrears(
    platform: Platform, county_clerk: dict[str, str]
) -> None:
    admin = await platform.admin_headers()
    async with platform.client(headers=admin) as client:
        first = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "dawa-2025-01",
                "effective_from": "2025-01-01",
                "published_on": "2024-12-20",
                "dibao": "792.00",
                "dibao_citation": CITATION,
            },
        )
        assert first.status_code == 201, first.text
        assert first.json()["recalculation_id"] is None
    async with platform.client(headers=county_clerk) as client:
        three = await enrol(client, 3, "500.00")
        two = await enrol(client, 2, "0.00")
        for month in ("2025-07", "2025-08"):
            payroll = await client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month})
            assert payroll.status_code == 201, payroll.text
            assert payroll.json()["entries"] == 2
            assert payroll.json()["total"] == "2460.00"  # (792 − 500) × 3 + 792 × 2
        again = await client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": "2025-07"})
        assert again.status_code == 200
        assert (
            again.json()["id"]
            == (
                await client.get(
                    f"{BASE}/ledger", params={"jurisdiction": COUNTY, "month": "2025-07", "kind": "regular"}
                )
            ).json()["items"][0]["payroll_run_id"]
        )
        # many clerks pressing the button at once still write one entry per enrolment
        september = await asyncio.gather(
            *(
                client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": "2025-09"})
                for _ in range(8)
            )
        )
        assert sorted(r.status_code for r in september) == [200] * 7 + [201]
        ledger = (
            await client.get(
                f"{BASE}/ledger", params={"jurisdiction": COUNTY, "kind": "regular", "limit": 200}
            )
        ).json()
        assert ledger["total"] == 6

    async with platform.client(headers=admin) as client:
        raised = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "dawa-2025-07",
                "effective_from": "2025-07-01",
                "published_on": "2025-09-10",
                "dibao": "800.00",
                "dibao_citation": CITATION,
            },
        )
        assert raised.status_code == 201, raised.text
        run_id = raised.json()["recalculation_id"]
        assert run_id is not None
        run = await wait_for(client, run_id)
        assert run["status"] == "succeeded", run
        assert run["trigger"] == "standard_added"
        assert run["arrears_entries"] == 6
        assert Decimal(run["arrears_total"]) == Decimal("8.00") * 5 * 3  # 8 × members × 3 months
        standards = (
            await client.get(f"{BASE}/standards", params={"jurisdiction": COUNTY, "on": "2025-06-30"})
        ).json()
        assert standards["dibao"] == "792.00"

    async with platform.client(headers=county_clerk) as client:
        arrears = (
            await client.get(f"{BASE}/ledger", params={"recalculation_id": run_id, "limit": 200})
        ).json()
        amounts = {(e["enrolment_id"], e["month"]): e["amount"] for e in arrears["items"]}
        for month in ("2025-07", "2025-08", "2025-09"):
            assert amounts[(three, month)] == "24.00"
            assert amounts[(two, month)] == "16.00"
        assert all(e["corrects_entry_id"] for e in arrears["items"])
        # asking again books nothing, even many times at once: while a run is active the
        # others are told which (409), and whatever ran books nothing more
        repeats = await asyncio.gather(
            *(
                client.post(f"{BASE}/recalculations", json={"jurisdiction": COUNTY, "from_month": "2025-07"})
                for _ in range(4)
            )
        )
        assert {r.status_code for r in repeats} <= {202, 409}
        assert 202 in {r.status_code for r in repeats}
        started = {r.json()["id"] for r in repeats if r.status_code == 202}
        for refused in (r for r in repeats if r.status_code == 409):
            assert_problem(refused, 409)
            assert refused.json()["active_job"]["id"] in started
            assert (
                refused.headers["Location"] == f"{BASE}/recalculations/{refused.json()['active_job']['id']}"
            )
        finished = [await wait_for(client, run_id) for run_id in started]
        assert all(run["status"] == "succeeded" for run in finished)
        assert sum(int(run["arrears_entries"]) for run in finished) == 0
        total = (
            await client.get(f"{BASE}/ledger", params={"jurisdiction": COUNTY, "kind": "arrears"})
        ).json()
        assert total["total"] == 6

    other = await platform.account(
        "clerk-211103", scopes=["welfare:read", "welfare:write"], jurisdictions=["211103"]
    )
    async with platform.client(headers=other) as client:
        theirs = (await client.get(f"{BASE}/ledger", params={"recalculation_id": run_id})).json()
        assert theirs["total"] == 0
        assert_problem(await client.get(f"{BASE}/recalculations/{run_id}"), 404)
        assert_problem(
            await client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": "2025-10"}), 403
        )


async def test_bad_standard_versions_are_refused(platform: Platform, county_clerk: dict[str, str]) -> None:
    async with platform.client(headers=county_clerk) as client:
        assert_problem(await client.post(f"{BASE}/standards/versions", json={}), 403)  # needs welfare:admin
    async with platform.client(headers=await platform.admin_headers()) as client:
        wrong = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": "211103",
                "version_id": "xlt-bad",
                "effective_from": "2031-01-01",
                "published_on": "2030-12-01",
                "dibao": "810.00",
                "dibao_citation": CITATION,
                "tekun": {"multiplier": "1.8", "stated_amount": "1450.00", "citation": CITATION},
            },
        )
        problem = assert_problem(wrong, 422)
        assert problem["errors"][0]["field"] == "body.tekun.stated_amount"
        assert "1458.00" in problem["errors"][0]["message"]
        duplicate = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": "211100",
                "version_id": "panjin-2024-4",
                "effective_from": "2031-01-01",
                "published_on": "2030-12-01",
                "dibao": "810.00",
                "dibao_citation": CITATION,
            },
        )
        assert_problem(duplicate, 409)
        listing = (await client.get(f"{BASE}/standards/versions", params={"jurisdiction": "211103"})).json()
        assert all(v["version_id"] != "xlt-bad" for v in listing["items"])
