"""A year's results as an XLSX workbook: ranks, grades, points by component, rules applied,
lists of problems."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook

from appraisal.evaluation.schemas import YearResults
from appraisal.grading.schemas import round_total

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _number(value: Decimal) -> float | int:
    """Points as spreadsheet numbers (people sort and sum them); the JSON keeps exact strings."""
    return int(value) if value == value.to_integral_value() else float(value)


def to_xlsx(results: YearResults) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "考核结果"
    sheet.append([f"{results.document} {results.year} ({results.scheme})"])
    sheet.append(
        [
            "代码 code",
            "名称 name",
            "类别 kind",
            "基准分 base",
            "即时性工作 ad hoc",
            "加分 bonus",
            "省级加分 provincial bonus",
            "减分 deductions",
            "省级减分 provincial deduction",
            "总分 total",
            "名次 rank",
            "等级 grade",
            "降级情形 downgrades",
            "否决 veto",
            "阶段 stage",
            "通报日期 published on",
        ]
    )
    for row in results.results:
        sheet.append(
            [
                row.subject,
                row.name,
                row.kind,
                _number(row.base),
                _number(row.ad_hoc),
                _number(row.bonus),
                _number(row.provincial_bonus),
                _number(row.deductions),
                _number(row.provincial_deduction),
                _number(round_total(row.total)),
                row.rank,
                row.grade,
                row.downgrades,
                "是" if row.veto else "否",
                row.stage.value,
                row.published_on.isoformat() if row.published_on else None,
            ]
        )
    rules = workbook.create_sheet("适用规则")
    rules.append(["代码 code", "规则 rule", "说明 detail", "依据 citation", "解释口径 interpretation"])
    for row in results.results:
        for rule in row.applied:
            rules.append([row.subject, rule.rule, rule.detail, rule.citation, rule.interpretation])
    problems = workbook.create_sheet("问题清单")
    problems.append(["代码 code", "名称 name", "类别 kind", "说明 detail", "依据 citation"])
    for row in results.results:
        for problem in row.problems:
            problems.append([row.subject, row.name, problem.kind, problem.detail, problem.citation])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
