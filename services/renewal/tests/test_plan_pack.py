"""The plan files: what 盘政发〔2024〕4号 and 驻政〔2023〕22/23号 say, loaded and checked; broken
copies fail with a message naming the file, the field and the problem."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from renewal.config import SERVICE_ROOT
from renewal.plans.pack import PlanPack, load_plans
from shared.errors import PackError
from shared.jurisdictions import registry

PACKS = SERVICE_ROOT / "packs"
PANJIN = "panjin-2024-equipment-renewal"
DIGITAL = "zhumadian-2023-digital-transformation"
METEOROLOGY = "zhumadian-2023-meteorology"

IND = "市工业和信息化局"
NDRC = "市发展改革委"
SAMR = "市市场监管局"
ECO = "市生态环境局"
EMERGENCY = "市应急局"
HOUSING = "市住房城乡建设局"
FINANCE = "市财政局"
POLICE = "市公安局"
TRANSPORT = "市交通运输局"
AGRI = "市农业农村局"
COMMERCE = "市商务局"

# 盘政发〔2024〕4号: task → (牵头单位, 配合单位), as the plan writes them
PANJIN_UNITS: dict[int, tuple[list[str], list[str]]] = {
    1: ([IND], []),
    2: ([IND], [NDRC, SAMR]),
    3: ([ECO], [IND]),
    4: ([NDRC], []),
    5: (["国网盘锦供电公司"], []),
    6: ([IND], []),
    7: ([EMERGENCY], []),
    8: ([SAMR], [IND, NDRC, ECO, EMERGENCY]),
    9: ([HOUSING], [SAMR]),
    10: ([HOUSING], [FINANCE, SAMR]),
    11: ([HOUSING], ["市水务集团"]),
    12: ([HOUSING], []),
    13: ([HOUSING], []),
    14: ([HOUSING], []),
    15: ([HOUSING], []),
    16: ([HOUSING], []),
    17: ([HOUSING], []),
    18: ([POLICE], []),
    19: ([TRANSPORT], [FINANCE]),
    20: ([POLICE], [TRANSPORT, ECO]),
    21: ([AGRI], []),
    22: ([AGRI], []),
    23: (["市教育局"], ["市人力资源社会保障局"]),
    24: (["市文旅广电局"], []),
    25: (["市卫生健康委"], []),
    26: ([COMMERCE], [TRANSPORT, FINANCE, POLICE, NDRC]),
    27: ([POLICE], []),
    28: ([COMMERCE], [FINANCE, SAMR]),
    29: ([COMMERCE], [HOUSING, FINANCE]),
    30: ([COMMERCE], []),
    31: ([ECO], [NDRC]),
    32: ([ECO], [COMMERCE, NDRC]),
    33: ([POLICE], [COMMERCE]),
    34: ([SAMR], [COMMERCE]),
    35: ([IND], [NDRC]),
    36: ([IND], []),
    37: ([NDRC], []),
    38: ([SAMR], [NDRC, IND, ECO, "市水利局"]),
    39: ([SAMR], [NDRC, TRANSPORT, HOUSING]),
    40: ([SAMR], []),
    41: ([SAMR], []),
    42: ([NDRC], [IND, "市科技局"]),
    43: ([IND], [NDRC, FINANCE, COMMERCE, SAMR]),
    44: ([COMMERCE], [NDRC, IND]),
    45: ([NDRC], [FINANCE]),
    46: ([COMMERCE], [FINANCE]),
    47: ([TRANSPORT], [FINANCE]),
    48: ([ECO], [FINANCE]),
    49: ([HOUSING], [FINANCE]),
    50: (["市税务局"], [IND]),
    51: (["市自然资源局"], []),
    52: ([NDRC], []),
    53: ([NDRC], []),
    54: ([NDRC], []),
}
# the heading each task stands under: first task number of each (二)(一)… section
PANJIN_SECTIONS = {
    1: "二(一)",
    9: "二(二)",
    19: "二(三)",
    23: "二(四)",
    26: "三(一)",
    28: "三(二)",
    30: "四(一)",
    33: "四(二)",
    35: "四(三)",
    36: "四(四)",
    38: "五(一)",
    39: "五(二)",
    41: "五(三)",
    42: "六(一)",
    44: "六(二)",
    45: "七(一)",
    51: "七(二)",
    52: "八(一)",
    53: "八(二)",
    54: "八(三)",
}


@pytest.fixture(scope="module")
def plans() -> PlanPack:
    return load_plans(PACKS)


def test_the_three_plans_load(plans: PlanPack) -> None:
    assert sorted(plans) == [PANJIN, DIGITAL, METEOROLOGY]
    assert sorted(plans.units) == ["211100", "411700"]
    assert list(plans.divisions) == ["panjin-2024-leaders"]


def test_the_panjin_plan_header(plans: PlanPack) -> None:
    spec = plans[PANJIN].spec
    assert spec.title == "盘锦市推动大规模设备更新和消费品以旧换新行动实施方案"
    assert (spec.document, spec.jurisdiction) == ("盘政发〔2024〕4号", "211100")
    assert (spec.issued_on, spec.horizon) == (dt.date(2024, 5, 20), dt.date(2027, 12, 31))
    assert spec.leaders_file == "panjin-2024-leaders.yaml"
    # 以下均需各县区政府、经济区管委会落实: every county, district and zone of Panjin
    assert set(spec.implementing_jurisdictions) == set(registry().subtree("211100")) - {"211100"}
    assert len(spec.implementing_jurisdictions) == 6
    assert spec.implementing_citation is not None
    assert "以下均需各县区政府、经济区管委会落实" in spec.implementing_citation


def test_all_54_panjin_tasks_numbered_without_gaps(plans: PlanPack) -> None:
    tasks = plans[PANJIN].spec.tasks
    assert [task.number for task in tasks] == list(range(1, 55))
    assert all(task.numbered_as is None for task in tasks)


def test_every_panjin_task_has_its_units_as_written(plans: PlanPack) -> None:
    plan = plans[PANJIN]
    for task in plan.spec.tasks:
        lead, cooperating = PANJIN_UNITS[task.number]
        assert (task.lead_units, task.cooperating_units) == (lead, cooperating), task.number


def test_every_panjin_task_sits_under_its_heading(plans: PlanPack) -> None:
    plan = plans[PANJIN]
    section = ""
    for task in plan.spec.tasks:
        section = PANJIN_SECTIONS.get(task.number, section)
        assert task.section == section, task.number
        printed = section.replace("(", "（").replace(")", "）")
        assert task.citation == f"盘政发〔2024〕4号 {printed}{task.number}"
    titles = {s.code: s.title for s in plan.spec.sections}
    assert titles["二"] == "实施设备更新行动"
    assert titles["二(一)"] == "推进重点行业设备更新改造"
    assert titles["二(三)"] == "推动交通运输设备和老旧农业机械更新"
    assert titles["八(三)"] == "加强宣传引导"
    assert {s.parent for s in plan.spec.sections if s.parent} == {"二", "三", "四", "五", "六", "七", "八"}


def test_panjin_task_texts(plans: PlanPack) -> None:
    plan = plans[PANJIN]

    def text(number: int) -> str:
        task = plan.task(number)
        assert task is not None
        return task.text

    assert text(1).startswith("推广应用智能制造设备和软件，加快工业互联网建设和普及应用")
    assert "故障检测和定位系统等" in text(5)  # joined across the gazette's page break
    assert "逐步淘汰30年以上的铸铁管、钢管。到2027年，更新改造老旧供水管网20公里以上" in text(11)
    assert "力争市级公共供水管网漏损率控制在10%以内" in text(11)
    assert text(13) == "实施燃气等老化管道更新改造，改造全部灰口铸铁管道、经评估存在安全隐患的燃气管网。"
    assert text(20).startswith("加快淘汰国三及以下排放标准营运类柴油货车")
    assert "力争2024年底前，更新改造26艘渔船；2025年底前，更新改造8艘渔船" in text(21)
    assert "加快15年以上的老旧拖拉机、12年以上的联合收割机、10年以上的悬挂式联合收割机" in text(22)
    assert text(54).endswith("积极探索可复制、可推广的典型模式。")
    for task in plan.spec.tasks:
        assert "牵头单位" not in task.text, task.number
        assert "配合单位" not in task.text, task.number


def test_panjin_task_notes(plans: PlanPack) -> None:
    plan = plans[PANJIN]
    notes = {task.number: task.note for task in plan.spec.tasks if task.note}
    assert notes == {
        1: "以下均需各县区政府、经济区管委会落实，不再列出",
        52: "专班各成员单位按职责分工负责",
        53: "专班各成员单位按职责分工负责",
        54: "专班各成员单位按职责分工负责",
    }


def test_units_resolve_with_their_aliases(plans: PlanPack) -> None:
    panjin = plans[PANJIN].units
    for task in plans[PANJIN].spec.tasks:
        for unit in task.all_units:
            assert panjin.resolve(unit) == unit, (task.number, unit)  # the plan writes canonical names
    assert panjin.resolve("市文化旅游和广播电视局") == panjin.resolve("市文旅广电局") == "市文旅广电局"
    assert panjin.resolve("市文化旅游和广播电视局（体育局、文物局）") == "市文旅广电局"
    assert panjin.resolve("电力公司") == "国网盘锦供电公司"
    assert panjin.resolve("市发展和改革委员会(粮食和物资储备局、能源局、国防动员办、人防办)") == NDRC
    assert panjin.resolve("住房和城乡建设局") == HOUSING
    assert panjin.resolve("市场监督管理局（知识产权局）") == SAMR
    assert panjin.resolve("市通信管理办") is None  # a Zhumadian name
    zhumadian = plans[DIGITAL].units
    assert zhumadian.resolve("发展和改革委员会") == zhumadian.resolve("市发展改革委") == "市发展和改革委员会"
    assert zhumadian.resolve("市科技局") == zhumadian.resolve("科学技术局") == "市科学技术局"
    assert zhumadian.resolve("市通信管理办") == "市通信发展管理办公室"
    assert zhumadian.resolve("市应急局") is None  # a Panjin name
    for plan_id in (DIGITAL, METEOROLOGY):
        for task in plans[plan_id].spec.tasks:
            for unit in task.all_units:
                assert zhumadian.resolve(unit) is not None, (plan_id, task.number, unit)


def test_every_unit_cites_where_it_is_named(plans: PlanPack) -> None:
    for register in plans.units.values():
        for entry in register.entries.values():
            assert entry.named_in, entry.name
    water = plans.units["211100"].entries["市水务集团"]
    assert water.named_in == ["盘政发〔2024〕4号 任务11"]
    assert plans.units["211100"].entries["盘山县政府"].governs == "211122"


def test_panjin_targets(plans: PlanPack) -> None:
    plan = plans[PANJIN]
    found = {
        i.id: (
            i.task,
            i.direction,
            i.baseline.year if i.baseline else None,
            [(t.deadline, t.value, t.kind, t.strict) for t in i.targets],
        )
        for i in plan.spec.indicators
    }
    end_2027 = dt.date(2027, 12, 31)
    assert found == {
        # 一 总体目标
        "equipment-investment": (None, "higher", 2023, [(end_2027, Decimal(25), "relative", False)]),
        "rd-design-tool-penetration": (None, "higher", None, [(end_2027, Decimal(90), "absolute", True)]),
        "key-process-nc-rate": (None, "higher", None, [(end_2027, Decimal(75), "absolute", True)]),
        "scrapped-vehicle-recycling": (None, "higher", 2023, [(end_2027, Decimal(100), "relative", False)]),
        "used-car-transactions": (None, "higher", 2023, [(end_2027, Decimal(45), "relative", False)]),
        "appliance-recycling": (None, "higher", 2023, [(end_2027, Decimal(30), "relative", False)]),
        # task 11: ≥ 20 km of pipes, leakage ≤ 10%
        "water-pipes-renewed": (11, "higher", None, [(end_2027, Decimal(20), "cumulative", False)]),
        "water-network-leakage": (11, "lower", None, [(end_2027, Decimal(10), "absolute", False)]),
        # task 21: 26 boats by the end of 2024, 8 more by the end of 2025
        "fishing-boats-renovated": (
            21,
            "higher",
            None,
            [
                (dt.date(2024, 12, 31), Decimal(26), "cumulative", False),
                (dt.date(2025, 12, 31), Decimal(34), "cumulative", False),
            ],
        ),
    }
    for indicator in plan.spec.indicators:
        expected_prefix = "盘政发〔2024〕4号 一" if indicator.task is None else "盘政发〔2024〕4号 二"
        assert indicator.citation.startswith(expected_prefix), indicator.id
    assert plan.spec.overall_goal is not None
    assert "较2023年增长25%以上" in plan.spec.overall_goal.text


# 驻政〔2023〕23号 一（二）: 全市制造业数字化转型主要目标 (cumulative 2023 / 2024 / 2025); row 14
# holds two measures.
DIGITAL_TABLE = {
    1: [("“数字领航”企业", "个", (0, 1, 2))],
    2: [("中小企业数字化转型标杆", "个", (5, 10, 15))],
    3: [("数字化转型示范区", "个", (1, 1, 2))],
    4: [("服务型制造示范企业（平台）", "个", (3, 4, 5))],
    5: [("重点行业规模以上制造企业智能应用场景覆盖率", "%", (30, 60, 100))],
    6: [("智能车间", "个", (34, 37, 40))],
    7: [("智能工厂", "个", (16, 17, 18))],
    8: [("绿色工厂", "个", (22, 24, 25))],
    9: [("绿色供应链管理企业", "家", (2, 3, 4))],
    10: [("首版次软件", "个", (0, 1, 2))],
    11: [("首台（套）重大技术装备", "个", (0, 1, 2))],
    12: [("制造业数字化赋能中心", "个", (0, 1, 2))],
    13: [("制造企业内部网改造标杆", "个", (3, 6, 9))],
    14: [
        ("两化融合管理体系升级版贯标评定企业", "家", (10, 30, 50)),
        ("两化融合管理体系升级版对标诊断企业", "家", (100, 300, 500)),
    ],
    15: [("数据管理能力成熟度评估模型贯标企业", "家", (2, 4, 6))],
}


def test_the_digital_transformation_plan(plans: PlanPack) -> None:
    plan = plans[DIGITAL]
    spec = plan.spec
    assert spec.title == "驻马店市加快数字化转型推动制造业高端化智能化绿色化发展行动计划（2023—2025年）"
    assert (spec.document, spec.jurisdiction) == ("驻政〔2023〕23号", "411700")
    assert (spec.issued_on, spec.horizon) == (dt.date(2023, 11, 21), dt.date(2025, 12, 31))
    assert spec.leaders_file is None
    assert set(spec.implementing_jurisdictions) == set(registry().subtree("411700")) - {"411700"}
    assert spec.review_cadence is not None
    assert spec.review_cadence.text == "月通报、季调度、年中观摩、年底考核"
    # 二（一）…二（七), three tasks each, numbered 1–3 afresh in the document
    assert [task.number for task in spec.tasks] == list(range(1, 22))
    assert [(task.section, task.numbered_as) for task in spec.tasks] == [
        (f"二({n})", k) for n in "一二三四五六七" for k in (1, 2, 3)
    ]
    assert spec.unit_roles == "responsible"
    sixth = plan.task(6)
    assert sixth is not None
    assert sixth.citation == "驻政〔2023〕23号 二（二）3"
    assert sixth.lead_units == ["市工业和信息化局", "市发展改革委"]
    twentieth = plan.task(20)
    assert twentieth is not None
    assert twentieth.lead_units == ["市委组织部", "市人力资源和社会保障局", "市科技局", "市工业和信息化局"]
    for task in spec.tasks:
        assert task.cooperating_units == []
        assert "责任单位" not in task.text


def test_the_digital_transformation_table(plans: PlanPack) -> None:
    spec = plans[DIGITAL].spec
    table = [i for i in spec.indicators if i.table_row is not None]
    assert len({i.table_row for i in table}) == 15
    assert len(table) == 16
    for indicator in table:
        assert indicator.table_row is not None
        rows = {name: (unit, values) for name, unit, values in DIGITAL_TABLE[indicator.table_row]}
        unit, values = rows[indicator.name]
        assert indicator.unit == unit
        assert indicator.direction == "higher"
        assert [(t.deadline, t.value, t.kind) for t in indicator.targets] == [
            (dt.date(year, 12, 31), Decimal(value), "cumulative")
            for year, value in zip((2023, 2024, 2025), values, strict=True)
        ]
        assert indicator.citation.startswith(
            f"驻政〔2023〕23号 一（二）主要目标表 序号{indicator.table_row}；"
        )
        assert indicator.task is not None
    # the rates of 一（二）主要目标 and the targets the tasks add
    others = {
        i.id: (i.task, [(t.deadline, t.value) for t in i.targets])
        for i in spec.indicators
        if i.table_row is None
    }
    end_2025 = dt.date(2025, 12, 31)
    assert others == {
        "rd-design-tool-penetration": (None, [(end_2025, Decimal(85))]),
        "equipment-digitisation-rate": (None, [(end_2025, Decimal(54))]),
        "key-process-nc-rate": (None, [(end_2025, Decimal(58))]),
        "industry-chain-platform-coverage": (2, [(end_2025, Decimal(100))]),
        "green-design-products": (10, [(end_2025, Decimal(3))]),
        "software-parks": (13, [(end_2025, Decimal(1))]),
        "robot-replacement-projects": (14, [(end_2025, Decimal(3))]),
        "digital-service-providers": (15, [(end_2025, Decimal(3))]),
        "identifier-resolution-nodes": (16, [(end_2025, Decimal(1))]),
        "industrial-internet-platforms": (17, [(end_2025, Decimal(2))]),
    }


def test_the_meteorology_plan(plans: PlanPack) -> None:
    plan = plans[METEOROLOGY]
    spec = plan.spec
    assert spec.title == "驻马店市人民政府关于加快推进气象高质量发展的实施意见"
    assert spec.document == "驻政〔2023〕22号"
    assert spec.issued_on is None  # the gazette prints no date for it
    assert spec.issued_on_note is not None
    assert spec.horizon == dt.date(2035, 12, 31)
    assert [task.number for task in spec.tasks] == list(range(1, 21))
    per_section = [sum(t.section == f"二({n})" for t in spec.tasks) for n in "一二三四五"]
    assert per_section == [5, 4, 5, 3, 3]
    # the numeric targets of tasks 2, 4 and 12 (test_source_fidelity.py), none of them dated
    assert sorted({i.task for i in spec.indicators if i.task}) == [2, 4, 12]
    assert all(t.deadline is None for i in spec.indicators for t in i.targets)
    first, fourteenth = plan.task(1), plan.task(14)
    assert first is not None
    assert fourteenth is not None
    assert first.lead_units[:3] == ["市气象局", "发展和改革委员会", "自然资源和规划局"]
    assert first.lead_units[-1] == "驻马店水文局"
    assert len(fourteenth.lead_units) == 25
    assert fourteenth.lead_units[-3:] == ["驻马店火车站", "消防救援支队", "驻马店水文局"]
    for task in spec.tasks:
        assert "按职责分工负责" not in task.text


# ---------------------------------------------------------------- broken copies


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    for path in PACKS.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / file
    text = target.read_text(encoding="utf-8")
    assert old in text, old
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("file", "old", "new", "field", "problem"),
    [
        pytest.param(
            f"{PANJIN}.yaml",
            "- number: 7\n",
            "- number: 8\n",
            "tasks.6.number",
            "without gaps; found 8 where 7 belongs (missing: 7)",
            id="gap in the numbering",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            "lead_units:\n  - 市应急局",
            "lead_units:\n  - 市应急办",
            "tasks.6.lead_units.0",
            "unknown unit 市应急办",
            id="unknown lead unit",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            "cooperating_units:\n  - 市水务集团",
            "cooperating_units:\n  - 盘锦水务公司",
            "tasks.10.cooperating_units.0",
            "unknown unit 盘锦水务公司",
            id="unknown cooperating unit",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            '{deadline: 2027-12-31, value: "90", kind: absolute, strict: true}',
            '{value: "90", kind: absolute, strict: true}',
            "indicators.1.targets.0.deadline",
            "every target needs a deadline",
            id="target without a deadline",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            "  direction: lower\n",
            "  direction: down\n",
            "indicators.7.direction",
            "'higher' or 'lower'",
            id="direction outside its list",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            '{deadline: 2027-12-31, value: "25", kind: relative}',
            '{deadline: 2027-12-31, value: "25", kind: percent}',
            "indicators.0.targets.0.kind",
            "'absolute', 'cumulative' or 'relative'",
            id="kind outside its list",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            "- number: 3\n  section: 二(一)\n",
            "- number: 3\n  sektion: 二(一)\n",
            "tasks.2.sektion",
            "unknown field 'sektion'",
            id="misspelt field name",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            "  section: 二(四)\n",
            "  section: 二(九)\n",
            "tasks.22.section",
            "unknown section 二(九)",
            id="unknown section",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            "lead_units:\n  - 市税务局",
            "lead_units:\n  - 市水务集团",
            "tasks.49.lead_units.0",
            "no leader supervises or liaises with 市水务集团",
            id="lead unit without a leader",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            '{deadline: 2025-12-31, value: "34", kind: cumulative',
            '{deadline: 2025-12-31, value: "20", kind: cumulative',
            "indicators.8.targets.1.value",
            "cannot fall back",
            id="cumulative target falling back",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            '  baseline: {year: 2023, value: null}\n  targets: [{deadline: 2027-12-31, value: "25"',
            '  targets: [{deadline: 2027-12-31, value: "25"',
            "indicators.0.targets.0.kind",
            "needs the indicator's baseline",
            id="relative target without baseline",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            'value: "20", kind: cumulative}]',
            'value: "20", kind: cumulative, deadline: 2029-12-31}]',
            "indicators.6.targets.0.deadline",
            "after the plan's horizon",
            id="deadline after the horizon",
        ),
        pytest.param(
            f"{DIGITAL}.yaml",
            "- number: 5\n  numbered_as: 2\n",
            "- number: 5\n  numbered_as: 3\n",
            "tasks.4.numbered_as",
            "numbered 1, 2, 3 … without gaps",
            id="gap in a section's printed numbers",
        ),
        pytest.param(
            "units.yaml",
            "aliases: [生态环境局]",
            "aliases: [生态环境局, 交通运输局]",
            "registers.0.units.10.aliases.0",
            "交通运输局 already names 市生态环境局",
            id="alias of two units",
        ),
        pytest.param(
            "units.yaml",
            "kind: units\n",
            "",
            "kind",
            "unknown file kind None",
            id="file without its kind",
        ),
        pytest.param(
            f"{METEOROLOGY}.yaml",
            'targets: [{deadline: null, value: "1", kind: absolute, note: "the task states no date',
            'targets: [{deadline: null, value: "1", kind: absolute, nota: "the task states no date',
            "indicators.0.targets.0.nota",
            "unknown field 'nota'",
            id="misspelt note of an undated target",
        ),
        pytest.param(
            f"{METEOROLOGY}.yaml",
            'targets: [{deadline: null, value: "1", kind: absolute, note: "the task states no date (逐步); '
            'undated_target_deadline decides what it is judged against"}]\n  citation: 驻政〔2023〕22号 二（一）2',
            'targets: [{deadline: null, value: "1", kind: absolute}]\n  citation: 驻政〔2023〕22号 二（一）2',
            "indicators.0.targets.0.note",
            "says in its note that the source states none",
            id="undated target without a note",
        ),
        pytest.param(
            f"{PANJIN}.yaml",
            "    aspect: 安全\n    unit: 市应急局\n",
            "    aspect: 安全\n    unit: 市公安局\n",
            "tasks.7.aspects.2.unit",
            "市公安局 is not a lead or cooperating unit of the task",
            id="aspect given to a unit outside the task",
        ),
        pytest.param(
            f"{DIGITAL}.yaml",
            '  amount: "200000.00"\n',
            "",
            "rewards.1.amount",
            "a one-off reward needs a positive amount",
            id="one-off reward without its amount",
        ),
        pytest.param(
            f"{DIGITAL}.yaml",
            "- {number: 14, content:",
            "- {number: 15, content:",
            "county_assessment.categories.4.items.1.number",
            "found 15 where 14 belongs",
            id="gap in the assessment items",
        ),
        pytest.param(
            f"{DIGITAL}.yaml",
            "      related_indicators: [smart-scenario-coverage]\n",
            "      related_indicators: [smart-scenario-coverge]\n",
            "county_assessment.categories.2.items.1.related_indicators.0",
            "the plan has no indicator smart-scenario-coverge",
            id="assessment item naming an unknown indicator",
        ),
    ],
)
def test_a_broken_pack_fails_naming_file_field_and_problem(
    tmp_path: Path, file: str, old: str, new: str, field: str, problem: str
) -> None:
    with pytest.raises(PackError) as caught:
        load_plans(broken_copy(tmp_path, file, old, new))
    assert caught.value.file == file
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert file in str(caught.value)
    assert field in str(caught.value)
