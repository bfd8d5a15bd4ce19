"""Concurrent, repeated and queued runs book exactly what is due (through the gateway).

Runs in 兴隆台区 (211103) in 2025 (the sums count this test's enrolments only). Six dibao households of
one member are enrolled from December 2024 at an assessed income of 400.00 and paid January
and February 2025 at the city's 800.00 (400.00 each). Then:

1. a new assessment of 200.00 from January raises what is due by 400.00 per household
   (2 months × 200.00, 2,400.00 in all), and county and city clerks ask for recalculations
   of the county and of the whole city at the same moment;
2. the county's own standard of 810.00 for 2025 is entered (the service starts a
   recalculation of the county by itself) while clerks ask for county and city runs again:
   10.00 more per household and month, 120.00 in all.

Whatever runs, in whatever order, their arrears add up to 2,520.00 and every
enrolment-month is booked to exactly what is due. Requests that overlap an active run get
409 naming it; the run started by the new standard never gets 409, it queues.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from platformctl.testing import Platform, assert_problem

BASE = "/api/welfare/v1"
COUNTY = "211103"
CITY = "211100"
MONTHS = ("2025-01", "2025-02")
HOUSEHOLDS = 6
DECISION = {"by": "兴隆台区民政局", "on": "2024-11-28", "reference": "兴民低〔2024〕31号"}
CITATION = {"document": "兴政办发〔2025〕2号", "article": "一"}


@pytest.fixture(scope="module")
async def county_clerk(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "race-clerk-211103", scopes=["welfare:read", "welfare:write"], jurisdictions=[COUNTY]
    )


async def city_headers(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "race-clerk-211100", scopes=["welfare:read", "welfare:write"], jurisdictions=[CITY]
    )


@pytest.fixture(scope="module")
async def city_clerk(platform: Platform) -> dict[str, str]:
    return await city_headers(platform)


async def wait_for(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(600):
        run: dict[str, Any] = (await client.get(f"{BASE}/recalculations/{run_id}")).json()
        if run["status"] not in ("queued", "running"):
            if run["status"] != "succeeded":  # what it could not price, and why, for the report
                run["unpriced"] = (await client.get(f"{BASE}/recalculations/{run_id}/unpriced")).json()
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"recalculation {run_id} did not finish")


async def booked(client: httpx.AsyncClient, enrolments: list[str]) -> dict[tuple[str, str], Decimal]:
    """Sum of the ledger per (enrolment, month) for the given enrolments."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for enrolment in enrolments:
        ledger = (await client.get(f"{BASE}/ledger", params={"enrolment_id": enrolment, "limit": 200})).json()
        for entry in ledger["items"]:
            sums[(entry["enrolment_id"], entry["month"])] += Decimal(entry["amount"])
    return dict(sums)


async def own_arrears(client: httpx.AsyncClient, enrolments: list[str]) -> list[dict[str, Any]]:
    """The county's arrears entries of the given enrolments (other tests enrol in the county too:
    a tekun person from 2024, whom the county's 2025 standard re-prices)."""
    listed = (
        await client.get(f"{BASE}/ledger", params={"jurisdiction": COUNTY, "kind": "arrears", "limit": 200})
    ).json()
    assert listed["total"] <= 200, listed["total"]
    return [e for e in listed["items"] if e["enrolment_id"] in enrolments]


def check_answers(responses: list[httpx.Response]) -> list[str]:
    """Every answer is 202 (a run) or 409 naming an active run; returns every run id named."""
    named = []
    for response in responses:
        if response.status_code == 202:
            named.append(response.json()["id"])
            continue
        problem = assert_problem(response, 409)
        active = problem["active_job"]
        assert response.headers["Location"] == active["location"]
        assert active["location"] == f"{BASE}/recalculations/{active['id']}"
        assert active["status"] in ("queued", "running")
        named.append(active["id"])
    return named


