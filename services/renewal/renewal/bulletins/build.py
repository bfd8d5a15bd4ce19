"""The monthly bulletin (月通报) of a plan: tasks by status, units that did not report,
targets achieved / overdue / at risk, rolled up by lead unit and by responsible leader
with on-time reporting rates; as JSON, CSV (UTF-8 with BOM) and XLSX. JSON keeps the API's
status names; the CSV and XLSX, read by people in the offices, say them in Chinese.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from openpyxl import Workbook

from renewal.plans.pack import Plan
from renewal.status.engine import ORDER
from renewal.status.service import PlanState

ON_TIME = "submitted on time"
STATUS_LABELS = {
    "achieved": "已完成",
    "on track": "按期推进",
    "at risk": "进度滞后",
    "missing report": "未报送",
    "overdue": "逾期未完成",
}
SETTLED = (ON_TIME, "submitted late", "missing")


def _rate(states: list[str]) -> str | None:
    settled = [s for s in states if s in SETTLED]
    return None if not settled else f"{sum(s == ON_TIME for s in settled) / len(settled):.2f}"


def build(plan: Plan, month: str, state: PlanState) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for task_state in state.tasks:
        task = plan.task(task_state.number)
        assert task is not None
        leader = task_state.leader["name"] if task_state.leader else None
        rows.append(
            {
                "number": task.number,
                "text": task.text,
                "lead_units": [plan.units.resolve(u) or u for u in task.lead_units],
                "responsible_leader": leader,
                "status": task_state.status,
            }
        )
    by_status = {status: [r["number"] for r in rows if r["status"] == status] for status in ORDER}

    def rollup(key: str) -> list[dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"tasks": 0, "statuses": defaultdict(int), "duties": []}
        )
        for row, task_state in zip(rows, state.tasks, strict=True):
            names = row["lead_units"] if key == "lead_unit" else [row["responsible_leader"] or "—"]
            for name in names:
                group = groups[name]
                group["tasks"] += 1
                group["statuses"][row["status"]] += 1
                group["duties"].extend(d.state for d in task_state.duties)
        return [
            {
                key: name,
                "tasks": g["tasks"],
                "statuses": dict(g["statuses"]),
                "on_time_rate": _rate(g["duties"]),
            }
            for name, g in sorted(groups.items())
        ]

    reporting: dict[str, list[str]] = defaultdict(list)
    for duty in state.duties:
        reporting[duty.unit].append(duty.state)
    by_reporting_unit = [
        {
            "unit": unit,
            "expected": len(states),
            "states": {s: states.count(s) for s in sorted(set(states))},
            "on_time_rate": _rate(states),
        }
        for unit, states in sorted(reporting.items())
    ]
    missing = sorted({(d.unit, d.task, d.period) for d in state.duties if d.state == "missing"})
    targets = [t for task_state in state.tasks for t in task_state.targets] + state.plan_targets
    return {
        "plan": plan.id,
        "title": plan.spec.title,
        "document": plan.spec.document,
        "month": month,
        "as_of": state.on.isoformat(),
        "tasks": rows,
        "by_status": by_status,
        "by_lead_unit": rollup("lead_unit"),
        "by_responsible_leader": rollup("responsible_leader"),
        "by_reporting_unit": by_reporting_unit,
        "units_not_reported": [{"unit": u, "task": t, "period": p} for u, t, p in missing],
        "targets": {
            status: [
                {
                    "indicator": t.indicator,
                    "deadline": t.deadline.isoformat(),
                    "latest": str(t.latest) if t.latest is not None else None,
                    "target": str(t.target) if t.target is not None else None,
                    "reason": t.reason,
                }
                for t in targets
                if t.status == status
            ]
            for status in ("achieved", "overdue", "at risk")
        },
        "on_time_rate": _rate([d.state for d in state.duties]),
    }


def to_csv(bulletin: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["任务", "牵头单位", "责任领导", "状态", "任务内容"])
    for row in bulletin["tasks"]:
        writer.writerow(
            [
                row["number"],
                "、".join(row["lead_units"]),
                row["responsible_leader"] or "",
                STATUS_LABELS[row["status"]],
                row["text"],
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(bulletin: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "按状态"
    sheet.append(["状态", "任务数", "任务编号"])
    for status, numbers in bulletin["by_status"].items():
        sheet.append([STATUS_LABELS[status], len(numbers), "、".join(str(n) for n in numbers)])
    for title, key, field, header in (
        ("按牵头单位", "by_lead_unit", "lead_unit", "牵头单位"),
        ("按责任领导", "by_responsible_leader", "responsible_leader", "责任领导"),
    ):
        sheet = book.create_sheet(title)
        sheet.append([header, "任务数", *(STATUS_LABELS[s] for s in ORDER), "按时报送率"])
        for row in bulletin[key]:
            sheet.append(
                [
                    row[field],
                    row["tasks"],
                    *(row["statuses"].get(s, 0) for s in ORDER),
                    row["on_time_rate"] or "",
                ]
            )
    sheet = book.create_sheet("按报送单位")
    sheet.append(["报送单位", "应报", "按时", "逾期", "未报", "待报", "按时报送率"])
    for row in bulletin["by_reporting_unit"]:
        states = row["states"]
        sheet.append(
            [
                row["unit"],
                row["expected"],
                states.get(ON_TIME, 0),
                states.get("submitted late", 0),
                states.get("missing", 0),
                states.get("due", 0),
                row["on_time_rate"] or "",
            ]
        )
    sheet = book.create_sheet("未报送单位")
    sheet.append(["单位", "任务", "期间"])
    for row in bulletin["units_not_reported"]:
        sheet.append([row["unit"], row["task"], row["period"]])
    sheet = book.create_sheet("任务明细")
    sheet.append(["任务", "牵头单位", "责任领导", "状态", "任务内容"])
    for row in bulletin["tasks"]:
        sheet.append(
            [
                row["number"],
                "、".join(row["lead_units"]),
                row["responsible_leader"] or "",
                STATUS_LABELS[row["status"]],
                row["text"],
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
