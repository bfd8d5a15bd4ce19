"""The county progress report through the platform's one export writer (``shared.exports``):
a title block, one table of every jurisdiction and program, numbers as spreadsheet numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from shared.exports import Column, Report, Sheet, Table
from shared.jurisdictions import registry
from welfare.reports.schemas import CountyProgressReport, ProgramProgress

PROGRAM_NAMES = {
    "dibao": "低保",
    "tekun": "特困人员",
    "orphan_concentrated": "集中供养孤儿",
    "orphan_scattered": "散居孤儿",
    "retiree_1960s": "60年代精简退职职工",
    "all": "合计",
}
COLUMNS = [
    Column("代码 code", max_width=12),
    Column("名称 name", max_width=16),
    Column("项目 program", max_width=18),
    Column("在册 active enrolments", "integer"),
    Column("新增 started", "integer"),
    Column("退出 ended", "integer"),
    Column("发放笔数 payments", "integer"),
    Column("发放金额 paid", "number"),
    Column("补发笔数 arrears entries", "integer"),
    Column("补发金额 arrears", "number"),
    Column("待核多发笔数 overpayments", "integer"),
    Column("待核多发金额 overpaid", "number"),
]


def _cells(code: str, name: str, row: ProgramProgress) -> list[object]:
    return [
        code,
        name,
        PROGRAM_NAMES.get(row.program, row.program),
        row.active_enrolments,
        row.started,
        row.ended,
        row.paid_entries,
        row.paid_total,
        row.arrears_entries,
        row.arrears_total,
        row.overpayment_entries,
        row.overpayment_total,
    ]


def report(progress: CountyProgressReport, *, made_on: dt.date) -> Report:
    rows: list[Sequence[Any]] = []
    for row in progress.rows:
        rows.extend(_cells(row.jurisdiction, row.name, program) for program in row.programs)
        rows.append(_cells(row.jurisdiction, row.name, row.totals))
    rows.append(_cells(progress.jurisdiction, "合计 total", progress.totals))
    cited = f"{progress.citation.document} {progress.citation.article}"
    table = Table(
        heading=f"{progress.jurisdiction} {progress.month} 低保等标准落实进度（{cited}）",
        columns=COLUMNS,
        rows=rows,
        note="补发、待核多发按记账日期计入当月；待核多发未经审核决定不从后续发放中扣减。",
    )
    return Report(
        title="困难群众救助标准落实情况月报",
        period=str(progress.month),
        issuer=f"{registry().require(progress.jurisdiction).name}民政局",
        made_on=made_on,
        reference=progress.citation.document,
        sheets=[Sheet("县区进度", [table])],
    )
