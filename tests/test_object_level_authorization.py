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


def citizen_id() -> str:
    serial = uuid.uuid4().int
    body = f"211102196{serial % 10}{serial % 12 + 1:02d}{serial % 28 + 1:02d}{serial % 1000:03d}"
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


# Paths whose records are not owned by a jurisdiction (plans are public to every reader).
NOT_JURISDICTION_OWNED = {
    "/api/renewal/v1/plans/{plan_id}",
    "/api/renewal/v1/plans/{plan_id}/tasks",
    "/api/renewal/v1/plans/{plan_id}/tasks/{number}",
    "/api/renewal/v1/plans/{plan_id}/status",
    "/api/renewal/v1/plans/{plan_id}/bulletins/{month}",
    "/api/renewal/v1/plans/{plan_id}/duties",
}


@pytest.fixture(scope="module")
async def document(platform: Platform) -> dict[str, Any]:
    async with platform.client() as client:
        found: dict[str, Any] = (await client.get("/openapi.json")).json()
        return found


async def test_records_of_another_county_are_not_found(platform: Platform, document: dict[str, Any]) -> None:
    table = await welfare_records(platform)
    templated = [
        path
        for path, item in document["paths"].items()
        if "get" in item and "{" in path and path.startswith("/api/") and path not in NOT_JURISDICTION_OWNED
    ]
    uncovered = [
        path
        for path in templated
        if path not in table and not path.startswith(("/api/eldercare/", "/api/appraisal/"))
    ]
    assert uncovered == [], f"add these to the object-level authorization table: {uncovered}"
    other = await platform.account(
        "ola-other-211103", scopes=["welfare:read", "welfare:write", "welfare:pii"], jurisdictions=[OTHER]
    )
    async with platform.client(headers=other) as client:
        for path, record_id in table.items():
            name = path[path.rindex("{") + 1 : -1]
            response = await client.get(path.replace("{" + name + "}", record_id))
            assert_problem(response, 404)
    owner = await platform.account("ola-owner-211102", scopes=["welfare:read"], jurisdictions=[OWNER])
    async with platform.client(headers=owner) as client:
        for path, record_id in table.items():
            name = path[path.rindex("{") + 1 : -1]
            assert (await client.get(path.replace("{" + name + "}", record_id))).status_code == 200, path
