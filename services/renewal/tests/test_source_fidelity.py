"""What the plan files say against the gazettes (``shared/seeds``, the final authority).

Every text the files quote from a document (task texts, goals, milestones, the sentence after
a citation's "：", rewards, the cadence, the county assessment items) must be found in the
gazettes as it stands, so nothing of our own hides inside a quotation (notes sit outside).
Then each rule the files encode is checked against its sentence, quoted in the test.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from renewal.config import SERVICE_ROOT
from renewal.duties.service import plan_duties
from renewal.equipment.thresholds import load_thresholds
from renewal.interpretations import RenewalInterpretations
from renewal.plans.pack import Plan, PlanPack, load_plans
from renewal.status.targets import target_status

PACKS = SERVICE_ROOT / "packs"
# the gazettes sit beside the repository (../shared/seeds, README): the first such folder upwards
SEEDS = next(
    (
        parent / "shared" / "seeds"
        for parent in Path(__file__).resolve().parents
        if (parent / "shared" / "seeds").is_dir()
    ),
    None,
)
PANJIN = "panjin-2024-equipment-renewal"
DIGITAL = "zhumadian-2023-digital-transformation"
METEOROLOGY = "zhumadian-2023-meteorology"


def normal(text: str) -> str:
    """Compared without whitespace (the typesetting breaks lines and spaces digits) and with
    full-width punctuation folded (NFKC: the gazettes mix ， and ,)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@cache
def gazettes() -> str:
    if SEEDS is None:
        pytest.skip("the gazettes (shared/seeds beside the repository) are not on this machine")
    files = sorted(SEEDS.glob("*.txt"))
    assert files, f"no gazettes in {SEEDS}"
    return normal("".join(path.read_text(encoding="utf-8") for path in files))


def in_gazettes(text: str) -> bool:
    return normal(text) in gazettes()


def quoted(citation: str) -> str | None:
    """The text a citation quotes: what follows its first "：" (None when it quotes nothing)."""
    return citation.split("：", 1)[1] if "：" in citation else None


@pytest.fixture(scope="module")
def plans() -> PlanPack:
    return load_plans(PACKS)


def quotations(plans: PlanPack) -> Iterator[tuple[str, str]]:
    """(where, text) of every text the pack files quote from a document."""
    for plan in plans.values():
        spec = plan.spec
        for task in spec.tasks:
            yield f"{plan.id} task {task.number}", task.text
            for aspect in task.aspects:
                yield f"{plan.id} task {task.number} aspect {aspect.key}", quoted(aspect.citation) or ""
        for name, statement in (("overall_goal", spec.overall_goal), ("review_cadence", spec.review_cadence)):
            if statement is not None:
                yield f"{plan.id} {name}", statement.text
                if statement.detail:
                    yield f"{plan.id} {name}.detail", statement.detail
        for milestone in spec.milestones:
            yield f"{plan.id} milestone {milestone.deadline}", milestone.text
        for indicator in spec.indicators:
            if (text := quoted(indicator.citation)) is not None:
                yield f"{plan.id} indicator {indicator.id}", text
        for duty in spec.reporting_duties:
            yield f"{plan.id} duty {duty.id}", duty.text
        for reward in spec.rewards:
            yield f"{plan.id} reward {reward.id}", reward.text
            if reward.condition:
                yield f"{plan.id} reward {reward.id} condition", reward.condition
        if (scheme := spec.county_assessment) is not None:
            yield f"{plan.id} county_assessment title", scheme.title
            yield f"{plan.id} county_assessment subjects", scheme.subjects_text
            yield f"{plan.id} county_assessment held", scheme.held.text
            for category in scheme.categories:
                yield f"{plan.id} county_assessment category", category.category
                for item in category.items:
                    yield f"{plan.id} county_assessment item {item.number}", item.content
    for kind, rule in load_thresholds(PACKS).equipment.items():
        yield f"equipment {kind}", quoted(rule.citation) or ""
    for division in plans.divisions.values():
        for citation in (division.stand_in_citation, division.coordinator_citation):
            if (text := quoted(citation)) is not None:
                yield f"{division.id} {citation[:20]}", text


