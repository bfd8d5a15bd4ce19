"""The monthly bulletin as CSV (UTF-8 with BOM, so Chinese opens correctly in Excel) and as
an XLSX workbook. JSON keeps the API's status names; the CSV and XLSX, read by people in
the offices, say them in Chinese.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from renewal.bulletins.service import ON_TIME
from renewal.status.targets import STATUS_ORDER

STATUS_LABELS = {
    "achieved": "已完成",
    "on track": "按期推进",
    "at risk": "进度滞后",
    "missing report": "未报送",
    "overdue": "逾期未完成",
}


def as_csv(bulletin: dict[str, Any]) -> bytes:
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


def as_xlsx(bulletin: dict[str, Any]) -> bytes:
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
        sheet.append([header, "任务数", *(STATUS_LABELS[s] for s in STATUS_ORDER), "按时报送率"])
        for row in bulletin[key]:
            sheet.append(
                [
                    row[field],
                    row["tasks"],
                    *(row["statuses"].get(s, 0) for s in STATUS_ORDER),
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
