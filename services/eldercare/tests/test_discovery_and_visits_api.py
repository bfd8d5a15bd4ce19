"""Proactive discovery and the visit report in process (both computed in SQL)."""

from __future__ import annotations

from typing import Any

import pytest

from platformctl.testing import assert_problem
from shared.testing import ServiceInProcess, citizen_id

BASE = "/api/eldercare/v1"
DISCOVERY_COUNTY = "411723"  # 平舆县
VISIT_COUNTY = "411724"  # 正阳县


@pytest.fixture
def service(eldercare_service: ServiceInProcess) -> ServiceInProcess:
    """Eldercare in this process, what a test writes rolled back at its end."""
    return eldercare_service


async def register(
    client: Any, jurisdiction: str, birth: str, name: str, **circumstances: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/persons",
        json={
            "jurisdiction": jurisdiction,
            "name": name,
            "citizen_id": citizen_id(birth),
            "circumstances": {"effective_from": "2020-01-01", **circumstances},
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    body["etag"] = response.headers["ETag"]
    return body


@pytest.fixture
async def clerk(service: ServiceInProcess) -> dict[str, str]:
    return await service.account(
        "eldercare-clerk-411723-411724",
        scopes=["eldercare:read", "eldercare:write"],
        jurisdictions=[DISCOVERY_COUNTY, VISIT_COUNTY],
    )


async def test_discovery_finds_birthdays_and_new_circumstances_in_the_window(
    service: ServiceInProcess, clerk: dict[str, str]
) -> None:
    async with service.client(headers=clerk) as client:
        ninety = await register(client, DISCOVERY_COUNTY, "1934-04-12", "李秀英")
        eighty = await register(client, DISCOVERY_COUNTY, "1944-04-30", "王建国")
        sixty = await register(client, DISCOVERY_COUNTY, "1964-04-01", "赵丽")
        outside = await register(client, DISCOVERY_COUNTY, "1934-05-01", "钱多")
        newly_poor = await register(client, DISCOVERY_COUNTY, "1948-09-09", "孙平", dibao=False)
        changed = await client.post(
            f"{BASE}/persons/{newly_poor['id']}/circumstances",
            json={"effective_from": "2024-04-10", "dibao": True, "reference": "平民低〔2024〕7号"},
            headers={"If-Match": newly_poor["etag"]},
        )
        assert changed.status_code == 201, changed.text
        response = await client.get(
            f"{BASE}/discoveries",
            params={"jurisdiction": DISCOVERY_COUNTY, "from": "2024-04-01", "to": "2024-04-30", "limit": 200},
        )
    assert response.status_code == 200, response.text
    hits = {(hit["person_id"], hit["event"]): hit for hit in response.json()["items"]}
    assert (outside["id"], "birthday") not in hits

    turning_90 = hits[(ninety["id"], "birthday")]
    assert turning_90["event_on"] == "2024-04-12"
    assert turning_90["reason"] == "turns 90 on 2024-04-12"
    assert turning_90["citizen_id"] == ninety["citizen_id"]  # masked
    assert "*" in turning_90["citizen_id"]
    assert turning_90["items"] == [
        {
            "item": 8,
            "name": "高龄津贴",
            "change": "amount",
            "eligible_from": "2024-05-01",  # 次月起: the month after the birthday
            "note": "from age 90: 100.00 (was 60.00)",
        }
    ]

    turning_80 = hits[(eighty["id"], "birthday")]
    assert [(i["item"], i["change"], i["eligible_from"]) for i in turning_80["items"]] == [
        (8, "eligible", "2024-05-01")
    ]

    turning_60 = hits[(sixty["id"], "birthday")]
    assert [(i["item"], i["eligible_from"]) for i in turning_60["items"]] == [
        (3, "2024-04-01"),
        (4, "2024-04-01"),
        (5, "2024-04-01"),
    ]

    into_dibao = hits[(newly_poor["id"], "circumstances")]
    assert into_dibao["event_on"] == "2024-04-10"
    assert "dibao: False → True" in into_dibao["reason"]
    # item 12 is not among them: the city list is dispersed tekun who are 失能, 高龄 or 残疾
    assert {i["item"] for i in into_dibao["items"]} == {9, 11, 21}
    allowance = next(i for i in into_dibao["items"] if i["item"] == 11)
    assert allowance["eligible_from"] == "2024-05-01"  # a monthly allowance: the first whole month
    assert next(i for i in into_dibao["items"] if i["item"] == 9)["eligible_from"] == "2024-04-10"


async def test_discovery_of_a_new_severe_disability_grade(
    service: ServiceInProcess, clerk: dict[str, str]
) -> None:
    async with service.client(headers=clerk) as client:
        disabled = await register(client, DISCOVERY_COUNTY, "1945-01-15", "周强", dibao=True)
        changed = await client.post(
            f"{BASE}/persons/{disabled['id']}/circumstances",
            json={
                "effective_from": "2024-06-03",
                "dibao": True,
                "disability_grade": 1,
                "needs_long_term_care": True,
            },
            headers={"If-Match": disabled["etag"]},
        )
        assert changed.status_code == 201, changed.text
        response = await client.get(
            f"{BASE}/discoveries",
            params={"jurisdiction": "411723", "from": "2024-06-01", "to": "2024-06-30", "limit": 200},
        )
    hit = next(h for h in response.json()["items"] if h["person_id"] == disabled["id"])
    changes = {(i["item"], i["change"]) for i in hit["items"]}
    # newly eligible: 18 (both subsidies), 19 (devices), 22/23 (visits, priority admission)
    assert changes == {(18, "eligible"), (19, "eligible"), (22, "eligible"), (23, "eligible")}


async def test_a_discovery_window_is_checked(service: ServiceInProcess, clerk: dict[str, str]) -> None:
    async with service.client(headers=clerk) as client:
        backwards = await client.get(
            f"{BASE}/discoveries", params={"jurisdiction": "411723", "from": "2024-04-30", "to": "2024-04-01"}
        )
        assert assert_problem(backwards, 422)["errors"][0]["field"] == "query.to"
        too_long = await client.get(
            f"{BASE}/discoveries", params={"jurisdiction": "411723", "from": "2024-01-01", "to": "2025-06-30"}
        )
        assert_problem(too_long, 422)


async def test_persons_due_a_visit_with_none_recorded(
    service: ServiceInProcess, clerk: dict[str, str]
) -> None:
    async with service.client(headers=clerk) as client:
        alone = await register(client, VISIT_COUNTY, "1940-03-03", "吴老汉", living_arrangement="alone")
        frail = await register(client, VISIT_COUNTY, "1941-03-03", "郑奶奶", ability_level=2)
        with_family = await register(
            client, VISIT_COUNTY, "1940-03-04", "冯大爷", living_arrangement="with_family"
        )
        young = await register(client, VISIT_COUNTY, "1970-01-01", "陈中年", living_arrangement="alone")
        params: dict[str, str | int] = {"jurisdiction": VISIT_COUNTY, "month": "2024-03", "limit": 200}
        due = {
            item["person_id"]: item
            for item in (await client.get(f"{BASE}/visits/missing", params=params)).json()["items"]
        }
        assert due[alone["id"]]["groups"] == ["独居 (living alone)"]
        assert due[alone["id"]]["age"] == 83  # on 2024-03-01, before the birthday
        assert due[frail["id"]]["groups"] == ["失能 (ability level 2)"]
        assert with_family["id"] not in due
        assert young["id"] not in due  # under 60 (elderly_age)

        visit = await client.post(
            f"{BASE}/visits",
            json={
                "person_id": alone["id"],
                "visited_on": "2024-03-05",
                "visitor": "正阳县民政局 社工 刘洋",
                "method": "home",
            },
        )
        assert visit.status_code == 201, visit.text
        phoned = await client.post(
            f"{BASE}/visits",
            json={
                "person_id": frail["id"],
                "visited_on": "2024-02-28",
                "visitor": "社工 刘洋",
                "method": "phone",
            },
        )
        assert phoned.status_code == 201, phoned.text
        due = {
            item["person_id"]: item
            for item in (await client.get(f"{BASE}/visits/missing", params=params)).json()["items"]
        }
        assert alone["id"] not in due
        assert (
            due[frail["id"]]["last_visited_on"] == "2024-02-28"
        )  # a February visit does not count for March

        visits = (await client.get(f"{BASE}/persons/{alone['id']}/visits")).json()
        assert [(v["visited_on"], v["method"]) for v in visits["items"]] == [("2024-03-05", "home")]
        future = await client.post(
            f"{BASE}/visits", json={"person_id": alone["id"], "visited_on": "2999-01-01", "visitor": "x"}
        )
        assert assert_problem(future, 422)["errors"][0]["field"] == "body.visited_on"
        assert_problem(
            await client.get(f"{BASE}/visits/missing", params={"jurisdiction": "411702", "month": "2024-03"}),
            403,
        )
        assert_problem(
            await client.get(
                f"{BASE}/visits/missing", params={"jurisdiction": VISIT_COUNTY, "month": "2024-13"}
            ),
            422,
        )