def test_quoted_text_is_only_what_the_gazettes_say(plans: PlanPack) -> None:
    found = list(quotations(plans))
    assert len(found) > 180
    not_in_source = [(where, text[:60]) for where, text in found if not text or not in_gazettes(text)]
    assert not_in_source == []


def test_a_word_of_our_own_in_a_quotation_is_caught() -> None:
    assert in_gazettes("废旧家电回收量较2023年增长30%，再生材料在资源供给中的占比进一步提升。")
    assert not in_gazettes("废旧家电回收量较2023年增长30%。")  # the cut clause: no longer a sentence end
    assert not in_gazettes("考核对象为各县区人民政府（开发区管委会不是考核对象）。")


# ---------------------------------------------------------------- 盘政发〔2024〕4号


def test_the_panjin_overall_goal_keeps_its_last_clause(plans: PlanPack) -> None:
    # 盘政发〔2024〕4号 一: "…废旧家电回收量较2023年增长30%,再生材料在资源供给中的占比进一步提升。"
    goal = plans[PANJIN].spec.overall_goal
    assert goal is not None
    assert goal.text.endswith("废旧家电回收量较2023年增长30%，再生材料在资源供给中的占比进一步提升。")
    assert goal.text.startswith(
        "到2027年，工业、农业、建筑、交通、教育、文旅、医疗等领域设备投资规模较2023年增长25%以上"
    )
    assert goal.citation == "盘政发〔2024〕4号 一"


def test_task_8_names_a_unit_for_each_aspect(plans: PlanPack) -> None:
    # 盘政发〔2024〕4号 二（一）8: "严格落实能耗(市发展改革委)、排放(市生态环境局)、安全(市应急局)等强制性
    # 标准和设备淘汰目录(市市场监管局)要求"
    plan = plans[PANJIN]
    task = plan.task(8)
    assert task is not None
    assert [(a.aspect, a.unit) for a in task.aspects] == [
        ("能耗", "市发展改革委"),
        ("排放", "市生态环境局"),
        ("安全", "市应急局"),
        ("设备淘汰目录", "市市场监管局"),
    ]
    for aspect in task.aspects:
        assert f"{aspect.aspect}（{aspect.unit}）" in task.text
        assert plan.units.resolve(aspect.unit) in plan.units_of(task)
    assert [a.key for a in task.aspects] == [
        "energy-consumption-standards",
        "emission-standards",
        "safety-standards",
        "phase-out-list",
    ]
    assert all(not t.aspects for t in plan.spec.tasks if t.number != 8)


# ---------------------------------------------------------------- 驻政〔2023〕22号


METEOROLOGY_TARGETS = [
    # 二（一）2: "逐步实现提前1小时预警局地强天气、提前1天预报逐小时天气、提前1周预报灾害性天气、
    # 提前1月预报重大天气过程、提前1年预测气候异常"
    ("severe-weather-warning-lead-time", 2, "1", "小时", "提前1小时预警局地强天气"),
    ("hourly-forecast-lead-time", 2, "1", "天", "提前1天预报逐小时天气"),
    ("hazardous-weather-forecast-lead-time", 2, "1", "周", "提前1周预报灾害性天气"),
    ("major-weather-process-forecast-lead-time", 2, "1", "月", "提前1月预报重大天气过程"),
    ("climate-anomaly-prediction-lead-time", 2, "1", "年", "提前1年预测气候异常"),
    # 二（一）4: "逐步将气象网络带宽提升到省—市 1Gbps,市—县 500Mbps"
    ("province-city-network-bandwidth", 4, "1", "Gbps", "省—市1Gbps"),
    ("city-county-network-bandwidth", 4, "500", "Mbps", "市—县500Mbps"),
    # 二（三）12: "实现4A级以上旅游景区多要素气象站、大气电场仪、闪电定位仪等气象监测设施和预报预警信息
    # 传播设施全覆盖"
    ("scenic-area-monitoring-coverage", 12, "100", "%", "4A级以上旅游景区"),
]


