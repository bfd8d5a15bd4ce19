"""The county progress report as an XLSX workbook (the shape of the platform's other exports:
openpyxl, a title row, bilingual headers, numbers as spreadsheet numbers)."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook

from welfare.reports.schemas import CountyProgressReport, ProgramProgress

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROGRAM_NAMES = {
    "dibao": "低保",
    "tekun": "特困人员",
    "orphan_concentrated": "集中供养孤儿",
    "orphan_scattered": "散居孤儿",
    "retiree_1960s": "60年代精简退职职工",
    "all": "合计",
}
HEADERS = [
    "代码 code",
    "名称 name",
    "项目 program",
    "在册 active enrolments",
    "新增 started",
    "退出 ended",
    "发放笔数 payments",
    "发放金额 paid",
    "补发笔数 arrears entries",
    "补发金额 arrears",
    "待核多发笔数 overpayments",
    "待核多发金额 overpaid",
]


def _number(value: Decimal) -> float | int:
    """Amounts as spreadsheet numbers (people sort and sum them); the JSON keeps exact strings."""
    return int(value) if value == value.to_integral_value() else float(value)


def _cells(code: str, name: str, row: ProgramProgress) -> list[object]:
    return [
        code,
        name,
        PROGRAM_NAMES.get(row.program, row.program),
        row.active_enrolments,
        row.started,
        row.ended,
        row.paid_entries,
        _number(row.paid_total),
        row.arrears_entries,
        _number(row.arrears_total),
        row.overpayment_entries,
        _number(row.overpayment_total),
    ]


def to_xlsx(report: CountyProgressReport) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "县区进度"
    cited = f"{report.citation.document} {report.citation.article}"
    sheet.append([f"{report.jurisdiction} {report.month} 低保等标准落实进度（{cited}）"])
    sheet.append(HEADERS)
    for row in report.rows:
        for program in row.programs:
            sheet.append(_cells(row.jurisdiction, row.name, program))
        sheet.append(_cells(row.jurisdiction, row.name, row.totals))
    sheet.append(_cells(report.jurisdiction, "合计 total", report.totals))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
