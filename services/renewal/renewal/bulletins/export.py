"""The monthly bulletin (月通报) as a report for people: the shared writer (``shared.exports``)
makes it an XLSX workbook, a CSV of the tasks, or a 通报 document (DOCX, PDF). JSON keeps the
API's status names; these say them in Chinese.

The workbook's first sheet is the bulletin itself (tasks by status, by responsible leader, by
reporting unit, the units that did not report, and the two charts); then the roll-up by lead
unit and every task with its text, filtered to the tasks that need attention (lagging, not
reported, overdue: the other rows are hidden, so the printout stays short; clearing the filter
shows all). The documents print the tasks that need attention in full; the others are listed
by number in the status table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from renewal.bulletins.service import ON_TIME
from renewal.status.targets import STATUS_ORDER
from shared.exports import Chart, Column, Report, Sheet, Table, to_csv
from shared.exports.model import Mark
from shared.jurisdictions import registry

STATUS_LABELS = {
    "achieved": "已完成",
    "on track": "按期推进",
    "at risk": "进度滞后",
    "missing report": "未报送",
    "overdue": "逾期未完成",
}
STATUS_MARKS: dict[str, Mark] = {"overdue": "overdue", "at risk": "lagging", "missing report": "lagging"}
ATTENTION = ("overdue", "missing report", "at risk")
TASK_COLUMNS = [
    Column("任务", "integer"),
    Column("牵头单位", max_width=24),
    Column("责任领导", max_width=10),
    Column("状态", max_width=10),
    Column("任务内容", max_width=100),
]


def _mark(statuses: dict[str, int]) -> Mark:
    if statuses.get("overdue"):
        return "overdue"
    return "lagging" if statuses.get("at risk") or statuses.get("missing report") else None


def _task_row(row: dict[str, Any]) -> list[Any]:
    return [
        row["number"],
        "、".join(row["lead_units"]),
        row["responsible_leader"] or "",
        STATUS_LABELS[row["status"]],
        row["text"],
    ]


def issuer_of(jurisdiction: str) -> str:
    """The office that issues a plan's bulletin: the general office of the government of the
    plan's jurisdiction (盘锦市人民政府办公室)."""
    place = registry().get(jurisdiction)
    return f"{place.name if place else jurisdiction}人民政府办公室"


def _sentences(bulletin: dict[str, Any]) -> list[str]:
    tasks = bulletin["tasks"]
    counts = {s: len(bulletin["by_status"][s]) for s in STATUS_ORDER}
    as_of = dt.date.fromisoformat(bulletin["as_of"])
    parts = "、".join(f"{STATUS_LABELS[s]}{counts[s]}项" for s in STATUS_ORDER if counts[s])
    sentences = [
        f"截至{as_of.year}年{as_of.month}月{as_of.day}日，《{bulletin['title']}》（{bulletin['document']}）"
        f"共{len(tasks)}项任务，其中{parts or '尚无任务'}。"
    ]
    duties = [r["states"] for r in bulletin["by_reporting_unit"]]
    on_time = sum(s.get(ON_TIME, 0) for s in duties)
    late = sum(s.get("submitted late", 0) for s in duties)
    missing = sum(s.get("missing", 0) for s in duties)
    if on_time + late + missing:
        rate = bulletin["on_time_rate"]
        sentences.append(
            f"截至本期，已到报送期限的报送{on_time + late + missing}次，"
            f"按时报送{on_time}次、逾期报送{late}次、未报送{missing}次，按时报送率{float(rate) * 100:.1f}%。"
        )
    else:
        sentences.append("本期尚无到期的报送。")
    not_reported = bulletin["units_not_reported"]
    if not_reported:
        listed = "；".join(f"{r['unit']}（任务{r['task']}，{r['period']}）" for r in not_reported)
        sentences.append(f"未按期报送进展情况的单位：{listed}。请上述单位抓紧补报。")
    elif on_time + late + missing:
        sentences.append("各责任单位均已报送到期的进展情况。")
    by_number = {t["number"]: t for t in tasks}
    for status, label in (("overdue", "逾期未完成"), ("at risk", "进度滞后")):
        numbers = bulletin["by_status"][status]
        if numbers:
            named = "；".join(
                f"任务{n}（牵头单位{'、'.join(by_number[n]['lead_units'])}，"
                f"责任领导{by_number[n]['responsible_leader'] or '未明确'}）"
                for n in numbers
            )
            sentences.append(f"{label}的任务：{named}。请责任领导督促牵头单位加快推进。")
    targets = bulletin["targets"]
    if any(targets.values()):
        sentences.append(
            f"目标指标方面，已完成{len(targets['achieved'])}项，逾期未完成{len(targets['overdue'])}项，"
            f"存在滞后风险{len(targets['at risk'])}项。"
        )
    return sentences