@pytest.mark.parametrize(("indicator_id", "task", "value", "unit", "words"), METEOROLOGY_TARGETS)
def test_the_meteorology_targets(
    plans: PlanPack, indicator_id: str, task: int, value: str, unit: str, words: str
) -> None:
    plan = plans[METEOROLOGY]
    indicator = next(i for i in plan.spec.indicators if i.id == indicator_id)
    assert (indicator.task, indicator.unit, indicator.direction) == (task, unit, "higher")
    (target,) = indicator.targets
    assert (target.value, target.kind) == (Decimal(value), "absolute")
    # none of the three sentences gives a date (逐步实现, 逐步将…提升到, 实现…全覆盖)
    assert target.deadline is None
    assert target.note is not None
    assert words in normal(indicator.citation)
    found = plan.task(task)
    assert found is not None
    task_text = found.text
    assert normal(quoted(indicator.citation) or "") in normal(task_text)


def test_the_meteorology_milestones(plans: PlanPack) -> None:
    # 一（二）发展目标: "到2025年，…整体实力保持全省第一方阵。到2035年，…基本建成气象强市。"
    spec = plans[METEOROLOGY].spec
    assert [(m.deadline, m.text[:7], m.text[-9:]) for m in spec.milestones] == [
        (dt.date(2025, 12, 31), "到2025年，", "保持全省第一方阵。"),
        (dt.date(2035, 12, 31), "到2035年，", "基本建成气象强市。"),
    ]
    assert spec.overall_goal is not None
    assert "".join(m.text for m in spec.milestones) == spec.overall_goal.text


@pytest.mark.parametrize(
    ("setting", "on", "status", "deadline"),
    [
        ("plan_horizon", dt.date(2030, 1, 1), "on track", dt.date(2035, 12, 31)),
        ("plan_horizon", dt.date(2036, 1, 1), "overdue", dt.date(2035, 12, 31)),
        ("none", dt.date(2036, 1, 1), "on track", None),
    ],
)
def test_an_undated_target_is_judged_as_the_setting_says(
    plans: PlanPack, setting: str, on: dt.date, status: str, deadline: dt.date | None
) -> None:
    plan = plans[METEOROLOGY]
    bandwidth = next(i for i in plan.spec.indicators if i.id == "city-county-network-bandwidth")
    interpretations = RenewalInterpretations(undated_target_deadline=setting)
    answer = target_status(
        bandwidth,
        bandwidth.targets[0],
        latest=Decimal(200),
        on=on,
        plan_start=plan.spec.issued_on,
        plan_horizon=plan.spec.horizon,
        report_required=False,
        interpretations=interpretations,
    )
    assert (answer.status, answer.deadline, answer.deadline_stated) == (status, deadline, False)
    assert f"undated_target_deadline={setting}" in answer.reason
    reached = target_status(
        bandwidth,
        bandwidth.targets[0],
        latest=Decimal(500),
        on=on,
        plan_start=None,
        plan_horizon=plan.spec.horizon,
        interpretations=interpretations,
    )
    assert reached.status == "achieved"  # 500Mbps reaches 市—县500Mbps


# ---------------------------------------------------------------- 驻政〔2023〕23号


def test_the_rewards_of_the_digital_plan(plans: PlanPack) -> None:
    # 三（四）加大政策支持: "对获评国家认定的…试点示范的企业（项目、平台），给予一次性奖励50万元；对获评省认定的
    # 智能工厂、智能车间、服务型制造等试点示范的企业（项目、平台），分别给予一次性奖励20万元、10万元、10万元；
    # 对获评省级工业互联网平台的建设单位，在项目验收完成后，按照省财政奖补资金的50%给予配套支持"
    rewards = {r.id: r for r in plans[DIGITAL].spec.rewards}
    assert {k: (r.level, r.kind, r.amount) for k, r in rewards.items() if r.kind == "one_off"} == {
        "national-pilot-demonstration": ("national", "one_off", Decimal("500000.00")),
        "provincial-smart-factory": ("provincial", "one_off", Decimal("200000.00")),
        "provincial-smart-workshop": ("provincial", "one_off", Decimal("100000.00")),
        "provincial-service-manufacturing": ("provincial", "one_off", Decimal("100000.00")),
    }
    platform = rewards["provincial-industrial-internet-platform"]
    assert (platform.kind, platform.matching_share, platform.matched_funds, platform.condition) == (
        "matching",
        Decimal("0.5"),
        "省财政奖补资金",
        "在项目验收完成后",
    )
    assert "给予一次性奖励50万元" in rewards["national-pilot-demonstration"].text
    assert "分别给予一次性奖励20万元、10万元、10万元" in rewards["provincial-smart-workshop"].text
    assert "按照省财政奖补资金的50%给予配套支持" in platform.text
    assert all(r.citation == "驻政〔2023〕23号 三（四）加大政策支持" for r in rewards.values())


