"""The monthly county progress report of the standards' rollout (盘政办发〔2024〕4号 四（三）:
"建立定期报告和通报制度，确保按时间节点完成任务"): per county and program, the enrolments
active, started and ended in the month, the regular payments for it, and the arrears and
overpayments booked during it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import InvalidInput
from shared.jurisdictions import registry
from shared.months import YearMonth, policy_today
from welfare.reports import repository
from welfare.reports.schemas import CountyProgressReport, JurisdictionProgress, ProgramProgress
from welfare.standards.history import PROGRAMS, Citation

CITATION = Citation(
    document="盘政办发〔2024〕4号",
    article="四（三）",
    text="各级民政、财政部门要加强对提高低保、特困人员救助供养基本生活、孤儿基本生活保障和60年代精简退职职工"
    "生活补助标准工作的督查检查，建立定期报告和通报制度，确保按时间节点完成任务。",
)
COUNTS = ("active_enrolments", "started", "ended", "paid_entries", "arrears_entries", "overpayment_entries")
SUMS = ("paid_total", "arrears_total", "overpayment_total")


def _empty(program: str) -> dict[str, Any]:
    return {"program": program, **dict.fromkeys(COUNTS, 0), **dict.fromkeys(SUMS, Decimal("0.00"))}


def _total(program: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    total = _empty(program)
    for part in parts:
        for name in (*COUNTS, *SUMS):
            total[name] += part[name]
    return total


async def county_progress(
    session: AsyncSession, *, jurisdiction: str, month: YearMonth
) -> CountyProgressReport:
    """The report of ``jurisdiction``'s area (a city: every county; a county: itself) for ``month``."""
    today = policy_today()
    if month.first_day > today:
        raise InvalidInput.field(
            "query.month", f"{month} has not begun (today is {today.isoformat()} in Asia/Shanghai)"
        )
    scope = registry().subtree(jurisdiction)
    enrolments, ledger = await repository.month_figures(
        session, scope=scope, first_day=month.first_day, next_first_day=month.next().first_day
    )
    figures: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in enrolments:
        entry = figures[row.jurisdiction].setdefault(row.program, _empty(row.program))
        entry.update(active_enrolments=row.active, started=row.started, ended=row.ended)
    for row in ledger:
        entry = figures[row.jurisdiction].setdefault(row.program, _empty(row.program))
        entry.update(
            paid_entries=row.paid,
            paid_total=row.paid_total,
            arrears_entries=row.arrears,
            arrears_total=row.arrears_total,
            overpayment_entries=row.overpayments,
            overpayment_total=row.overpayment_total,
        )
    rows = []
    everything = []
    for code in scope:
        programs = [figures[code].get(program, _empty(program)) for program in PROGRAMS]
        everything.extend(programs)
        rows.append(
            JurisdictionProgress(
                jurisdiction=code,
                name=registry().require(code).name,
                programs=[ProgramProgress.model_validate(p) for p in programs],
                totals=ProgramProgress.model_validate(_total("all", programs)),
            )
        )
    return CountyProgressReport(
        jurisdiction=jurisdiction,
        month=month,
        generated_at=dt.datetime.now(dt.UTC),
        citation=CITATION,
        rows=rows,
        totals=ProgramProgress.model_validate(_total("all", everything)),
    )
