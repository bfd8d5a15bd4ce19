"""Renewal respects jurisdiction (in process, with tokens as the gateway signs them).

A plan belongs to its city (盘政发〔2024〕4号 to 盘锦市 211100; 驻政〔2023〕23号 to 驻马店市
411700). A unit belongs to its city's unit register: a Zhumadian account whose unit is named
市工业和信息化局 is not Panjin's 市工业和信息化局. Staff of another city do not find the plan
(404, as the other services answer for records outside the caller's area), so they can
neither file reports into it nor accept or lock its reports, nor set its duties; staff of
the plan's counties read it (they implement every task: "以下均需各县区政府、经济区管委会落实")
but only the city's plan administrators set its duties and record leader absences.
"""

from __future__ import annotations

import pytest

from platformctl.testing import assert_problem
from shared.testing import ServiceInProcess

BASE = "/api/renewal/v1"
PANJIN = "panjin-2024-equipment-renewal"
ZHUMADIAN = "zhumadian-2023-digital-transformation"
# 盘政发〔2024〕4号 二（一）1 牵头单位：市工业和信息化局
TASK = 1
UNIT = "市工业和信息化局"  # a unit of the Panjin register and, by the same name, of the Zhumadian one
RW = ["renewal:read", "renewal:write"]
REPORT = {"period": "2025-02", "narrative": "工业互联网标识解析节点建设进展"}


@pytest.fixture
def service(renewal_service: ServiceInProcess) -> ServiceInProcess:
    """Renewal in this process, what a test writes rolled back at its end."""
    return renewal_service


@pytest.fixture
async def users(service: ServiceInProcess) -> dict[str, dict[str, str]]:
    return {
        "panjin_unit": await service.account(
            "jur-panjin-miit", scopes=RW, units=[UNIT], jurisdictions=["211100"]
        ),
        "zhumadian_unit": await service.account(
            "jur-zhumadian-miit", scopes=RW, units=[UNIT], jurisdictions=["411700"]
        ),
        "zhumadian_admin": await service.account(
            "jur-zhumadian-admin", scopes=[*RW, "renewal:admin"], jurisdictions=["411700"]
        ),
        "panjin_county_admin": await service.account(
            "jur-211102-admin", scopes=[*RW, "renewal:admin"], jurisdictions=["211102"]
        ),
        "panjin_county_unit": await service.account(
            "jur-211102-miit", scopes=RW, units=[UNIT], jurisdictions=["211102"]
        ),
        "everywhere_unit": await service.account(
            "jur-everywhere-miit", scopes=RW, units=[UNIT], jurisdictions=["*"]
        ),
    }


async def test_another_city_files_no_report_into_the_plan(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=users["zhumadian_unit"]) as zhumadian:
        assert_problem(await zhumadian.post(f"{BASE}/plans/{PANJIN}/tasks/{TASK}/reports", json=REPORT), 404)
        assert_problem(
            await zhumadian.post(
                f"{BASE}/plans/{PANJIN}/tasks/{TASK}/reports", json={**REPORT, "unit": "市工业和信息化局"}
            ),
            404,
        )
    async with service.client(headers=users["panjin_unit"]) as panjin:
        task = (await panjin.get(f"{BASE}/plans/{PANJIN}/tasks/{TASK}")).json()
        assert all(r["submitted_by"] != "jur-zhumadian-miit" for r in task["latest_reports"])


