"""Amounts and months a payroll can pay are bounded at input (in process).

- A standard far beyond any plausible monthly amount (or one a multiplier makes so) is 422
  naming the field and is not recorded: a payroll never overflows the ledger (no 500).
- An enrolment starts no earlier than its program's first standard: Panjin's 792.00 has an open
  start in the sources, yet it pays no month before 2021 (the year of its document), so no dibao
  is paid back to 1900; derived standards are not known before July 2024.
- A version id begins with its jurisdiction's own prefix: a county cannot take the city's
  (``panjin-…``) and block a version the city will need.
"""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import pytest

from platformctl.testing import assert_problem
from shared.testing import ServiceInProcess, citizen_id

BASE = "/api/welfare/v1"
COUNTY = "211122"
DECISION = {"by": "盘山县民政局", "on": "2024-01-05", "reference": "盘民〔2024〕1号"}
CITATION = {"document": "测试", "article": "一"}


@pytest.fixture
def service(welfare_service: ServiceInProcess) -> ServiceInProcess:
    """Welfare in this process, what a test writes rolled back at its end."""
    return welfare_service


@pytest.fixture
async def county_admin(service: ServiceInProcess) -> dict[str, str]:
    return await service.account(
        "bounds-admin-211122",
        scopes=["welfare:read", "welfare:write", "welfare:admin"],
        jurisdictions=[COUNTY],
    )


async def versions_of(client: httpx.AsyncClient) -> list[str]:
    listing = (
        await client.get(f"{BASE}/standards/versions", params={"jurisdiction": COUNTY, "limit": 200})
    ).json()
    return [item["version_id"] for item in listing["items"]]


async def test_implausible_standards_are_refused_at_input(
    service: ServiceInProcess, county_admin: dict[str, str]
) -> None:
    async with service.client(headers=county_admin) as client:
        huge = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "panshan-huge",
                "effective_from": "2031-02-01",
                "effective_to": "2031-02-28",
                "published_on": "2030-12-01",
                "dibao": "999999999999.99",
                "dibao_citation": CITATION,
            },
        )
        problem = assert_problem(huge, 422)
        assert problem["errors"][0]["field"] == "body.dibao"
        derived = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "panshan-derived",
                "effective_from": "2031-02-01",
                "effective_to": "2031-02-28",
                "published_on": "2030-12-01",
                "dibao": "90000.00",
                "dibao_citation": CITATION,
                "tekun": {"multiplier": "100", "stated_amount": "9000000.00", "citation": CITATION},
            },
        )
        problem = assert_problem(derived, 422)
        assert problem["errors"][0]["field"] == "body.tekun.multiplier"
        assert not {"panshan-huge", "panshan-derived"} & set(await versions_of(client))
        calculation = await client.post(
            f"{BASE}/calculations",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "month": "2025-02",
                "household_size": 51,
                "per_capita_income": "0.00",
            },
        )
        assert_problem(calculation, 422)


async def test_an_enrolment_starts_in_a_month_a_standard_prices(
    service: ServiceInProcess, county_admin: dict[str, str]
) -> None:
    async with service.client(headers=county_admin) as client:
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "胡家镇"}
        )
        assert household.status_code == 201, household.text
        ancient = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "covered_members": 1,
                "per_capita_income": "0.00",
                "start_month": "1900-01",
                "decision": DECISION,
            },
        )
        problem = assert_problem(ancient, 422)
        assert problem["errors"][0]["field"] == "body.start_month"
        person = await client.post(
            f"{BASE}/persons",
            json={
                "jurisdiction": COUNTY,
                "name": "测试",
                "citizen_id": citizen_id("1950-01-01", region=COUNTY),
            },
        )
        assert person.status_code == 201, person.text
        before_july = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "tekun",
                "arrangement": "scattered",
                "jurisdiction": COUNTY,
                "person_id": person.json()["id"],
                "start_month": "2024-05",
                "decision": DECISION,
            },
        )
        assert_problem(before_july, 422)
        listing = (
            await client.get(f"{BASE}/enrolments", params={"jurisdiction": COUNTY, "limit": 200})
        ).json()
        assert all(item["start_month"] >= "2021-01" for item in listing["items"])
        in_2020 = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "covered_members": 1,
                "per_capita_income": "0.00",
                "start_month": "2020-12",
                "decision": DECISION,
            },
        )
        problem = assert_problem(in_2020, 422)
        assert "from 2021-01 on" in problem["errors"][0]["message"]


async def test_a_county_cannot_take_the_citys_version_ids(
    service: ServiceInProcess, county_admin: dict[str, str]
) -> None:
    async with service.client(headers=county_admin) as client:
        squat = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "panjin-2099",
                "effective_from": "2099-03-01",
                "effective_to": "2099-03-31",
                "published_on": "2098-12-01",
                "dibao": "900.00",
                "dibao_citation": CITATION,
            },
        )
        problem = assert_problem(squat, 409)
        assert "211100" in problem["detail"]
        assert "panjin-2099" not in await versions_of(client)


async def test_a_version_recorded_before_the_bound_is_not_applied_and_payroll_answers(
    service: ServiceInProcess, county_admin: dict[str, str]
) -> None:
    """A version above the bound recorded before amounts were bounded (written here straight to
    the table) prices no day: the payroll of a 50-member household pays at the city's standard
    instead of overflowing the ledger (no 500). Month 2023-03 of 盘山县, which no other test pays."""
    body = {
        "id": "panshan-2023-03-huge",
        "effective_from": "2023-03-01",
        "effective_to": "2023-03-31",
        "published_on": "2023-02-01",
        "dibao": {"amount": "999999999999.99", "citation": CITATION},
    }
    connection = await asyncpg.connect(service.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(
            "INSERT INTO welfare.standard_versions (id, jurisdiction, version_id, body, created_by) "
            "VALUES ($1, $2, $3, $4::jsonb, 'before the bound')",
            uuid.uuid4(),
            COUNTY,
            body["id"],
            json.dumps(body),
        )
    finally:
        await connection.close()
    async with service.client(headers=county_admin) as client:
        household = await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "沙岭镇"}
        )
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "covered_members": 50,
                "per_capita_income": "0.00",
                "start_month": "2023-03",
                "decision": DECISION,
            },
        )
        assert enrolment.status_code == 201, enrolment.text
        paid = await client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": "2023-03"})
        assert paid.status_code == 201, paid.text
        ledger = (await client.get(f"{BASE}/ledger", params={"enrolment_id": enrolment.json()["id"]})).json()
        assert [entry["amount"] for entry in ledger["items"]] == ["39600.00"]  # 792.00 × 50
        listing = (
            await client.get(f"{BASE}/standards/versions", params={"jurisdiction": COUNTY, "limit": 200})
        ).json()
        (huge,) = [v for v in listing["items"] if v["version_id"] == "panshan-2023-03-huge"]
        assert huge["status"] == "not_applied"
        current = await client.get(f"{BASE}/enrolments/{enrolment.json()['id']}")
        ended = await client.patch(
            f"{BASE}/enrolments/{enrolment.json()['id']}",
            json={"status": "ended", "end_month": "2023-03"},
            headers={"If-Match": current.headers["ETag"]},
        )
        assert ended.status_code == 200, ended.text
