"""The grading contract through the gateway with real tokens, for both cities."""

from __future__ import annotations

from typing import Any

import pytest

from appraisal.grading.example import grading_example_problems
from platformctl.testing import Platform, assert_problem

BASE = "/api/appraisal/v1"


@pytest.fixture(scope="module")
async def reader(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "appraisal-grading-reader", scopes=["appraisal:read"], jurisdictions=["211100"]
    )


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["id"]: result for result in body["results"]}


async def test_the_schemes_answer_the_specs_grading_example(
    platform: Platform, reader: dict[str, str]
) -> None:
    """The invariant the platform checks after fuzzing (appraisal.grading.example)."""
    async with platform.client(headers=reader) as client:
        assert await grading_example_problems(client=client) == []


async def test_panjin_contract_example(platform: Platform, reader: dict[str, str]) -> None:
    """The spec's example request; its inputs give 107.5 under the document (the spec's 101.5
    would need ad_hoc 4)."""
    request = {
        "scheme": "panjin",
        "subjects": [
            {
                "id": "211102",
                "base": 92.5,
                "ad_hoc": 10,
                "bonus": 4,
                "provincial_bonus": 1,
                "deductions": 0,
                "downgrades": 0,
                "veto": False,
            },
            {"id": "211103", "base": "90", "ad_hoc": "8.5"},
            {"id": "211104", "base": 95, "veto": True},
            {"id": "211122", "base": 88, "downgrades": 2},
        ],
    }
    async with platform.client(headers=reader) as client:
        response = await client.post(f"{BASE}/grading", json=request)
    assert response.status_code == 200, response.text
    results = by_id(response.json())
    assert list(results) == ["211102", "211103", "211104", "211122"]
    assert {k: results["211102"][k] for k in ("total", "rank", "grade")} == {
        "total": "107.5",
        "rank": 1,
        "grade": "A",
    }
    assert (results["211103"]["total"], results["211103"]["rank"], results["211103"]["grade"]) == (
        "98.5",
        2,
        "A",
    )
    assert (results["211104"]["rank"], results["211104"]["grade"]) == (3, "D")
    assert (results["211122"]["rank"], results["211122"]["grade"]) == (4, "C")
    doubled = next(r for r in results["211102"]["applied"] if r["rule"] == "double_counting_bonus")
    assert doubled["citation"] == "盘政办发〔2024〕5号 第十条；附件 考核内容要点 序号5、6"
    capped = next(r for r in results["211102"]["applied"] if r["rule"] == "bonus_total_cap")
    assert capped["interpretation"] == "doubled_bonus_respects_cap"


async def test_zhumadian_grades_counties_and_lists_zones_unranked(
    platform: Platform, reader: dict[str, str]
) -> None:
    counties = ["411702", *(f"4117{n}" for n in range(21, 30))]
    subjects: list[dict[str, Any]] = [
        {"id": code, "base": 95 - index, "ad_hoc": 3} for index, code in enumerate(counties)
    ]
    subjects.append({"id": "411700-Z01", "base": 99, "zone": True, "veto": True})
    async with platform.client(headers=reader) as client:
        response = await client.post(f"{BASE}/grading", json={"scheme": "zhumadian", "subjects": subjects})
    assert response.status_code == 200, response.text
    results = by_id(response.json())
    assert [results[code]["grade"] for code in counties] == ["A"] * 4 + ["B"] * 6
    assert results["411729"]["rank"] == 10
    assert (results["411700-Z01"]["rank"], results["411700-Z01"]["grade"]) == (None, None)
    assert results["411700-Z01"]["total"] == "99.0"
    zone_rule = next(r for r in results["411700-Z01"]["applied"] if r["rule"] == "zone_exclusion")
    assert zone_rule["citation"] == "驻政办〔2023〕36号 第十三条"


async def test_grading_refusals_are_problems(platform: Platform, reader: dict[str, str]) -> None:
    async with platform.client(headers=reader) as client:
        over_cap = await client.post(
            f"{BASE}/grading",
            json={"scheme": "panjin", "subjects": [{"id": "211102", "base": 90, "ad_hoc": 16}]},
        )
        unknown = await client.post(
            f"{BASE}/grading", json={"scheme": "shenyang", "subjects": [{"id": "1", "base": 1}]}
        )
        as_bool = await client.post(
            f"{BASE}/grading", json={"scheme": "panjin", "subjects": [{"id": "211102", "base": True}]}
        )
        duplicate = await client.post(
            f"{BASE}/grading",
            json={"scheme": "panjin", "subjects": [{"id": "211102", "base": 1}, {"id": "211102", "base": 2}]},
        )
    assert assert_problem(over_cap, 422)["errors"][0]["field"] == "body.subjects.0.ad_hoc"
    assert_problem(unknown, 422)
    assert_problem(as_bool, 422)
    assert assert_problem(duplicate, 422)["errors"][0]["field"] == "body.subjects.1.id"
    async with platform.client() as anonymous:
        assert_problem(
            await anonymous.post(f"{BASE}/grading", json={"scheme": "panjin", "subjects": []}), 401
        )


async def test_openapi_states_the_schemes_and_their_caps(platform: Platform) -> None:
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]  # the gateway prefixes each service's names
    assert schemas["AppraisalGradingRequest"]["discriminator"]["propertyName"] == "scheme"
    panjin = schemas["AppraisalGradingSubject_panjin"]["properties"]
    zhumadian = schemas["AppraisalGradingSubject_zhumadian"]["properties"]
    assert panjin["ad_hoc"]["anyOf"][0]["maximum"] == 15
    assert panjin["base"]["anyOf"][0]["maximum"] == 100
    assert zhumadian["ad_hoc"]["anyOf"][0]["maximum"] == 1_000_000
    assert zhumadian["provincial_bonus"]["anyOf"][0]["maximum"] == 0
    assert panjin["downgrades"]["maximum"] == 11
    assert zhumadian["downgrades"]["maximum"] == 8
    results = document["paths"]["/api/appraisal/v1/years/{year}/results"]["get"]["responses"]["200"][
        "content"
    ]
    assert set(results) == {
        "application/json",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf",
    }
    circumstance = schemas["AppraisalCircumstanceCreate"]["properties"]["circumstance"]
    if "$ref" in circumstance:  # a named enum schema
        circumstance = schemas[circumstance["$ref"].rsplit("/", 1)[1]]
    assert "panjin-8-3-9" in circumstance["enum"]
    assert "zhumadian-11-5" in circumstance["enum"]