def report(bulletin: dict[str, Any], *, jurisdiction: str, made_on: dt.date) -> Report:
    year, month = (int(p) for p in bulletin["month"].split("-"))
    by_status = Table(
        "一、任务推进情况（按状态）",
        [Column("状态", max_width=12), Column("任务数", "integer"), Column("任务编号", max_width=34)],
        [
            [STATUS_LABELS[s], len(numbers), "、".join(str(n) for n in numbers)]
            for s, numbers in bulletin["by_status"].items()
        ],
        [STATUS_MARKS.get(s) for s in bulletin["by_status"]],
        span_last=True,
    )
    status_columns = [Column(STATUS_LABELS[s], "integer", max_width=8) for s in STATUS_ORDER]
    by_leader = Table(
        "二、按责任领导",
        [
            Column("责任领导", max_width=12),
            Column("任务数", "integer"),
            *status_columns,
            Column("按时报送率", "rate"),
        ],
        [
            [
                r["responsible_leader"],
                r["tasks"],
                *(r["statuses"].get(s, 0) for s in STATUS_ORDER),
                r["on_time_rate"],
            ]
            for r in bulletin["by_responsible_leader"]
        ],
        [_mark(r["statuses"]) for r in bulletin["by_responsible_leader"]],
    )
    by_reporting_unit = Table(
        "三、按报送单位",
        [
            Column("报送单位", max_width=24),
            Column("应报", "integer"),
            Column("按时", "integer"),
            Column("逾期", "integer"),
            Column("未报", "integer"),
            Column("待报", "integer"),
            Column("按时报送率", "rate"),
        ],
        [
            [
                r["unit"],
                r["expected"],
                r["states"].get(ON_TIME, 0),
                r["states"].get("submitted late", 0),
                r["states"].get("missing", 0),
                r["states"].get("due", 0),
                r["on_time_rate"],
            ]
            for r in bulletin["by_reporting_unit"]
        ],
        ["lagging" if r["states"].get("missing") else None for r in bulletin["by_reporting_unit"]],
        note=None if bulletin["by_reporting_unit"] else "本期无报送任务。",
    )
    not_reported = Table(
        "四、未报送单位",
        [Column("单位", max_width=24), Column("任务", "integer"), Column("期间", max_width=10)],
        [[r["unit"], r["task"], r["period"]] for r in bulletin["units_not_reported"]],
        ["lagging"] * len(bulletin["units_not_reported"]),
        note=None if bulletin["units_not_reported"] else "无。",
    )
    attention = [t for t in bulletin["tasks"] if t["status"] in ATTENTION]
    attention_table = Table(
        "五、需关注的任务（进度滞后、未报送、逾期未完成）",
        TASK_COLUMNS,
        [_task_row(t) for t in attention],
        [STATUS_MARKS.get(t["status"]) for t in attention],
        note=None if attention else "无。",
    )
    charts = [
        Chart("各责任领导任务状态", by_leader, category=0, series=range(2, 2 + len(STATUS_ORDER))),
    ]
    if bulletin["by_reporting_unit"]:
        charts.append(
            Chart(
                "各报送单位按时报送率", by_reporting_unit, category=0, series=[6], kind="column", percent=True
            )
        )
    status_columns_unit = [Column(STATUS_LABELS[s], "integer", max_width=8) for s in STATUS_ORDER]
    by_lead_unit = Table(
        "按牵头单位",
        [
            Column("牵头单位", max_width=28),
            Column("任务数", "integer"),
            *status_columns_unit,
            Column("按时报送率", "rate"),
        ],
        [
            [r["lead_unit"], r["tasks"], *(r["statuses"].get(s, 0) for s in STATUS_ORDER), r["on_time_rate"]]
            for r in bulletin["by_lead_unit"]
        ],
        [_mark(r["statuses"]) for r in bulletin["by_lead_unit"]],
    )
    details = Table(
        "任务明细",
        TASK_COLUMNS,
        [_task_row(t) for t in bulletin["tasks"]],
        [STATUS_MARKS.get(t["status"]) for t in bulletin["tasks"]],
        note=f"已筛选出需关注的任务（{'、'.join(STATUS_LABELS[s] for s in ATTENTION)}）；"
        f"清除“状态”列的筛选可查看全部{len(bulletin['tasks'])}项任务。",
        filter=(3, [STATUS_LABELS[s] for s in ATTENTION]),
    )
    return Report(
        title=f"关于{bulletin['title']}{year}年{month}月推进情况的通报",
        period=f"{year}年{month}月",
        issuer=issuer_of(jurisdiction),
        made_on=made_on,
        reference=bulletin["document"],
        paragraphs=_sentences(bulletin),
        sheets=[
            Sheet("月通报", [by_status, by_leader, by_reporting_unit, not_reported], charts),
            Sheet("需关注任务", [attention_table], documents_only=True),
            Sheet("按牵头单位", [by_lead_unit], workbook_only=True),
            Sheet("任务明细", [details], workbook_only=True),
        ],
    )


def as_csv(bulletin: dict[str, Any]) -> bytes:
    return to_csv(Table("任务明细", TASK_COLUMNS, [_task_row(t) for t in bulletin["tasks"]]))
