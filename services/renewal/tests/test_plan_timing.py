"""Dates of a plan, in process (the service's own logic on a real PostgreSQL): no status before
a plan was issued; a report filed before its period ended is kept as early and counts toward
on-time rates only once the period has ended; the plan's own cadence (驻政〔2023〕23号 三（六）
月通报、季调度) gives due dates and on-time rates like the duties an administrator sets; the
plan's goals, milestones, rewards and county assessment as the API answers them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from platformctl.testing import assert_problem
from renewal.config import Settings
from renewal.interpretations import RenewalInterpretations
from renewal.main import create_app
from renewal.reports.models import ProgressReport
from shared.months import POLICY_TZ, YearMonth, policy_today
from shared.settings import async_database_url
from shared.testing import TokenMint, app_client

BASE = "/api/renewal/v1"
PANJIN = "panjin-2024-equipment-renewal"
DIGITAL = "zhumadian-2023-digital-transformation"
METEOROLOGY = "zhumadian-2023-meteorology"
PANJIN_ADMIN = {"scopes": ["renewal:read", "renewal:write", "renewal:admin"], "jurisdictions": ["211100"]}
ZHUMADIAN_READER = {"scopes": ["renewal:read"], "jurisdictions": ["411700"]}
# 盘政发〔2024〕4号 二（二）17 牵头单位：市住房城乡建设局 (a task no other test sets a duty on)
HOUSING = {
    "scopes": ["renewal:read", "renewal:write"],
    "units": ["市住房城乡建设局"],
    "jurisdictions": ["211100"],
}


async def client_for(
    database_url: str, mint: TokenMint, interpretations: RenewalInterpretations | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url, interpretations=interpretations or RenewalInterpretations()
    )
    async with app_client(create_app(settings), mint) as client:
        yield client


@pytest.fixture
async def renewal(migrated_database: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(migrated_database, mint):
        yield client


@pytest.fixture
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_database_url(migrated_database))
    yield engine
    await engine.dispose()


# ---------------------------------------------------------------- before the plan was issued


@pytest.mark.parametrize(
    ("plan", "path", "issued"),
    [
        (PANJIN, "status?on=2023-01-01", "2024-05-20"),
        (PANJIN, "status?on=2024-05-19", "2024-05-20"),
        (PANJIN, "bulletins/2024-04", "2024-05-20"),
        (DIGITAL, "status?on=2023-11-20", "2023-11-21"),
    ],
)
async def test_no_status_before_the_plan_was_issued(
    renewal: httpx.AsyncClient, mint: TokenMint, plan: str, path: str, issued: str
) -> None:
    headers = mint.headers(scopes=["renewal:read"], jurisdictions=["*"])
    refused = assert_problem(await renewal.get(f"{BASE}/plans/{plan}/{path}", headers=headers), 422)
    assert issued in refused["detail"]
    assert refused["errors"][0]["field"] == ("path.month" if "bulletins" in path else "query.on")


@pytest.mark.parametrize("path", ["status?on=3635-03-21", "bulletins/2199-03"])
async def test_no_status_far_beyond_the_plan(renewal: httpx.AsyncClient, mint: TokenMint, path: str) -> None:
    """A day centuries ahead listed every monthly period of every duty up to it (the fuzzer's
    request timed out): refused, naming the last day that can be asked for."""
    headers = mint.headers(scopes=["renewal:read"], jurisdictions=["*"])
    refused = assert_problem(await renewal.get(f"{BASE}/plans/{PANJIN}/{path}", headers=headers), 422)
    assert "too far ahead" in refused["detail"]
    assert refused["errors"][0]["field"] == ("path.month" if "bulletins" in path else "query.on")


async def test_no_duty_starts_before_the_plan_was_issued(renewal: httpx.AsyncClient, mint: TokenMint) -> None:
    refused = assert_problem(
        await renewal.post(
            f"{BASE}/plans/{PANJIN}/duties",
            json={
                "task_number": 16,
                "unit": "市住房城乡建设局",
                "cadence": "monthly",
                "starts": "2024-05-19",
                "due_day": 5,
            },
            headers=mint.headers(**PANJIN_ADMIN),
        ),
        422,
    )
    assert "2024-05-20" in refused["detail"]
    assert refused["errors"][0]["field"] == "body.starts"


@pytest.mark.parametrize(
    ("plan", "path"),
    [
        (PANJIN, "status?on=2024-05-20"),  # 盘政发〔2024〕4号 issued 2024-05-20
        (PANJIN, "bulletins/2024-05"),
        (METEOROLOGY, "status?on=2000-01-01"),  # the gazette prints no date for 驻政〔2023〕22号
    ],
)
async def test_a_status_from_the_issue_date_on(
    renewal: httpx.AsyncClient, mint: TokenMint, plan: str, path: str
) -> None:
    headers = mint.headers(scopes=["renewal:read"], jurisdictions=["*"])
    assert (await renewal.get(f"{BASE}/plans/{plan}/{path}", headers=headers)).status_code == 200


# ---------------------------------------------------------------- early reports


async def test_a_report_before_its_period_ends_is_early_and_counts_once_the_period_ends(
    renewal: httpx.AsyncClient, mint: TokenMint
) -> None:
    today = policy_today()
    month = YearMonth.of(today)
    admin, housing = mint.headers(**PANJIN_ADMIN), mint.headers(**HOUSING)
    duty = await renewal.post(
        f"{BASE}/plans/{PANJIN}/duties",
        json={
            "task_number": 17,
            "unit": "市住房城乡建设局",
            "cadence": "monthly",
            "starts": month.first_day.isoformat(),
            "due_day": 10,
        },
        headers=admin,
    )
    assert duty.status_code == 201, duty.text
    filed = await renewal.post(
        f"{BASE}/plans/{PANJIN}/tasks/17/reports",
        json={"period": str(month), "narrative": "污水处理设施设备更新"},
        headers=housing,
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["early"] is True
    next_month = month.next()
    later = await renewal.post(
        f"{BASE}/plans/{PANJIN}/tasks/17/reports",
        json={"period": str(next_month), "narrative": "下月计划"},
        headers=housing,
    )
    assert later.json()["early"] is True
    last_month = await renewal.post(
        f"{BASE}/plans/{PANJIN}/tasks/17/reports",
        json={"period": str(month.plus(-1)), "narrative": "上月"},
        headers=housing,
    )
    assert last_month.json()["early"] is False

    async def states(day: dt.date) -> dict[str, str]:
        answer = await renewal.get(
            f"{BASE}/plans/{PANJIN}/status", params={"on": day.isoformat()}, headers=admin
        )
        assert answer.status_code == 200, answer.text
        (task,) = [t for t in answer.json()["tasks"] if t["number"] == 17]
        return {d["period"]: d["state"] for d in task["duties"] if d["unit"] == "市住房城乡建设局"}

    # while the month runs, its report is kept but expected of no one yet: no state, no rate
    assert await states(month.last_day) == {}
    bulletin = (await renewal.get(f"{BASE}/plans/{PANJIN}/bulletins/{month}", headers=admin)).json()
    assert not [r for r in bulletin["units_not_reported"] if r["task"] == 17]
    # once it has ended, the early report is on time; next month's counts only after next month
    assert await states(next_month.first_day) == {str(month): "submitted on time"}
    assert await states(next_month.last_day + dt.timedelta(days=1)) == {
        str(month): "submitted on time",
        str(next_month): "submitted on time",
    }


# ---------------------------------------------------------------- the plan's own cadence


async def insert_report(engine: AsyncEngine, *, task: int, unit: str, period: str, at: dt.datetime) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            delete(ProgressReport).where(
                ProgressReport.plan_id == DIGITAL,
                ProgressReport.task_number == task,
                ProgressReport.unit == unit,
                ProgressReport.period == period,
            )
        )
        await connection.execute(
            insert(ProgressReport).values(
                id=uuid.uuid4(),
                plan_id=DIGITAL,
                task_number=task,
                unit=unit,
                period=period,
                revision=1,
                version=1,
                narrative="智能车间创建进展",
                indicator_values={},
                evidence_links=[],
                submitted_by="test",
                submitted_at=at,
                review_status="submitted",
            )
        )


def shanghai(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=POLICY_TZ)


def duty_states(body: dict[str, Any], task: int, unit: str) -> dict[str, tuple[str, str, str | None]]:
    (status,) = [t for t in body["tasks"] if t["number"] == task]
    return {d["period"]: (d["due"], d["state"], d["duty"]) for d in status["duties"] if d["unit"] == unit}


async def test_the_cadence_of_the_digital_plan_gives_due_dates_and_on_time_rates(
    migrated_database: str, mint: TokenMint, engine: AsyncEngine
) -> None:
    # task 8 (二（三）2 打造智能车间) carries the table's 智能车间: its units report monthly (月通报)
    # and, like every task's, quarterly (季调度)
    unit = "市工业和信息化局"
    await insert_report(engine, task=8, unit=unit, period="2024-01", at=shanghai("2024-02-08"))
    await insert_report(engine, task=8, unit=unit, period="2024-02", at=shanghai("2024-03-12"))
    await insert_report(engine, task=8, unit=unit, period="2023-Q4", at=shanghai("2024-01-10", 23))
    headers = mint.headers(**ZHUMADIAN_READER)
    async for client in client_for(migrated_database, mint):
        body = (
            await client.get(f"{BASE}/plans/{DIGITAL}/status", params={"on": "2024-03-31"}, headers=headers)
        ).json()
        assert duty_states(body, 8, unit) == {
            "2023-11": ("2023-12-10", "missing", "monthly-bulletin"),
            "2023-12": ("2024-01-10", "missing", "monthly-bulletin"),
            "2024-01": ("2024-02-10", "submitted on time", "monthly-bulletin"),
            "2024-02": ("2024-03-10", "submitted late", "monthly-bulletin"),
            "2023-Q4": ("2024-01-10", "submitted on time", "quarterly-dispatch"),  # 23:00 in Shanghai
        }
        (task,) = [t for t in body["tasks"] if t["number"] == 8]
        # its 2023 target (34 个智能车间 by the end of 2023) has passed with nothing reported
        assert task["status"] == "overdue"
        assert {d["source"] for d in task["duties"]} == {"plan"}
        assert {d["citation"] for d in task["duties"]} == {"驻政〔2023〕23号 三（六）严格督导考核"}
        assert {"name": "plan_duty_due_day", "value": 10} in body["interpretations"]
        assert {"name": "plan_duty_grace_days", "value": 0} in body["interpretations"]
        bulletin = (await client.get(f"{BASE}/plans/{DIGITAL}/bulletins/2024-03", headers=headers)).json()
        (row,) = [r for r in bulletin["by_reporting_unit"] if r["unit"] == unit]
        assert row["states"]["submitted on time"] >= 2
        # the duties end with the plan (2025-12-31): nothing is expected for 2026
        late = (
            await client.get(f"{BASE}/plans/{DIGITAL}/status", params={"on": "2026-06-30"}, headers=headers)
        ).json()
        periods = set(duty_states(late, 8, unit))
        assert max(p for p in periods if "Q" not in p) == "2025-12"
        assert max(p for p in periods if "Q" in p) == "2025-Q4"
    # the due day is a setting: on the 5th, January's report of 8 February is late
    async for client in client_for(migrated_database, mint, RenewalInterpretations(plan_duty_due_day=5)):
        body = (
            await client.get(f"{BASE}/plans/{DIGITAL}/status", params={"on": "2024-03-31"}, headers=headers)
        ).json()
        assert duty_states(body, 8, unit)["2024-01"] == ("2024-02-05", "submitted late", "monthly-bulletin")
        assert {"name": "plan_duty_due_day", "value": 5} in body["interpretations"]


# ---------------------------------------------------------------- what the plans say, as answered


async def test_undated_targets_in_the_status(migrated_database: str, mint: TokenMint) -> None:
    headers = mint.headers(**ZHUMADIAN_READER)
    for setting, deadline in (("plan_horizon", "2035-12-31"), ("none", None)):
        interpretations = RenewalInterpretations(undated_target_deadline=setting)
        async for client in client_for(migrated_database, mint, interpretations):
            body = (
                await client.get(
                    f"{BASE}/plans/{METEOROLOGY}/status", params={"on": "2030-01-01"}, headers=headers
                )
            ).json()
            (task,) = [t for t in body["tasks"] if t["number"] == 4]
            assert [(t["indicator"], t["deadline"], t["deadline_stated"]) for t in task["targets"]] == [
                ("province-city-network-bandwidth", deadline, False),
                ("city-county-network-bandwidth", deadline, False),
            ]
            assert {"name": "undated_target_deadline", "value": setting} in body["interpretations"]


async def test_the_plans_as_the_api_answers_them(renewal: httpx.AsyncClient, mint: TokenMint) -> None:
    panjin = (await renewal.get(f"{BASE}/plans/{PANJIN}", headers=mint.headers(**PANJIN_ADMIN))).json()
    assert panjin["overall_goal"]["text"].endswith("再生材料在资源供给中的占比进一步提升。")
    task_8 = (
        await renewal.get(f"{BASE}/plans/{PANJIN}/tasks/8", headers=mint.headers(**PANJIN_ADMIN))
    ).json()
    assert [(a["aspect"], a["unit"]) for a in task_8["aspects"]] == [
        ("能耗", "市发展改革委"),
        ("排放", "市生态环境局"),
        ("安全", "市应急局"),
        ("设备淘汰目录", "市市场监管局"),
    ]
    headers = mint.headers(**ZHUMADIAN_READER)
    meteorology = (await renewal.get(f"{BASE}/plans/{METEOROLOGY}", headers=headers)).json()
    assert [m["deadline"] for m in meteorology["milestones"]] == ["2025-12-31", "2035-12-31"]
    task_4 = (await renewal.get(f"{BASE}/plans/{METEOROLOGY}/tasks/4", headers=headers)).json()
    assert [(t["value"], t["deadline"]) for t in task_4["targets"]] == [("1", None), ("500", None)]
    assert all(t["notes"] for t in task_4["targets"])
    digital = (await renewal.get(f"{BASE}/plans/{DIGITAL}", headers=headers)).json()
    assert [(d["id"], d["cadence"]) for d in digital["reporting_duties"]] == [
        ("monthly-bulletin", "monthly"),
        ("quarterly-dispatch", "quarterly"),
    ]
    rewards = (await renewal.get(f"{BASE}/plans/{DIGITAL}/rewards", headers=headers)).json()
    assert rewards["total"] == 5
    assert {r["id"]: (r["amount"], r["matching_share"]) for r in rewards["items"]} == {
        "national-pilot-demonstration": ("500000.00", None),
        "provincial-smart-factory": ("200000.00", None),
        "provincial-smart-workshop": ("100000.00", None),
        "provincial-service-manufacturing": ("100000.00", None),
        "provincial-industrial-internet-platform": (None, "0.5"),
    }
    scheme = (await renewal.get(f"{BASE}/plans/{DIGITAL}/county-assessment", headers=headers)).json()
    assert [len(c["items"]) for c in scheme["categories"]] == [2, 5, 2, 3, 4]
    assert scheme["subjects_text"] == "注：指标适用于各县区。"
    assert_problem(await renewal.get(f"{BASE}/plans/{METEOROLOGY}/county-assessment", headers=headers), 404)
    # another city's plan: not found, its rewards and scheme neither
    assert_problem(
        await renewal.get(f"{BASE}/plans/{DIGITAL}/rewards", headers=mint.headers(**PANJIN_ADMIN)), 404
    )


@pytest.mark.parametrize("value", ["１２", "٣", "3.2\n", " 3.2", "3,2", "1e3", "NaN", "-0x1"])
async def test_indicator_values_are_ascii_decimals(
    renewal: httpx.AsyncClient, mint: TokenMint, value: str
) -> None:
    refused = assert_problem(
        await renewal.post(
            f"{BASE}/plans/{PANJIN}/tasks/11/reports",
            json={
                "period": "2025-06",
                "narrative": "供水管网",
                "indicator_values": {"water-pipes-renewed": value},
            },
            headers=mint.headers(**HOUSING),
        ),
        422,
    )
    assert "indicator_values" in refused["errors"][0]["field"]
