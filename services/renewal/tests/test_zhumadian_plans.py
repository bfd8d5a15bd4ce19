"""The Zhumadian plans (驻政〔2023〕22号 and 23号): they load next to the Panjin plan, with the
task counts of the documents, the indicator table of 23号 and every unit resolved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from renewal.config import SERVICE_ROOT
from renewal.plans.pack import Plan, PlanPack, Task, load_plans

PACKS = SERVICE_ROOT / "packs"
DIGITAL = "zhumadian-2023-digital-transformation"
METEOROLOGY = "zhumadian-2023-meteorology"
ZHUMADIAN_IMPLEMENTERS = [
    "411702",
    *(f"4117{n}" for n in range(21, 30)),
    "411700-Z01",
    "411700-Z02",
    "411700-Z03",
]

# 一（二）全市制造业数字化转型主要目标: cumulative targets for 2023 / 2024 / 2025. Row 14 of the
# table holds two measures (贯标评定 10/30/50 and 对标诊断 100/300/500), so 15 rows give 16
# indicators.
TABLE = {
    "“数字领航”企业": ("个", "0", "1", "2"),
    "中小企业数字化转型标杆": ("个", "5", "10", "15"),
    "数字化转型示范区": ("个", "1", "1", "2"),
    "服务型制造示范企业（平台）": ("个", "3", "4", "5"),
    "重点行业规模以上制造企业智能应用场景覆盖率": ("%", "30", "60", "100"),
    "智能车间": ("个", "34", "37", "40"),
    "智能工厂": ("个", "16", "17", "18"),
    "绿色工厂": ("个", "22", "24", "25"),
    "绿色供应链管理企业": ("家", "2", "3", "4"),
    "首版次软件": ("个", "0", "1", "2"),
    "首台（套）重大技术装备": ("个", "0", "1", "2"),
    "制造业数字化赋能中心": ("个", "0", "1", "2"),
    "制造企业内部网改造标杆": ("个", "3", "6", "9"),
    "两化融合管理体系升级版贯标评定企业": ("家", "10", "30", "50"),
    "两化融合管理体系升级版对标诊断企业": ("家", "100", "300", "500"),
    "数据管理能力成熟度评估模型贯标企业": ("家", "2", "4", "6"),
}


def task_of(plan: Plan, number: int) -> Task:
    found = plan.task(number)
    assert found is not None, f"no task {number}"
    return found


def plans() -> PlanPack:
    return load_plans(PACKS)


def test_both_plans_load_next_to_panjin() -> None:
    loaded = plans()
    assert {"panjin-2024-equipment-renewal", DIGITAL, METEOROLOGY} <= set(loaded)
    digital, meteorology = loaded[DIGITAL].spec, loaded[METEOROLOGY].spec
    assert (digital.document, digital.jurisdiction) == ("驻政〔2023〕23号", "411700")
    assert digital.title == "驻马店市加快数字化转型推动制造业高端化智能化绿色化发展行动计划（2023—2025年）"
    assert (digital.issued_on, digital.horizon) == (dt.date(2023, 11, 21), dt.date(2025, 12, 31))
    assert (meteorology.document, meteorology.jurisdiction) == ("驻政〔2023〕22号", "411700")
    assert meteorology.title == "驻马店市人民政府关于加快推进气象高质量发展的实施意见"
    assert meteorology.horizon == dt.date(2035, 12, 31)
    for spec in (digital, meteorology):
        assert spec.leaders_file is None
        assert spec.implementing_jurisdictions == ZHUMADIAN_IMPLEMENTERS


def test_task_counts_match_the_documents() -> None:
    loaded = plans()
    digital = loaded[DIGITAL]
    # 二（一）…二（七）, three tasks each, numbered 1–3 afresh in the document
    assert [t.number for t in digital.spec.tasks] == list(range(1, 22))
    per_section = [sum(t.section == f"二({n})" for t in digital.spec.tasks) for n in "一二三四五六七"]
    assert per_section == [3] * 7
    assert task_of(digital, 8).text.startswith("打造智能车间。")
    assert task_of(digital, 6).lead_units == ["市工业和信息化局", "市发展改革委"]
    assert task_of(digital, 20).lead_units == [
        "市委组织部",
        "市人力资源和社会保障局",
        "市科技局",
        "市工业和信息化局",
    ]
    meteorology = loaded[METEOROLOGY]
    assert [t.number for t in meteorology.spec.tasks] == list(range(1, 21))
    per_section = [sum(t.section == f"二({n})" for t in meteorology.spec.tasks) for n in "一二三四五"]
    assert per_section == [5, 4, 5, 3, 3]
    assert task_of(meteorology, 9).text.startswith("全面提升防雷安全监管效能。")
    assert len(task_of(meteorology, 14).lead_units) == 25
    assert {i.task for i in meteorology.spec.indicators} == {2, 4, 12}  # see test_source_fidelity.py
    for task in (*digital.spec.tasks, *meteorology.spec.tasks):
        assert task.cooperating_units == []  # neither document names 配合单位
        assert "责任单位" not in task.text
        assert "按职责分工负责" not in task.text


def test_digital_indicators_follow_the_table() -> None:
    digital = plans()[DIGITAL]
    # the table's 15 rows (row 14 is two measures); other targets the text states are kept apart
    indicators = [i for i in digital.spec.indicators if i.table_row is not None]
    assert len(indicators) == 16
    assert {i.name for i in indicators} == set(TABLE)
    for indicator in indicators:
        unit, *values = TABLE[indicator.name]
        assert indicator.unit == unit, indicator.name
        assert indicator.direction == "higher"
        assert [(t.deadline, t.value, t.kind) for t in indicator.targets] == [
            (dt.date(year, 12, 31), Decimal(value), "cumulative")
            for year, value in zip((2023, 2024, 2025), values, strict=True)
        ]
        assert indicator.citation.startswith("驻政〔2023〕23号 一（二）")
        assert indicator.task is not None
        assert digital.task(indicator.task) is not None
    final = {i.name: i.targets[-1].value for i in indicators}
    assert final["“数字领航”企业"] == 2
    assert final["智能车间"] == 40
    assert final["两化融合管理体系升级版贯标评定企业"] == 50
    assert final["两化融合管理体系升级版对标诊断企业"] == 500
    assert len({i.citation.split("；")[0] for i in indicators}) == 15


def test_every_unit_resolves() -> None:
    loaded = plans()
    for plan_id in (DIGITAL, METEOROLOGY):
        plan = loaded[plan_id]
        for task in plan.spec.tasks:
            for unit in (*task.lead_units, *task.cooperating_units):
                assert plan.units.resolve(unit) is not None, (plan_id, task.number, unit)
    units = loaded[DIGITAL].units
    assert units.resolve("发展和改革委员会") == units.resolve("市发展改革委") == "市发展和改革委员会"
    assert units.resolve("市科技局") == units.resolve("科学技术局") == "市科学技术局"
    assert units.resolve("市通信管理办") == units.resolve("通信发展管理办公室") == "市通信发展管理办公室"
    assert units.resolve("供电公司") == "供电公司"
    assert units.resolve("市应急局") is None  # a Panjin name, not a Zhumadian one