async def test_overlapping_recalculations_book_exactly_what_is_due(
    platform: Platform, county_clerk: dict[str, str], city_clerk: dict[str, str]
) -> None:
    async with platform.client(headers=county_clerk) as clerk:
        enrolments = []
        for number in range(HOUSEHOLDS):
            household = await clerk.post(
                f"{BASE}/households", json={"jurisdiction": COUNTY, "address": f"兴隆台街道 {number} 号"}
            )
            assert household.status_code == 201, household.text
            enrolment = await clerk.post(
                f"{BASE}/enrolments",
                json={
                    "program": "dibao",
                    "jurisdiction": COUNTY,
                    "household_id": household.json()["id"],
                    "covered_members": 1,
                    "per_capita_income": "400.00",
                    "start_month": "2024-12",
                    "decision": DECISION,
                },
            )
            assert enrolment.status_code == 201, enrolment.text
            enrolments.append(enrolment.json()["id"])
        for month in MONTHS:
            payroll = await clerk.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month})
            assert payroll.status_code == 201, payroll.text
        assert set((await booked(clerk, enrolments)).values()) == {Decimal("400.00")}

        # 1. a lower income from January: 200.00 more is due per household and month
        for enrolment in enrolments:
            etag = (await clerk.get(f"{BASE}/enrolments/{enrolment}")).headers["ETag"]
            assessed = await clerk.post(
                f"{BASE}/enrolments/{enrolment}/income-assessments",
                json={
                    "per_capita_income": "200.00",
                    "effective_month": MONTHS[0],
                    "assessed_on": "2025-03-05",
                    "reference": "兴民低〔2025〕4号",
                },
                headers={"If-Match": etag},
            )
            assert assessed.status_code == 201, assessed.text

    async with (
        platform.client(headers=county_clerk) as clerk,
        platform.client(headers=city_clerk) as city,
    ):
        requests = [
            *(
                clerk.post(f"{BASE}/recalculations", json={"jurisdiction": COUNTY, "from_month": MONTHS[0]})
                for _ in range(4)
            ),
            *(
                city.post(f"{BASE}/recalculations", json={"jurisdiction": CITY, "from_month": MONTHS[0]})
                for _ in range(4)
            ),
        ]
        first = await asyncio.gather(*requests)
        named = check_answers(first)
        for run_id in set(named):
            run = await wait_for(city, run_id)
            assert run["status"] == "succeeded", run.get("unpriced", run)
        sums = await booked(city, enrolments)
        assert sum(sums.values()) == Decimal("600.00") * HOUSEHOLDS * len(MONTHS)
        assert set(sums.values()) == {Decimal("600.00")}, sums
        # booked once: one entry of 200.00 per enrolment-month, nothing over-booked and taken back
        arrears = await own_arrears(city, enrolments)
        assert sorted(e["amount"] for e in arrears) == ["200.00"] * HOUSEHOLDS * len(MONTHS)
        assert 202 in {r.status_code for r in first}

    # 2. the county's own 810.00 for 2025, entered while clerks ask for runs again
    async with (
        platform.client(headers=await platform.admin_headers()) as admin,
        platform.client(headers=county_clerk) as clerk,
        platform.client(headers=city_clerk) as city,
    ):
        version = admin.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "xinglongtai-2025",
                "effective_from": "2025-01-01",
                "effective_to": "2025-12-31",
                "published_on": "2025-03-10",
                "dibao": "810.00",
                "dibao_citation": CITATION,
                # the county's whole standard (it replaces the city's for the county's months):
                # the tekun persons, orphans and retirees other tests enrol there stay priced
                "tekun": {"multiplier": "1.8", "stated_amount": "1458.00", "citation": CITATION},
                "orphan_concentrated": {"multiplier": "3", "stated_amount": "2430.00", "citation": CITATION},
                "orphan_scattered": {"multiplier": "2.5", "stated_amount": "2025.00", "citation": CITATION},
                "retiree_1960s": {
                    "1": "713.00",
                    "2": "668.00",
                    "3": "618.00",
                    "4": "571.00",
                    "citation": CITATION,
                },
            },
        )
        manual = [
            *(
                clerk.post(f"{BASE}/recalculations", json={"jurisdiction": COUNTY, "from_month": MONTHS[0]})
                for _ in range(3)
            ),
            *(
                city.post(f"{BASE}/recalculations", json={"jurisdiction": CITY, "from_month": MONTHS[0]})
                for _ in range(3)
            ),
        ]
        added, *second = await asyncio.gather(version, *manual)
        assert added.status_code == 201, added.text
        internal = added.json()["recalculation_id"]
        assert internal is not None
        named = check_answers(second)
        for run_id in {internal, *named}:
            run = await wait_for(admin, run_id)
            assert run["status"] == "succeeded", run.get("unpriced", run)
        sums = await booked(city, enrolments)
        assert sum(sums.values()) == Decimal("610.00") * HOUSEHOLDS * len(MONTHS)
        assert set(sums.values()) == {Decimal("610.00")}, sums
        arrears = await own_arrears(city, enrolments)
        assert sum(Decimal(e["amount"]) for e in arrears) == Decimal("2520.00")