# 附件 驻马店市制造业数字化转型工作考核指标: 类别 and 考核内容 1–16; "注：指标适用于各县区。"
ANNEX = {
    "制定政策措施": [1, 2],
    "打造标杆示范": [3, 4, 5, 6, 7],
    "建设重点项目": [8, 9],
    "强化基础支撑": [10, 11, 12],
    "推进重点工作": [13, 14, 15, 16],
}


def test_the_county_assessment_scheme_is_the_annex(plans: PlanPack) -> None:
    scheme = plans[DIGITAL].spec.county_assessment
    assert scheme is not None
    assert scheme.title == "驻马店市制造业数字化转型工作考核指标"
    assert {c.category: [i.number for i in c.items] for c in scheme.categories} == ANNEX
    items = {i.number: i.content for c in scheme.categories for i in c.items}
    assert items[1] == "出台加快制造业数字化转型行动计划、年度实施方案等情况。"
    assert items[9] == "重点行业规模以上制造企业智能应用场景覆盖情况。"
    assert items[16] == "推动企业家数字素养提升和高端人才引育、打造数字技能人才队伍情况。"
    # 各县区: the district and the nine counties; the annex does not name the zones
    assert scheme.subjects == ["411702", *(f"4117{n}" for n in range(21, 30))]
    assert scheme.subjects_text == "注：指标适用于各县区。"
    # 三（六）: "年底对各地工作开展情况组织考核"
    assert scheme.held.text == "年底对各地工作开展情况组织考核"
    assert "no points" in scheme.scoring  # the annex gives none: none are invented
    related = {i.number: i.related_indicators for c in scheme.categories for i in c.items}
    assert related[9] == ["smart-scenario-coverage"]
    assert related[12] == [
        "integration-management-certified",
        "integration-management-diagnosed",
        "dcmm-enterprises",
    ]


def digital_duties(plan: Plan, **settings: int) -> dict[str, list[tuple[int, str]]]:
    interpretations = RenewalInterpretations(**settings)
    by_duty: dict[str, list[tuple[int, str]]] = {}
    for terms in plan_duties(plan=plan, interpretations=interpretations):
        by_duty.setdefault(terms.duty or "", []).append((terms.task_number, terms.unit))
    return by_duty


def test_the_cadence_becomes_reporting_duties(plans: PlanPack) -> None:
    # 三（六）: "建立'月通报、季调度、年中观摩、年底考核'机制，每月对各地重点指标完成情况进行通报；每季度
    # 召开调度会，对各地各部门工作进行总结点评"
    plan = plans[DIGITAL]
    duties = digital_duties(plan)
    table_tasks = {i.task for i in plan.spec.indicators if i.table_row is not None}
    assert table_tasks == {1, 3, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18}
    assert {task for task, _ in duties["monthly-bulletin"]} == table_tasks
    assert {task for task, _ in duties["quarterly-dispatch"]} == set(range(1, 22))
    # task 8 (二（三）2 打造智能车间) 责任单位：市工业和信息化局、市通信管理办
    assert sorted(unit for task, unit in duties["monthly-bulletin"] if task == 8) == [
        "市工业和信息化局",
        "市通信发展管理办公室",
    ]
    terms = plan_duties(plan=plan, interpretations=RenewalInterpretations(plan_duty_due_day=5))
    first = terms[0]
    assert (first.starts, first.ends, first.due_day, first.grace_days, first.source) == (
        dt.date(2023, 11, 21),
        dt.date(2025, 12, 31),
        5,
        0,
        "plan",
    )
    assert first.citation == "驻政〔2023〕23号 三（六）严格督导考核"
    assert plans[PANJIN].spec.reporting_duties == []  # 盘政发〔2024〕4号 sets no cadence of its own
