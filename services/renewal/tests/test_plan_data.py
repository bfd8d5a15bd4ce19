"""The plan files: loading checks, leaders, equipment thresholds and the status rules."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Collection
from decimal import Decimal
from pathlib import Path

import pytest

from renewal.config import SERVICE_ROOT
from renewal.equipment.service import assess
from renewal.equipment.thresholds import load_thresholds
from renewal.plans.leaders import ResponsibleLeader, responsible_leader
from renewal.plans.pack import Indicator, Plan, Task, load_plans
from renewal.status.targets import target_status
from shared.errors import InvalidInput, PackError

PACKS = SERVICE_ROOT / "packs"
PLAN = "panjin-2024-equipment-renewal"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plans(PACKS)[PLAN]


def test_all_54_tasks_with_units_as_written(plan: Plan) -> None:
    assert [t.number for t in plan.spec.tasks] == list(range(1, 55))
    task5 = plan.task(5)
    assert task5 is not None
    assert task5.lead_units == ["国网盘锦供电公司"]
    task8 = plan.task(8)
    assert task8 is not None
    assert task8.cooperating_units == [
        "市工业和信息化局",
        "市发展改革委",
        "市生态环境局",
        "市应急局",
    ]
    assert (
        plan.units.resolve("市文化旅游和广播电视局") == plan.units.resolve("市文旅广电局") == "市文旅广电局"
    )
    assert plan.units.resolve("电力公司") == "国网盘锦供电公司"


def task_of(plan: Plan, number: int) -> Task:
    found = plan.task(number)
    assert found is not None, f"no task {number}"
    return found


def leader_of(plan: Plan, task: Task, away: Collection[str] = ()) -> ResponsibleLeader:
    found = responsible_leader(plan, task, away)
    assert found is not None, task.number
    return found


def test_every_task_resolves_to_a_leader(plan: Plan) -> None:
    for task in plan.spec.tasks:
        leader = responsible_leader(plan, task)
        assert leader is not None, task.number
    assert leader_of(plan, task_of(plan, 1)).name == "胡振乾"
    assert leader_of(plan, task_of(plan, 5)).role == "liaises"
    assert leader_of(plan, task_of(plan, 24)).name == "周伟山"


def test_stand_ins_and_the_coordinator(plan: Plan) -> None:
    task = plan.task(11)  # 市住房城乡建设局 → 徐同连
    assert task is not None
    assert leader_of(plan, task).name == "徐同连"
    stand_in = leader_of(plan, task, {"徐同连"})
    assert (stand_in.name, stand_in.role, stand_in.on_behalf_of) == ("胡振乾", "stand_in", "徐同连")
    assert leader_of(plan, task, {"徐同连", "胡振乾"}).name == "刘占明"
    liu = task_of(plan, 4)  # 市发展改革委 → 刘占明; group 刘占明/段家喜/孙得胜
    assert leader_of(plan, liu, {"刘占明"}).name == "段家喜"


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    for file in PACKS.glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    path = tmp_path / f"{PLAN}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("- number: 7\n", "- number: 70\n", "tasks.6.number", "without gaps"),
        (
            "lead_units:\n  - 市应急局",
            "lead_units:\n  - 市应急办",
            "tasks.6.lead_units.0",
            "unknown unit 市应急办",
        ),
        (
            '{deadline: 2027-12-31, value: "90", kind: absolute, strict: true}',
            '{value: "90", kind: absolute, strict: true}',
            "indicators.1.targets.0.deadline",
            "deadline",
        ),
    ],
)
def test_a_broken_plan_fails_naming_file_field_and_problem(
    tmp_path: Path, old: str, new: str, field: str, problem: str
) -> None:
    with pytest.raises(PackError) as caught:
        load_plans(broken_copy(tmp_path, old, new))
    assert caught.value.file == f"{PLAN}.yaml"
    assert caught.value.field == field
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("kind", "since", "on", "renew"),
    [
        ("tractor", "2009-06-01", "2024-06-01", True),  # exactly 15 years: 以上 includes 15
        ("tractor", "2009-06-02", "2024-06-01", False),  # one day short
        ("combine_harvester", "2012-06-01", "2024-06-01", True),
        ("combine_harvester", "2012-06-02", "2024-06-01", False),
        ("mounted_combine_harvester", "2014-06-01", "2024-06-01", True),
        ("mounted_combine_harvester", "2014-06-02", "2024-06-01", False),
    ],
)
def test_machinery_age_thresholds(kind: str, since: str, on: str, renew: bool) -> None:
    answer = assess(
        thresholds=load_thresholds(PACKS),
        kind=kind,
        in_service_since=dt.date.fromisoformat(since),
        on=dt.date.fromisoformat(on),
        emission_standard=None,
    )
    assert answer["renew"] is renew
    assert answer["task"] == 22


def test_diesel_trucks_and_unknown_kinds() -> None:
    thresholds = load_thresholds(PACKS)
    day = dt.date(2024, 6, 1)
    assert (
        assess(
            thresholds=thresholds, kind="diesel_truck", in_service_since=None, on=day, emission_standard=3
        )["renew"]
        is True
    )
    assert (
        assess(
            thresholds=thresholds, kind="diesel_truck", in_service_since=None, on=day, emission_standard=4
        )["renew"]
        is False
    )
    with pytest.raises(InvalidInput) as caught:
        assess(thresholds=thresholds, kind="bulldozer", in_service_since=None, on=day, emission_standard=None)
    assert "tractor" in caught.value.detail
    assert "diesel_truck" in caught.value.detail


def indicator(direction: str, *targets: tuple[str, str], baseline: str | None = None) -> Indicator:
    return Indicator.model_validate(
        {
            "id": "x",
            "name": "x",
            "unit": "x",
            "direction": direction,
            "citation": "x",
            "baseline": {"year": 2023, "value": baseline} if baseline else None,
            "targets": [{"deadline": d, "value": v, "kind": "cumulative"} for d, v in targets],
        }
    )


def test_status_boundaries() -> None:
    boats = indicator("higher", ("2024-12-31", "26"), ("2025-12-31", "34"))
    start = dt.date(2024, 5, 20)
    first = boats.targets[0]
    on_deadline = target_status(boats, first, latest=Decimal(25), on=dt.date(2024, 12, 31), plan_start=start)
    assert on_deadline.status == "at risk"  # the deadline day itself is not yet overdue
    assert (
        target_status(boats, first, latest=Decimal(25), on=dt.date(2025, 1, 1), plan_start=start).status
        == "overdue"
    )
    assert (
        target_status(boats, first, latest=Decimal(26), on=dt.date(2025, 1, 1), plan_start=start).status
        == "achieved"
    )
    assert (
        target_status(boats, first, latest=None, on=dt.date(2024, 9, 1), plan_start=start).status
        == "missing report"
    )
    # halfway through the year the linear line expects about half of 26
    halfway = dt.date(2024, 9, 9)
    line = target_status(boats, first, latest=Decimal(0), on=halfway, plan_start=start).expected
    assert line is not None
    assert Decimal(12) < line < Decimal(14)
    assert target_status(boats, first, latest=line, on=halfway, plan_start=start).status == "on track"
    assert (
        target_status(boats, first, latest=line - Decimal("0.01"), on=halfway, plan_start=start).status
        == "at risk"
    )


def test_lower_is_better() -> None:
    leakage = indicator("lower", ("2027-12-31", "10"), baseline="14")
    target = leakage.targets[0]
    start = dt.date(2024, 5, 20)
    assert (
        target_status(leakage, target, latest=Decimal("9.5"), on=dt.date(2025, 1, 1), plan_start=start).status
        == "achieved"
    )
    assert (
        target_status(leakage, target, latest=Decimal("14"), on=dt.date(2026, 6, 1), plan_start=start).status
        == "at risk"
    )
    assert (
        target_status(
            leakage, target, latest=Decimal("13.9"), on=dt.date(2028, 1, 1), plan_start=start
        ).status
        == "overdue"
    )
