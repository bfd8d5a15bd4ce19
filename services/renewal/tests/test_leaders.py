"""Responsible leaders (盘政办发〔2024〕3号): every task of 盘政发〔2024〕4号 resolves to the leader
who supervises (分管) or liaises with (联系) its lead unit; stand-ins (互补) and the coordinator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renewal.config import SERVICE_ROOT
from renewal.plans.leaders import leader_of_unit, responsible_leader, stand_in_for
from renewal.plans.pack import Plan, PlanPack, Task, load_plans
from shared.errors import PackError

PACKS = SERVICE_ROOT / "packs"
PANJIN = "panjin-2024-equipment-renewal"

# lead unit → (leader, ground), from 盘政办发〔2024〕3号 二
LEADER_OF_LEAD_UNIT = {
    "市工业和信息化局": ("胡振乾", "supervises"),
    "市市场监管局": ("胡振乾", "supervises"),
    "市商务局": ("胡振乾", "supervises"),
    "国网盘锦供电公司": ("胡振乾", "liaises"),  # 联系……电力公司
    "市发展改革委": ("刘占明", "supervises"),
    "市应急局": ("刘占明", "supervises"),
    "市税务局": ("刘占明", "liaises"),
    "市生态环境局": ("徐同连", "supervises"),
    "市住房城乡建设局": ("徐同连", "supervises"),
    "市交通运输局": ("徐同连", "supervises"),
    "市自然资源局": ("徐同连", "supervises"),
    "市公安局": ("孙得胜", "supervises"),
    "市农业农村局": ("周伟山", "supervises"),
    "市文旅广电局": ("周伟山", "liaises"),  # 联系……市文化旅游和广播电视局
    "市教育局": ("贾洪琳", "supervises"),
    "市卫生健康委": ("贾洪琳", "supervises"),
}


@pytest.fixture(scope="module")
def plans() -> PlanPack:
    return load_plans(PACKS)


@pytest.fixture(scope="module")
def plan(plans: PlanPack) -> Plan:
    return plans[PANJIN]


def task(plan: Plan, number: int) -> Task:
    found = plan.task(number)
    assert found is not None
    return found


def test_every_task_resolves_to_the_leader_of_its_lead_unit(plan: Plan) -> None:
    for each in plan.spec.tasks:
        leader = responsible_leader(plan, each)
        assert leader is not None, each.number
        assert (leader.name, leader.role) == LEADER_OF_LEAD_UNIT[each.lead_units[0]], each.number
        assert leader.unit == each.lead_units[0]
        assert leader.on_behalf_of is None
        assert leader.citation.startswith("盘政办发〔2024〕3号 二（")
    tally: dict[str, int] = {}
    for each in plan.spec.tasks:
        leader = responsible_leader(plan, each)
        assert leader is not None
        tally[leader.name] = tally.get(leader.name, 0) + 1
    assert tally == {"胡振乾": 19, "徐同连": 17, "刘占明": 9, "孙得胜": 4, "周伟山": 3, "贾洪琳": 2}


def test_grounds_and_citations(plan: Plan) -> None:
    power = responsible_leader(plan, task(plan, 5))
    assert power is not None
    assert (power.name, power.role, power.unit) == ("胡振乾", "liaises", "国网盘锦供电公司")
    assert power.citation == "盘政办发〔2024〕3号 二（胡振乾）"
    assert power.reason == "胡振乾 联系 国网盘锦供电公司"
    tax = responsible_leader(plan, task(plan, 50))
    assert tax is not None
    assert (tax.name, tax.role) == ("刘占明", "liaises")
    tourism = responsible_leader(plan, task(plan, 24))
    assert tourism is not None
    assert (tourism.name, tourism.role) == ("周伟山", "liaises")


def test_a_stand_in_takes_over_while_a_leader_is_away(plan: Plan) -> None:
    housing = task(plan, 11)  # 市住房城乡建设局 → 徐同连; group 徐同连/胡振乾
    stand_in = responsible_leader(plan, housing, {"徐同连"})
    assert stand_in is not None
    assert (stand_in.name, stand_in.role, stand_in.on_behalf_of, stand_in.unit) == (
        "胡振乾",
        "stand_in",
        "徐同连",
        "市住房城乡建设局",
    )
    assert stand_in.citation.startswith("盘政办发〔2024〕3号 末段")
    assert "徐同连、胡振乾同志互补" in stand_in.citation
    industry = responsible_leader(plan, task(plan, 1), {"胡振乾"})
    assert industry is not None
    assert (industry.name, industry.role) == ("徐同连", "stand_in")
    farming = responsible_leader(plan, task(plan, 21), {"周伟山"})
    assert farming is not None
    assert (farming.name, farming.role) == ("贾洪琳", "stand_in")


def test_the_first_available_member_of_the_group_stands_in(plan: Plan) -> None:
    ndrc = task(plan, 4)  # 市发展改革委 → 刘占明; group 刘占明/段家喜/孙得胜
    first = responsible_leader(plan, ndrc, {"刘占明"})
    assert first is not None
    assert first.name == "段家喜"
    second = responsible_leader(plan, ndrc, {"刘占明", "段家喜"})
    assert second is not None
    assert (second.name, second.role) == ("孙得胜", "stand_in")
    police = task(plan, 18)  # 市公安局 → 孙得胜
    in_order = responsible_leader(plan, police, {"孙得胜"})
    assert in_order is not None
    assert in_order.name == "刘占明"
    skipping = responsible_leader(plan, police, {"孙得胜", "刘占明"})
    assert skipping is not None
    assert skipping.name == "段家喜"


def test_when_the_whole_group_is_away_the_coordinator_coordinates(plan: Plan) -> None:
    housing = task(plan, 11)
    coordinator = responsible_leader(plan, housing, {"徐同连", "胡振乾"})
    assert coordinator is not None
    assert (coordinator.name, coordinator.role, coordinator.on_behalf_of) == (
        "刘占明",
        "coordinator",
        "徐同连",
    )
    assert coordinator.citation == "盘政办发〔2024〕3号 末段：互补领导均不在盘时，由刘占明同志负责协调。"
    health = responsible_leader(plan, task(plan, 25), {"贾洪琳", "周伟山"})
    assert health is not None
    assert (health.name, health.role) == ("刘占明", "coordinator")
    # 刘占明's own group all away: the document names no one after him, and the answer says so
    ndrc = responsible_leader(plan, task(plan, 4), {"刘占明", "段家喜", "孙得胜"})
    assert ndrc is not None
    assert (ndrc.name, ndrc.role) == ("刘占明", "coordinator")
    assert "recorded away too" in ndrc.reason


def test_absences_of_other_leaders_change_nothing(plan: Plan) -> None:
    housing = responsible_leader(plan, task(plan, 11), {"贾洪琳", "王冰", "someone else"})
    assert housing is not None
    assert (housing.name, housing.role) == ("徐同连", "supervises")


def test_a_leader_outside_every_group_falls_to_the_coordinator(plan: Plan) -> None:
    assert plan.leaders is not None
    name, role, reason = stand_in_for(plan.leaders, "邢鹏", {"邢鹏"})
    assert (name, role) == ("刘占明", "coordinator")
    assert "no stand-in group" in reason


def test_units_without_a_leader(plan: Plan, plans: PlanPack) -> None:
    assert plan.leaders is not None
    # 市水务集团 cooperates on task 11 only; the division of work names no leader for it
    assert leader_of_unit(plan.leaders, plan.units, "市水务集团") is None
    assert leader_of_unit(plan.leaders, plan.units, "市财政局") is not None
    finance = leader_of_unit(plan.leaders, plan.units, "财政局")
    assert finance is not None
    assert finance.name == "刘占明"
    assert (
        responsible_leader(
            plans["zhumadian-2023-meteorology"], plans["zhumadian-2023-meteorology"].spec.tasks[0]
        )
        is None
    )


def copy_packs(tmp_path: Path) -> Path:
    for path in PACKS.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_documented_assignment_resolves_a_unit_the_document_does_not_name(tmp_path: Path) -> None:
    packs = copy_packs(tmp_path)
    edit(packs / f"{PANJIN}.yaml", "lead_units:\n  - 市税务局", "lead_units:\n  - 市水务集团")
    edit(
        packs / "panjin-2024-leaders.yaml",
        "assignments: []",
        "assignments:\n  - {unit: 市水务集团, leader: 徐同连, reason: 'water supply is 住房和城乡建设 work', "
        "citation: 盘政办发〔2024〕3号 二（徐同连）}",
    )
    plan = load_plans(packs)[PANJIN]
    leader = responsible_leader(plan, task(plan, 50))
    assert leader is not None
    assert (leader.name, leader.role, leader.unit) == ("徐同连", "assigned", "市水务集团")
    assert "住房和城乡建设" in leader.citation


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        pytest.param(
            "assignments: []",
            "assignments:\n  - {unit: 市税务局, leader: 徐同连, reason: x, citation: y}",
            "assignments.0.unit",
            "already has a leader in the document (刘占明)",
            id="assignment for a unit the document names",
        ),
        pytest.param(
            "supervises: [市公安局, 司法局]",
            "supervises: [市公安局, 司法局, 市审计局]",
            "leaders.7.supervises.2",
            "市审计局 is already under 邢鹏",
            id="a unit supervised twice",
        ),
        pytest.param(
            "  - [贾洪琳, 周伟山]",
            "  - [贾洪琳, 周伟杉]",
            "stand_in_groups.1.1",
            "周伟杉 is not a listed leader",
            id="unknown stand-in",
        ),
        pytest.param(
            "coordinator: 刘占明",
            "coordinator: 刘站明",
            "coordinator",
            "刘站明 is not a listed leader",
            id="unknown coordinator",
        ),
        pytest.param(
            "      - 盘锦银行\n",
            "      - 盘锦农商银行\n",
            "leaders.1.supervises.10",
            "unknown unit 盘锦农商银行",
            id="unknown unit",
        ),
    ],
)
def test_a_broken_division_of_work_fails(
    tmp_path: Path, old: str, new: str, field: str, problem: str
) -> None:
    packs = copy_packs(tmp_path)
    edit(packs / "panjin-2024-leaders.yaml", old, new)
    with pytest.raises(PackError) as caught:
        load_plans(packs)
    assert (caught.value.file, caught.value.field) == ("panjin-2024-leaders.yaml", field)
    assert problem in caught.value.problem