async def test_another_city_cannot_accept_or_lock_a_report(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=users["panjin_unit"]) as panjin:
        filed = await panjin.post(
            f"{BASE}/plans/{PANJIN}/tasks/{TASK}/reports", json={**REPORT, "period": "2025-03"}
        )
        assert filed.status_code == 201, filed.text
    review = f"{BASE}/plans/{PANJIN}/tasks/{TASK}/reports/{filed.json()['id']}/review"
    for attacker in ("zhumadian_unit", "zhumadian_admin"):
        async with service.client(headers=users[attacker]) as client:
            assert_problem(
                await client.post(
                    review, json={"decision": "accept"}, headers={"If-Match": filed.headers["ETag"]}
                ),
                404,
            )
    async with service.client(headers=users["panjin_unit"]) as panjin:
        (latest,) = [
            r
            for r in (await panjin.get(f"{BASE}/plans/{PANJIN}/tasks/{TASK}")).json()["latest_reports"]
            if r["id"] == filed.json()["id"]
        ]
        assert latest["review_status"] == "submitted"
        # the plan's own lead unit still accepts it
        accepted = await panjin.post(
            review, json={"decision": "accept"}, headers={"If-Match": filed.headers["ETag"]}
        )
        assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    "path",
    [
        f"/plans/{PANJIN}",
        f"/plans/{PANJIN}/tasks",
        f"/plans/{PANJIN}/tasks/{TASK}",
        f"/plans/{PANJIN}/status?on=2025-01-15",
        f"/plans/{PANJIN}/bulletins/2025-01",
        f"/plans/{PANJIN}/duties",
    ],
)
async def test_another_city_does_not_find_the_plan(
    service: ServiceInProcess, users: dict[str, dict[str, str]], path: str
) -> None:
    async with service.client(headers=users["zhumadian_unit"]) as zhumadian:
        refused = assert_problem(await zhumadian.get(f"{BASE}{path}"), 404)
        assert PANJIN in refused["detail"]
        assert "panjin" not in str(refused.get("errors", ""))
        listed = (await zhumadian.get(f"{BASE}/plans")).json()["items"]
        assert {p["jurisdiction"] for p in listed} == {"411700"}
    async with service.client(headers=users["panjin_county_unit"]) as county:
        # the plan's counties implement every task: they read it
        assert (await county.get(f"{BASE}{path}")).status_code == 200
        assert {p["id"] for p in (await county.get(f"{BASE}/plans")).json()["items"]} == {PANJIN}
        assert_problem(await county.get(f"{BASE}/plans/{ZHUMADIAN}"), 404)


async def test_only_the_city_sets_duties_and_absences(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    duty = {
        "task_number": 40,
        "unit": "市市场监管局",
        "cadence": "quarterly",
        "starts": "2025-01-01",
        "due_day": 10,
    }
    absence = {"leader": "胡振乾", "away_from": "2031-03-01", "away_to": "2031-03-02", "reason": "出差"}
    async with service.client(headers=users["zhumadian_admin"]) as zhumadian:
        assert_problem(await zhumadian.post(f"{BASE}/plans/{PANJIN}/duties", json=duty), 404)
        assert_problem(await zhumadian.post(f"{BASE}/plans/{PANJIN}/leader-absences", json=absence), 404)
    async with service.client(headers=users["panjin_county_admin"]) as county:
        assert_problem(await county.post(f"{BASE}/plans/{PANJIN}/duties", json=duty), 403)
        assert_problem(await county.post(f"{BASE}/plans/{PANJIN}/leader-absences", json=absence), 403)
        duties = (await county.get(f"{BASE}/plans/{PANJIN}/duties")).json()["items"]
        assert not [d for d in duties if d["task_number"] == 40 and d["unit"] == "市市场监管局"]


@pytest.mark.parametrize("who", ["panjin_county_unit", "everywhere_unit"])
async def test_a_unit_name_speaks_only_in_its_own_register(
    service: ServiceInProcess, users: dict[str, dict[str, str]], who: str
) -> None:
    """市工业和信息化局 is a city department of 盘锦市: an account registered in a county, or in
    no city at all, does not speak for it by naming it."""
    async with service.client(headers=users[who]) as client:
        refused = assert_problem(
            await client.post(f"{BASE}/plans/{PANJIN}/tasks/{TASK}/reports", json=REPORT), 403
        )
        assert str(TASK) in refused["detail"]


async def test_a_leader_is_recorded_away_once_per_day(service: ServiceInProcess) -> None:
    """Two records of one absence (a double click, a retry) would be one absence listed twice:
    days already covered are 409 naming the recorded absence; other days are recorded."""
    admin = await service.account("jur-panjin-admin", scopes=[*RW, "renewal:admin"], jurisdictions=["211100"])
    absence = {"leader": "胡振乾", "away_from": "2032-05-10", "away_to": "2032-05-12", "reason": "学习"}
    async with service.client(headers=admin) as client:
        first = await client.post(f"{BASE}/plans/{PANJIN}/leader-absences", json=absence)
        assert first.status_code == 201, first.text
        again = assert_problem(await client.post(f"{BASE}/plans/{PANJIN}/leader-absences", json=absence), 409)
        assert "2032-05-10" in again["detail"]
        inside = {**absence, "away_from": "2032-05-12", "away_to": "2032-05-14"}
        assert_problem(await client.post(f"{BASE}/plans/{PANJIN}/leader-absences", json=inside), 409)
        after = {**absence, "away_from": "2032-05-13", "away_to": "2032-05-14"}
        assert (await client.post(f"{BASE}/plans/{PANJIN}/leader-absences", json=after)).status_code == 201
