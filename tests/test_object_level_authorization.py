"""OWASP API1 (object-level authorization), table-driven over the merged OpenAPI.

Records are created in 双台子区 (211102); a clerk of 兴隆台区 (211103) then calls every
GET operation whose path names a record, with that record's id: each must answer 404
(the record is not revealed). A new endpoint with an id in its path must be added to
the table, or this test fails.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from platformctl.testing import Platform, assert_problem

OWNER = "211102"
OTHER = "211103"
DECISION = {"by": "双台子区民政局", "on": "2024-06-20", "reference": "双民〔2024〕1号"}


def citizen_id(region: str = "211102", decade: str = "196") -> str:
    serial = uuid.uuid4().int
    body = f"{region}{decade}{serial % 10}{serial % 12 + 1:02d}{serial % 28 + 1:02d}{serial % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


async def welfare_records(platform: Platform) -> dict[str, str]:
    headers = await platform.account(
        "ola-owner-211102", scopes=["welfare:read", "welfare:write"], jurisdictions=[OWNER]
    )
    async with platform.client(headers=headers) as client:
        household = (
            await client.post("/api/welfare/v1/households", json={"jurisdiction": OWNER, "address": "x"})
        ).json()
        person = (
            await client.post(
                "/api/welfare/v1/persons",
                json={"jurisdiction": OWNER, "name": "赵六", "citizen_id": citizen_id()},
            )
        ).json()
        enrolment = (
            await client.post(
                "/api/welfare/v1/enrolments",
                json={
                    "program": "tekun",
                    "jurisdiction": OWNER,
                    "person_id": person["id"],
                    "start_month": "2024-07",
                    "decision": DECISION,
                },
            )
        ).json()
        payroll = (
            await client.post("/api/welfare/v1/payrolls", json={"jurisdiction": OWNER, "month": "2033-01"})
        ).json()
        run = (
            await client.post(
                "/api/welfare/v1/recalculations", json={"jurisdiction": OWNER, "from_month": "2033-01"}
            )
        ).json()
    return {
        "/api/welfare/v1/households/{household_id}": household["id"],
        "/api/welfare/v1/persons/{person_id}": person["id"],
        "/api/welfare/v1/enrolments/{enrolment_id}": enrolment["id"],
        "/api/welfare/v1/payrolls/{run_id}": payroll["id"],
        "/api/welfare/v1/recalculations/{run_id}": run["id"],
    }


async def eldercare_records(platform: Platform) -> dict[str, str]:
    headers = await platform.account(
        "ola-owner-411702", scopes=["eldercare:read", "eldercare:write"], jurisdictions=["411702"]
    )
    async with platform.client(headers=headers) as client:
        person = await client.post(
            "/api/eldercare/v1/persons",
            json={
                "jurisdiction": "411702",
                "name": "钱七",
                "citizen_id": citizen_id("411702", "194"),
                "circumstances": {"effective_from": "2024-01-01", "living_arrangement": "alone"},
            },
        )
        assert person.status_code == 201, person.text
        for month in ("2024-03", "2024-04"):  # snapshots, so the person's changes can be read
            snapshot = await client.post(
                "/api/eldercare/v1/snapshots", json={"jurisdiction": "411702", "month": month}
            )
            assert snapshot.status_code in (200, 201, 202), snapshot.text
    person_id = person.json()["id"]
    return {
        "/api/eldercare/v1/persons/{person_id}": person_id,
        "/api/eldercare/v1/persons/{person_id}/circumstances": person_id,
        "/api/eldercare/v1/persons/{person_id}/snapshots": person_id,
        "/api/eldercare/v1/persons/{person_id}/changes?month=2024-04": person_id,
        "/api/eldercare/v1/persons/{person_id}/visits": person_id,
    }


# Paths whose records are not owned by a jurisdiction: plans are public to every reader, and
# each county publishes its service catalogue (驻政办〔2023〕35号 二（一）1).
NOT_JURISDICTION_OWNED = {
    "/api/eldercare/v1/catalogues/{jurisdiction}",
    "/api/eldercare/v1/catalogues/{jurisdiction}/overrides/versions",
    "/api/renewal/v1/plans/{plan_id}",
    "/api/renewal/v1/plans/{plan_id}/tasks",
    "/api/renewal/v1/plans/{plan_id}/tasks/{number}",
    "/api/renewal/v1/plans/{plan_id}/status",
    "/api/renewal/v1/plans/{plan_id}/bulletins/{month}",
    "/api/renewal/v1/plans/{plan_id}/duties",
}


def fill(path: str, record_id: str) -> str:
    start, end = path.index("{"), path.index("}")
    return path[:start] + record_id + path[end + 1 :]


@pytest.fixture(scope="module")
async def document(platform: Platform) -> dict[str, Any]:
    async with platform.client() as client:
        found: dict[str, Any] = (await client.get("/openapi.json")).json()
        return found


async def test_records_of_another_county_are_not_found(platform: Platform, document: dict[str, Any]) -> None:
    table = await welfare_records(platform) | await eldercare_records(platform)
    templated = [
        path
        for path, item in document["paths"].items()
        if "get" in item and "{" in path and path.startswith("/api/") and path not in NOT_JURISDICTION_OWNED
    ]
    covered = {path.split("?")[0] for path in table}
    uncovered = [path for path in templated if path not in covered and not path.startswith("/api/appraisal/")]
    assert uncovered == [], f"add these to the object-level authorization table: {uncovered}"
    other = await platform.account(
        "ola-other-211103-411721",
        scopes=[
            "welfare:read",
            "welfare:write",
            "welfare:pii",
            "eldercare:read",
            "eldercare:write",
            "eldercare:pii",
        ],
        jurisdictions=[OTHER, "411721"],
    )
    async with platform.client(headers=other) as client:
        for path, record_id in table.items():
            assert_problem(await client.get(fill(path, record_id)), 404)
    owner = await platform.account(
        "ola-owner-both", scopes=["welfare:read", "eldercare:read"], jurisdictions=[OWNER, "411702"]
    )
    async with platform.client(headers=owner) as client:
        for path, record_id in table.items():
            assert (await client.get(fill(path, record_id))).status_code == 200, path