async def test_a_run_held_by_a_replica_that_died_is_taken_over_and_the_next_waits_its_turn(
    platform: Platform, migrated_database: str
) -> None:
    """盘山县 (211122), January and February 2026. A run is recorded as another replica's, with
    a lease of a few seconds that nobody renews: that replica died. While the lease holds,
    requests that overlap it get 409 naming it, a run of another county is accepted, and
    the run a new standard version starts waits in the queue. Then the lease expires: the
    service takes the run over and finishes it, and the queued run follows."""
    county, months = "211122", ("2026-01", "2026-02")
    clerk_headers = await platform.account(
        "race-clerk-211122", scopes=["welfare:read", "welfare:write"], jurisdictions=[county]
    )
    async with platform.client(headers=clerk_headers) as clerk:
        enrolments = []
        for number in range(3):
            household = await clerk.post(
                f"{BASE}/households", json={"jurisdiction": county, "address": f"胡家镇 {number} 号"}
            )
            enrolment = await clerk.post(
                f"{BASE}/enrolments",
                json={
                    "program": "dibao",
                    "jurisdiction": county,
                    "household_id": household.json()["id"],
                    "covered_members": 1,
                    "per_capita_income": "400.00",
                    "start_month": "2025-12",
                    "decision": {
                        "by": "盘山县民政局",
                        "on": "2025-11-20",
                        "reference": "盘县民低〔2025〕8号",
                    },
                },
            )
            assert enrolment.status_code == 201, enrolment.text
            enrolments.append(enrolment.json()["id"])
        for month in months:
            assert (
                await clerk.post(f"{BASE}/payrolls", json={"jurisdiction": county, "month": month})
            ).status_code == 201
        for enrolment in enrolments:
            etag = (await clerk.get(f"{BASE}/enrolments/{enrolment}")).headers["ETag"]
            assessed = await clerk.post(
                f"{BASE}/enrolments/{enrolment}/income-assessments",
                json={
                    "per_capita_income": "300.00",
                    "effective_month": months[0],
                    "assessed_on": "2026-03-02",
                    "reference": "盘县民低〔2026〕2号",
                },
                headers={"If-Match": etag},
            )
            assert assessed.status_code == 201, assessed.text

    dead_run = uuid.uuid4()
    connection = await asyncpg.connect(migrated_database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(
            "INSERT INTO welfare.recalculation_runs (id, jurisdiction, from_month, trigger, status, total, done, "
            "recalculated, changed, arrears_entries, arrears_total, unpriced, completed_batches, requested_by, "
            "attempts, lease_owner, lease_expires_at, started_at) VALUES ($1, $2, '2026-01-01', 'request', "
            "'running', 3, 0, 0, 0, 0, 0, 0, '{}', 'race-clerk-211122', 1, 'welfare@replica-that-died', "
            "now() + interval '8 seconds', now())",
            dead_run,
            county,
        )
    finally:
        await connection.close()

    async with (
        platform.client(headers=clerk_headers) as clerk,
        platform.client(headers=await city_headers(platform)) as city,
        platform.client(headers=await platform.admin_headers()) as admin,
    ):
        for client, scope in ((clerk, county), (city, CITY)):
            refused = await client.post(
                f"{BASE}/recalculations", json={"jurisdiction": scope, "from_month": "2026-01"}
            )
            problem = assert_problem(refused, 409)
            assert problem["active_job"]["id"] == str(dead_run)
            assert refused.headers["Location"] == f"{BASE}/recalculations/{dead_run}"
        elsewhere = await city.post(
            f"{BASE}/recalculations", json={"jurisdiction": COUNTY, "from_month": "2026-01"}
        )
        assert elsewhere.status_code == 202, elsewhere.text  # 兴隆台区 does not overlap 盘山县

        added = await admin.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": county,
                "version_id": "panshan-2026-02",
                "effective_from": "2026-02-01",
                "effective_to": "2026-12-31",
                "published_on": "2026-03-05",
                "dibao": "820.00",
                "dibao_citation": {"document": "盘县政办发〔2026〕3号", "article": "一"},
            },
        )
        assert added.status_code == 201, added.text
        queued = added.json()["recalculation_id"]
        behind = (await admin.get(f"{BASE}/recalculations/{queued}")).json()
        assert behind["status"] == "queued", behind
        held = (await admin.get(f"{BASE}/recalculations/{dead_run}")).json()
        assert (held["status"], held["done"], held["attempts"]) == ("running", 0, 1)

        taken_over = await wait_for(admin, str(dead_run))
        assert (taken_over["status"], taken_over["attempts"], taken_over["done"]) == ("succeeded", 2, 3)
        # it runs with the standards in force now: 100.00 × 3 households × 2 months + 20.00 × 3
        assert taken_over["arrears_total"] == "660.00"
        followed = await wait_for(admin, queued)
        assert followed["status"] == "succeeded", followed
        assert followed["started_at"] >= taken_over["finished_at"]
        assert followed["arrears_total"] == "0.00"  # nothing is left to book
        assert (await wait_for(city, elsewhere.json()["id"]))["status"] == "succeeded"
        sums = await booked(clerk, enrolments)
        assert sums == {
            (e, m): Decimal("500.00" if m == months[0] else "520.00") for e in enrolments for m in months
        }
