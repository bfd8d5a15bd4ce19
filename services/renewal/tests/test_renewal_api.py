"""The renewal API in process: contract endpoints, report authorization, bulletins."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from openpyxl import load_workbook

from platformctl.testing import assert_problem
from shared.testing import ServiceInProcess

BASE = "/api/renewal/v1"
PLAN = "panjin-2024-equipment-renewal"


@pytest.fixture
def service(renewal_service: ServiceInProcess) -> ServiceInProcess:
    """Renewal in this process, what a test writes rolled back at its end."""
    return renewal_service


@pytest.fixture
async def users(service: ServiceInProcess) -> dict[str, dict[str, str]]:
    write = ["renewal:read", "renewal:write"]
    return {
        "housing": await service.account(
            "renewal-housing", scopes=write, units=["市住房城乡建设局"], jurisdictions=["211100"]
        ),
        "water": await service.account(
            "renewal-water", scopes=write, units=["市水务集团"], jurisdictions=["211100"]
        ),
        "police": await service.account(
            "renewal-police", scopes=write, units=["市公安局"], jurisdictions=["211100"]
        ),
        "admin": await service.account(
            "renewal-admin", scopes=[*write, "renewal:admin"], jurisdictions=["211100"]
        ),
    }


async def test_plans_and_tasks_contract(service: ServiceInProcess, users: dict[str, dict[str, str]]) -> None:
    async with service.client(headers=users["police"]) as client:
        plans = (await client.get(f"{BASE}/plans")).json()["items"]
        panjin = next(p for p in plans if p["id"] == PLAN)
        assert panjin["task_count"] == 54
        task = (await client.get(f"{BASE}/plans/{PLAN}/tasks/11")).json()
        assert task["number"] == 11
        assert task["lead_units"] == ["市住房城乡建设局"]
        assert task["cooperating_units"] == ["市水务集团"]
        assert task["responsible_leader"]["name"] == "徐同连"
        assert {(t["indicator"], t["value"], t["deadline"]) for t in task["targets"]} == {
            ("water-pipes-renewed", "20", "2027-12-31"),
            ("water-network-leakage", "10", "2027-12-31"),
        }
        filtered = (
            await client.get(
                f"{BASE}/plans/{PLAN}/tasks", params={"lead_unit": "市工业和信息化局", "limit": 100}
            )
        ).json()
        assert {t["number"] for t in filtered["items"]} == {1, 2, 6, 35, 36, 43}
        by_alias = (
            await client.get(f"{BASE}/plans/{PLAN}/tasks", params={"lead_unit": "市文化旅游和广播电视局"})
        ).json()
        assert [t["number"] for t in by_alias["items"]] == [24]
        by_leader = (
            await client.get(
                f"{BASE}/plans/{PLAN}/tasks", params={"responsible_leader": "孙得胜", "limit": 100}
            )
        ).json()
        assert {t["number"] for t in by_leader["items"]} == {18, 20, 27, 33}
        assert_problem(await client.get(f"{BASE}/plans/{PLAN}/tasks/55"), 404)
        assert_problem(await client.get(f"{BASE}/plans/no-such-plan/tasks/1"), 404)


async def test_only_units_of_the_task_report(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    report = {
        "period": "2025-01",
        "narrative": "更新改造老旧供水管网 3.2 公里",
        "indicator_values": {"water-pipes-renewed": "3.2"},
    }
    async with service.client(headers=users["police"]) as client:
        assert_problem(await client.post(f"{BASE}/plans/{PLAN}/tasks/11/reports", json=report), 403)
    async with service.client(headers=users["water"]) as client:  # cooperating unit
        cooperating = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/11/reports", json={**report, "period": "2025-02"}
        )
        assert cooperating.status_code == 201, cooperating.text
    async with service.client(headers=users["housing"]) as client:  # lead unit
        first = await client.post(f"{BASE}/plans/{PLAN}/tasks/11/reports", json=report)
        assert first.status_code == 201, first.text
        assert first.json()["unit"] == "市住房城乡建设局"
        corrected = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/11/reports",
            json={
                **report,
                "narrative": "更正：3.4 公里",
                "indicator_values": {"water-pipes-renewed": "3.4"},
            },
        )
        assert corrected.json()["version"] == 2
        accepted = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/11/reports/{corrected.json()['id']}/review",
            json={"decision": "accept"},
            headers={"If-Match": corrected.headers["ETag"]},
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["review_status"] == "accepted"
        locked = await client.post(f"{BASE}/plans/{PLAN}/tasks/11/reports", json=report)
        assert_problem(locked, 409)
        reopened = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/11/reports/{corrected.json()['id']}/review",
            json={"decision": "reopen", "reason": "数据口径调整"},
            headers={"If-Match": accepted.headers["ETag"]},
        )
        assert reopened.json()["review_status"] == "submitted"
        assert reopened.json()["review_reason"] == "数据口径调整"
        unknown = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/11/reports",
            json={**report, "period": "2025-03", "indicator_values": {"boats": "1"}},
        )
        assert_problem(unknown, 422)
    async with service.client(headers=users["water"]) as client:  # cooperating units do not review
        review = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/11/reports/{cooperating.json()['id']}/review",
            json={"decision": "return", "reason": "缺少佐证"},
            headers={"If-Match": cooperating.headers["ETag"]},
        )
        assert_problem(review, 403)


async def test_a_missed_deadline_shows_in_the_bulletin_under_the_leader(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=users["admin"]) as client:
        duty = await client.post(
            f"{BASE}/plans/{PLAN}/duties",
            json={
                "task_number": 18,
                "unit": "市公安局",
                "cadence": "monthly",
                "starts": "2024-11-01",
                "due_day": 5,
                "grace_days": 2,
            },
        )
        assert duty.status_code in (201, 409), duty.text
        away = await client.post(
            f"{BASE}/plans/{PLAN}/leader-absences",
            json={"leader": "刘占明", "away_from": "2030-01-01", "away_to": "2030-01-02", "reason": "出差"},
        )
        assert away.status_code == 201
        status = (await client.get(f"{BASE}/plans/{PLAN}/status", params={"on": "2025-01-15"})).json()
        task18 = next(t for t in status["tasks"] if t["number"] == 18)
        assert task18["status"] == "missing report"
        assert {d["period"]: d["state"] for d in task18["duties"]}["2024-11"] == "missing"
        bulletin = await client.get(
            f"{BASE}/plans/{PLAN}/bulletins/2025-01", headers={"Accept": "application/json"}
        )
        assert bulletin.status_code == 200
        body = bulletin.json()
        assert 18 in body["by_status"]["missing report"]
        assert {"unit": "市公安局", "task": 18, "period": "2024-11"} in body["units_not_reported"]
        sun = next(r for r in body["by_responsible_leader"] if r["responsible_leader"] == "孙得胜")
        assert sun["statuses"]["missing report"] >= 1
        assert sun["on_time_rate"] == "0.00"
        xlsx = await client.get(
            f"{BASE}/plans/{PLAN}/bulletins/2025-01",
            headers={"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        )
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        workbook = load_workbook(io.BytesIO(xlsx.content))
        assert workbook.sheetnames == ["月通报", "按牵头单位", "任务明细"]
        police = next(r for r in body["by_reporting_unit"] if r["unit"] == "市公安局")
        assert police["on_time_rate"] == "0.00"
        table = [[c.value for c in row] for row in workbook["月通报"].iter_rows()]
        assert "孙得胜" in {row[0] for row in table}
        assert ["市公安局", 18, "2024-11"] in [row[:3] for row in table]
        listed = await client.get(f"{BASE}/plans/{PLAN}/bulletins/2025-01", params={"format": "csv"})
        assert listed.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(listed.content.decode("utf-8-sig"))))
        assert rows[0] == ["任务", "牵头单位", "责任领导", "状态", "任务内容"]
        assert len(rows) == 55


async def test_equipment_assessment_contract(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    async with service.client(headers=users["police"]) as client:
        answer = await client.post(
            f"{BASE}/equipment/assessments",
            json={"kind": "tractor", "in_service_since": "2008-05-01", "on": "2024-06-01"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["renew"] is True
        assert answer.json()["task"] == 22
        assert "15" in answer.json()["reason"]
        unknown = assert_problem(
            await client.post(
                f"{BASE}/equipment/assessments",
                json={"kind": f"rig-{uuid.uuid4().hex[:4]}", "on": "2024-06-01"},
            ),
            422,
        )
        assert "tractor" in unknown["detail"]


@pytest.mark.parametrize(
    ("task", "indicator"),
    [
        (1, "water-network-leakage"),  # task 11's, from a unit of task 1 (the attack)
        (1, "water-pipes-renewed"),
        (11, "fishing-boats-renovated"),  # task 21's, from task 11's own lead unit
        (11, "equipment-investment"),  # a plan-wide target
    ],
)
async def test_a_report_gives_values_only_for_its_own_tasks_indicators(
    service: ServiceInProcess, task: int, indicator: str
) -> None:
    industry = await service.account(
        "renewal-industry",
        scopes=["renewal:read", "renewal:write"],
        units=["市工业和信息化局"],
        jurisdictions=["211100"],
    )
    housing = await service.account(
        "renewal-housing",
        scopes=["renewal:read", "renewal:write"],
        units=["市住房城乡建设局"],
        jurisdictions=["211100"],
    )
    headers = industry if task == 1 else housing
    status_before = await task_targets(service, headers, 11)
    async with service.client(headers=headers) as client:
        refused = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/{task}/reports",
            json={"period": "2024-12", "narrative": "完成", "indicator_values": {indicator: "999"}},
        )
        body = assert_problem(refused, 422)
        assert body["errors"][0]["field"] == f"body.indicator_values.{indicator}"
        assert indicator in body["errors"][0]["message"]
    assert await task_targets(service, headers, 11) == status_before


async def test_the_plans_administrators_report_its_plan_wide_targets(service: ServiceInProcess) -> None:
    admin = await service.account(
        "renewal-plan-admin",
        scopes=["renewal:read", "renewal:write", "renewal:admin"],
        units=["市工业和信息化局"],
        jurisdictions=["211100"],
    )
    async with service.client(headers=admin) as client:
        answer = await client.post(
            f"{BASE}/plans/{PLAN}/tasks/1/reports",
            json={
                "period": "2024-11",
                "narrative": "全市设备投资",
                "indicator_values": {"equipment-investment": "7.5"},
            },
        )
        assert answer.status_code == 201, answer.text
        status = await client.get(f"{BASE}/plans/{PLAN}/status")  # today: after the report
        assert status.status_code == 200, status.text
        (target,) = [t for t in status.json()["plan_targets"] if t["indicator"] == "equipment-investment"]
        assert target["latest"] == "7.5", target


async def task_targets(service: ServiceInProcess, headers: dict[str, str], number: int) -> object:
    async with service.client(headers=headers) as client:
        status = await client.get(f"{BASE}/plans/{PLAN}/status", params={"on": "2025-01-15"})
        assert status.status_code == 200, status.text
        return next(t["targets"] for t in status.json()["tasks"] if t["number"] == number)
