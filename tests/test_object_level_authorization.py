"""OWASP API1 (object-level authorization), table-driven over the merged OpenAPI.

Records are created in 双台子区 (211102) and 驿城区 (411702, including a whole appraisal year
up to its rectification report); a user of 兴隆台区 (211103) and 西平县 (411721) then calls
every GET operation whose path names a record, with that record's id: each must answer 404
(the record is not revealed), while the owner gets 200. The appraisal year itself belongs
to its city, and so does a renewal plan with its tasks, reports, duties, absences, status
and bulletins: staff of another city do not find any of their paths. A new endpoint with an
id in its path must be added to the table, or this test fails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from platformctl.testing import Platform, assert_problem
from shared.testing import citizen_id

OWNER = "211102"
OTHER = "211103"
DECISION = {"by": "双台子区民政局", "on": "2024-06-20", "reference": "双民〔2024〕1号"}


def created(response: httpx.Response) -> dict[str, Any]:
    """The record a write made (201), or the latest payroll when nothing was left to pay (200)."""
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def welfare_records(platform: Platform) -> dict[str, str]:
    headers = await platform.account(
        "ola-owner-211102", scopes=["welfare:read", "welfare:write"], jurisdictions=[OWNER]
    )
    async with platform.client(headers=headers) as client:
        household = created(
            await client.post("/api/welfare/v1/households", json={"jurisdiction": OWNER, "address": "x"})
        )
        person = created(
            await client.post(
                "/api/welfare/v1/persons",
                json={
                    "jurisdiction": OWNER,
                    "name": "赵六",
                    "citizen_id": citizen_id("1961-04-08", region=OWNER),
                },
            )
        )
        enrolment = created(
            await client.post(
                "/api/welfare/v1/enrolments",
                json={
                    "program": "tekun",
                    "arrangement": "scattered",
                    "jurisdiction": OWNER,
                    "person_id": person["id"],
                    "start_month": "2024-07",
                    "decision": DECISION,
                },
            )
        )
        payroll = created(
            await client.post("/api/welfare/v1/payrolls", json={"jurisdiction": OWNER, "month": "2024-07"})
        )
        # a run of another test over an overlapping area (the city) may still be going: 409
        # names it; asked again once it has ended
        for _ in range(300):
            asked = await client.post(
                "/api/welfare/v1/recalculations", json={"jurisdiction": OWNER, "from_month": "2033-01"}
            )
            if asked.status_code != 409:
                break
            await asyncio.sleep(0.2)
        assert asked.status_code == 202, asked.text
        run = asked.json()
    return {
        path: fill(path, record_id)
        for path, record_id in {
            "/api/welfare/v1/households/{household_id}": household["id"],
            "/api/welfare/v1/persons/{person_id}": person["id"],
            "/api/welfare/v1/enrolments/{enrolment_id}": enrolment["id"],
            "/api/welfare/v1/payrolls/{run_id}": payroll["id"],
            "/api/welfare/v1/recalculations/{run_id}": run["id"],
            "/api/welfare/v1/recalculations/{run_id}/unpriced": run["id"],
        }.items()
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
                "citizen_id": citizen_id("1943-06-21", region="411702"),
                "circumstances": {"effective_from": "2024-01-01", "living_arrangement": "alone"},
            },
        )
        assert person.status_code == 201, person.text
        for month in ("2024-03", "2024-04"):  # snapshots, so the person's changes can be read
            snapshot = await client.post(
                "/api/eldercare/v1/snapshots", json={"jurisdiction": "411702", "month": month}
            )
            assert snapshot.status_code == 202, snapshot.text
            for _ in range(600):  # a month is a run: the next one waits until it has ended
                run = (await client.get(snapshot.headers["Location"])).json()
                if run["status"] not in ("queued", "running"):
                    break
                await asyncio.sleep(0.1)
    person_id = person.json()["id"]
    return (
        {"/api/eldercare/v1/snapshots/{run_id}": f"/api/eldercare/v1/snapshots/{run['id']}"}
        | {
            path: fill(path, person_id)
            for path in (
                "/api/eldercare/v1/persons/{person_id}",
                "/api/eldercare/v1/persons/{person_id}/circumstances",
                "/api/eldercare/v1/persons/{person_id}/snapshots",
                "/api/eldercare/v1/persons/{person_id}/changes",
                "/api/eldercare/v1/persons/{person_id}/visits",
                "/api/eldercare/v1/persons/{person_id}/evaluation",
            )
        }
        | {
            "/api/eldercare/v1/persons/{person_id}/changes": f"/api/eldercare/v1/persons/{person_id}/changes?month=2024-04"
        }
    )


async def appraisal_records(platform: Platform) -> tuple[dict[str, str], dict[str, str]]:
    """A Zhumadian year of 驿城区 (411702) from opening to its rectification report: the paths
    of its own records, and the paths of the year (owned by the city)."""
    rw = ["appraisal:read", "appraisal:write"]
    city = await platform.account(
        "ola-city-411700", scopes=[*rw, "appraisal:admin"], jurisdictions=["411700"]
    )
    county = await platform.account("ola-county-411702", scopes=rw, jurisdictions=["411702"])
    years = f"/api/appraisal/v1/years/{APPRAISAL_YEAR}"
    subject = f"{years}/subjects/411702"
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()

    async def post(headers: dict[str, str], url: str, **kwargs: Any) -> dict[str, Any]:
        async with platform.client(headers=headers) as client:
            response = await client.post(url, **kwargs)
        assert response.status_code in (200, 201), response.text
        found: dict[str, Any] = response.json()
        return found

    async def move(to: str, **extra: Any) -> None:
        await post(city, f"{years}/transitions", json={"to": to, **extra})

    await post(city, "/api/appraisal/v1/years", json={"scheme": "zhumadian", "year": APPRAISAL_YEAR})
    await post(
        city,
        f"{years}/indicators",
        json={
            "code": "basic",
            "name": "基础工作",
            "content_area": 1,
            "max_points": 100,
            "department": "市市场监管局",
        },
    )
    entry = await post(
        city,
        f"{years}/score-entries",
        json={"subject": "411702", "indicator": "basic", "points": "90", "method": "materials_review"},
    )
    await move("mid_year_review")
    await post(
        city,
        f"{subject}/mid-year-review",
        json={"reviewed_on": yesterday, "key_tasks": "重点任务", "last_year_rectified": True},
    )
    await move("status_evaluation")
    await post(
        city,
        f"{subject}/status-evaluation",
        json={
            "satisfaction": "86.5",
            "food_sampling_pass_rate": 98.7,
            "farm_produce_monitoring_pass_rate": "99.1",
        },
    )
    await move("self_evaluation")
    await post(
        county,
        f"{subject}/self-evaluation",
        json={"statement": "落实属地管理责任", "items": [{"indicator": "basic", "points": 60}]},
    )
    evidence = await post(
        county,
        f"{subject}/evidence",
        files={"file": ("自评报告.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
        data={"purpose": "self_evaluation"},
    )
    await move("department_review")
    await move("comprehensive_evaluation")
    await post(city, f"{years}/evaluation")
    await move("published", effective_on=yesterday)
    await move("rectification")
    await post(
        county,
        f"{subject}/rectification",
        json={
            "summary": "逐项整改",
            "measures": [{"measure": "补齐", "due_on": "2031-06-30"}],
            "submitted_on": yesterday,
        },
    )
    own: dict[str, str] = {}
    of_the_city: dict[str, str] = {}
    values = {
        "{year}": str(APPRAISAL_YEAR),
        "{subject}": "411702",
        "{entry_id}": entry["id"],
        "{evidence_id}": evidence["id"],
    }
    async with platform.client() as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    for path, item in paths.items():
        if not path.startswith("/api/appraisal/v1/years/") or "get" not in item:
            continue
        url = path
        for name, value in values.items():
            url = url.replace(name, value)
        # Other tests on the shared platform (fuzzing) may open the same year for Panjin.
        url = f"{url}?scheme=zhumadian"
        (own if "{subject}" in path else of_the_city)[path] = url
    return own, of_the_city


async def renewal_records(platform: Platform) -> dict[str, tuple[str, str]]:
    """Every GET path under a renewal plan → (its URL, the city that owns the plan): the Panjin
    plan (盘政发〔2024〕4号, 211100) with a report filed by its lead unit of task 25
    (市卫生健康委), and for what only a Zhumadian plan has (its county assessment scheme),
    驻政〔2023〕23号 (411700)."""
    unit = await platform.account(
        "ola-panjin-health",
        scopes=["renewal:read", "renewal:write"],
        units=["市卫生健康委"],
        jurisdictions=["211100"],
    )
    panjin = "panjin-2024-equipment-renewal"
    async with platform.client(headers=unit) as client:
        report = await client.post(
            f"/api/renewal/v1/plans/{panjin}/tasks/25/reports",
            json={"period": "2025-01", "narrative": "医疗装备更新"},
        )
        assert report.status_code == 201, report.text
        paths = (await client.get("/openapi.json")).json()["paths"]
    values = {"{number}": "25", "{report_id}": report.json()["id"], "{month}": "2025-01"}
    only_zhumadian = {"/api/renewal/v1/plans/{plan_id}/county-assessment"}
    found: dict[str, tuple[str, str]] = {}
    for path, item in paths.items():
        if path.startswith("/api/renewal/v1/plans/{plan_id}") and "get" in item:
            plan, city = (
                ("zhumadian-2023-digital-transformation", "411700")
                if path in only_zhumadian
                else (panjin, "211100")
            )
            url = path.replace("{plan_id}", plan)
            for name, value in values.items():
                url = url.replace(name, value)
            found[path] = (url, city)
    return found


def webhook_paths(document: dict[str, Any]) -> list[str]:
    return [
        path
        for path, item in document["paths"].items()
        if "/webhook-subscriptions/{subscription_id}" in path and "get" in item
    ]


async def api_client(platform: Platform, service: str) -> dict[str, str]:
    client_id = f"ola-hooks-{service}-{uuid.uuid4().hex[:6]}"
    async with platform.client(headers=await platform.admin_headers()) as client:
        created = await client.post(
            "/auth/admin/clients",
            json={
                "client_id": client_id,
                "name": "订阅",
                "scopes": [f"{service}:read"],
                "jurisdictions": ["*"],
            },
        )
        assert created.status_code == 201, created.text
        token = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": created.json()["client_secret"],
            },
        )
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_a_webhook_subscription_is_found_by_its_owner_only(
    platform: Platform, document: dict[str, Any]
) -> None:
    """A subscription belongs to the API client that made it: another client with the same
    grants does not find it, or its deliveries (404)."""
    paths = webhook_paths(document)
    assert len(paths) >= 8
    for service in ("welfare", "eldercare", "appraisal", "renewal"):
        owner, other = await api_client(platform, service), await api_client(platform, service)
        async with platform.client(headers=owner) as client:
            made = await client.post(
                f"/api/{service}/v1/webhook-subscriptions", json={"url": "https://1.1.1.1/ola", "types": []}
            )
            assert made.status_code == 201, made.text
        urls = {
            path: path.replace("{subscription_id}", made.json()["id"])
            for path in paths
            if path.startswith(f"/api/{service}/")
        }
        async with platform.client(headers=other) as client:
            for url in urls.values():
                assert_problem(await client.get(url), 404)
        async with platform.client(headers=owner) as client:
            for path, url in urls.items():
                assert (await client.get(url)).status_code == 200, path


# Paths whose records are not owned by a jurisdiction: each county publishes its service
# catalogue (驻政办〔2023〕35号 二（一）1).
NOT_JURISDICTION_OWNED = {
    "/api/eldercare/v1/catalogues/{jurisdiction}",
    "/api/eldercare/v1/catalogues/{jurisdiction}/overrides/versions",
    "/api/eldercare/v1/catalogues/{jurisdiction}/county-lists",
    "/api/eldercare/v1/catalogues/{jurisdiction}/versions",
    "/api/appraisal/v1/schemes/{scheme}",
    "/api/appraisal/v1/schemes/{scheme}/versions",
    "/api/appraisal/v1/schemes/{scheme}/versions/{version}",
}
APPRAISAL_YEAR = 2160


def fill(path: str, record_id: str) -> str:
    start, end = path.index("{"), path.index("}")
    return path[:start] + record_id + path[end + 1 :]


@pytest.fixture(scope="module")
async def document(platform: Platform) -> dict[str, Any]:
    async with platform.client() as client:
        found: dict[str, Any] = (await client.get("/openapi.json")).json()
        return found


async def test_records_of_another_county_are_not_found(platform: Platform, document: dict[str, Any]) -> None:
    appraisal, appraisal_year = await appraisal_records(platform)
    renewal_plan = await renewal_records(platform)
    table = await welfare_records(platform) | await eldercare_records(platform) | appraisal
    templated = [
        path
        for path, item in document["paths"].items()
        if "get" in item and "{" in path and path.startswith("/api/") and path not in NOT_JURISDICTION_OWNED
    ]
    hooks = webhook_paths(document)
    uncovered = [
        path
        for path in templated
        if path not in table and path not in appraisal_year and path not in renewal_plan and path not in hooks
    ]
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
            "appraisal:read",
            "appraisal:write",
        ],
        jurisdictions=[OTHER, "411721"],
    )
    async with platform.client(headers=other) as client:
        for url in table.values():
            assert_problem(await client.get(url), 404)
    owner = await platform.account(
        "ola-owner-both",
        scopes=["welfare:read", "eldercare:read", "appraisal:read"],
        jurisdictions=[OWNER, "411702"],
    )
    async with platform.client(headers=owner) as client:
        for path, url in table.items():
            assert (await client.get(url)).status_code == 200, path
    # the year itself belongs to 驻马店市: Panjin staff do not find it; its own city staff do
    panjin = await platform.account(
        "ola-panjin-211100", scopes=["appraisal:read", "renewal:read"], jurisdictions=["211100"]
    )
    zhumadian = await platform.account(
        "ola-zhumadian-411700", scopes=["appraisal:read", "renewal:read"], jurisdictions=["411700"]
    )
    assert len(appraisal_year) > 10
    async with platform.client(headers=panjin) as foreign, platform.client(headers=zhumadian) as home:
        for path, url in appraisal_year.items():
            assert_problem(await foreign.get(url), 404)
            assert (await home.get(url)).status_code == 200, path
    # a renewal plan belongs to its city: the other city's staff do not find it; its own do
    assert len(renewal_plan) >= 8
    async with (
        platform.client(headers=panjin) as in_panjin,
        platform.client(headers=zhumadian) as in_zhumadian,
    ):
        for path, (url, city) in renewal_plan.items():
            home, foreign = (in_panjin, in_zhumadian) if city == "211100" else (in_zhumadian, in_panjin)
            assert_problem(await foreign.get(url), 404)
            assert (await home.get(url)).status_code == 200, path
