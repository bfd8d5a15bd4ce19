"""A year's results as a report for people, through the shared writer (``shared.exports``): an
XLSX workbook (ranks, scores with their parts, grades, downgrades and vetoes highlighted, the
grade distribution and the totals as native charts; the rules applied and the lists of
problems on sheets of their own) or a 通报 document (DOCX, PDF). Consequences of a published
year (commendations, interviews, criticisms) are listed where the caller may read them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from appraisal.consequences.schemas import ConsequencesRead
from appraisal.evaluation.schemas import ResultRead, YearResults
from appraisal.grading.schemas import GRADE_ORDER, round_total
from shared.exports import Chart, Column, Report, Sheet, Table, chinese_date
from shared.exports.model import Mark
from shared.jurisdictions import registry

KIND_LABELS = {
    "county_government": "县区政府",
    "zone_committee": "功能区管委会",
    "member_department": "食安委成员单位",
}
CONSEQUENCE_LABELS = {
    "commendations": "通报表扬",
    "leader_interviews": "约谈县区政府负责同志",
    "office_head_interviews": "约谈县区食安办负责同志",
    "barred_from_awards": "不得参加评先评优",
    "criticisms": "通报批评",
    "rectification": "整改逾期或未报",
    "rules_not_published": "考核细则未按期公布",
}
#: rules every subject's computation applies (caps, sum, ranking, grade bands): the printout of
#: the rules sheet leaves them out (filtered, not dropped)
ROUTINE_RULES = {
    "score",
    "base_cap",
    "ad_hoc_cap",
    "bonus_cap",
    "deductions_cap",
    "bonus_total_cap",
    "ranking",
    "grade_band",
}
PROBLEM_LABELS = {"downgrade": "降级", "veto": "一票否决", "deduction": "减分", "incident": "食品安全事故"}
SCORE_COLUMNS = [
    Column("名称", max_width=20),
    Column("代码", max_width=12),
    Column("类别", max_width=10),
    Column("名次", "integer"),
    Column("基准分", "number"),
    Column("即时性工作", "number"),
    Column("加分", "number"),
    Column("省级加分", "number"),
    Column("减分", "number"),
    Column("省级减分", "number"),
    Column("总分", "number"),
    Column("等级", max_width=6),
    Column("降级情形", "integer"),
    Column("否决", max_width=6),
]


def _with_citation(detail: str, citation: str | None) -> str:
    return f"{detail}（{citation}）" if citation else detail


def _mark(row: ResultRead) -> Mark:
    if row.veto or row.grade == "D":
        return "overdue"
    return "lagging" if row.downgrades or row.grade == "C" else None


def issuer_of(jurisdiction: str) -> str:
    """The office that publishes the results: the city's food-safety committee office."""
    place = registry().get(jurisdiction)
    return f"{place.name if place else jurisdiction}食品安全委员会办公室"


def _sentences(results: YearResults, consequences: ConsequencesRead | None) -> list[str]:
    rows = results.results
    grades = Counter(r.grade for r in rows if r.grade)
    ranked = [r for r in rows if r.rank is not None]
    sentences = [
        f"根据《{results.document}》，对{len(rows)}个考核对象{results.year}年度食品安全工作进行了考核。"
        + (
            "考核等级：" + "，".join(f"{g}级{grades[g]}个" for g in GRADE_ORDER if grades[g]) + "。"
            if grades
            else "尚未评定等级。"
        )
    ]
    if ranked:
        first = ranked[0]
        sentences.append(f"{first.name}以{round_total(first.total)}分列第{first.rank}名。")
    vetoed = [r.name for r in rows if r.veto]
    if vetoed:
        sentences.append(f"{'、'.join(vetoed)}存在一票否决情形。")
    downgraded = [r.name for r in rows if r.downgrades]
    if downgraded:
        sentences.append(f"{'、'.join(downgraded)}存在降级情形。")
    if consequences is not None:
        names = {r.subject: r.name for r in rows}
        for field, label in CONSEQUENCE_LABELS.items():
            findings = getattr(consequences, field)
            if findings:
                who = "、".join(dict.fromkeys(names.get(f.subject, f.subject) for f in findings))
                sentences.append(f"{label}：{who}。")
    return sentences


def report(
    results: YearResults, *, jurisdiction: str, made_on: dt.date, consequences: ConsequencesRead | None
) -> Report:
    rows = results.results
    scores = Table(
        "一、考核结果",
        SCORE_COLUMNS,
        [
            [
                r.name,
                r.subject,
                KIND_LABELS.get(r.kind, r.kind),
                r.rank,
                r.base,
                r.ad_hoc,
                r.bonus,
                r.provincial_bonus,
                r.deductions,
                r.provincial_deduction,
                round_total(r.total),
                r.grade or "",
                r.downgrades,
                "是" if r.veto else "否",
            ]
            for r in rows
        ],
        [_mark(r) for r in rows],
    )
    grades = Counter(r.grade for r in rows if r.grade)
    distribution = Table(
        "二、等级分布",
        [Column("等级", max_width=6), Column("个数", "integer")],
        [[g, grades[g]] for g in GRADE_ORDER],
    )
    problems = [(r, p) for r in rows for p in r.problems]
    problem_table = Table(
        "三、问题清单",
        [Column("名称", max_width=20), Column("类别", max_width=12), Column("说明（依据）", max_width=80)],
        [
            [r.name, PROBLEM_LABELS.get(p.kind, p.kind), _with_citation(p.detail, p.citation)]
            for r, p in problems
        ],
        ["overdue" if p.kind == "veto" else "lagging" for _, p in problems],
        note=None if problems else "无。",
        span_last=True,
    )
    tables = [scores, distribution, problem_table]
    if consequences is not None:
        names = {r.subject: r.name for r in rows}
        findings = [
            (label, f) for field, label in CONSEQUENCE_LABELS.items() for f in getattr(consequences, field)
        ]
        tables.append(
            Table(
                "四、结果运用",
                [
                    Column("名称", max_width=20),
                    Column("事项", max_width=12),
                    Column("说明（依据）", max_width=80),
                ],
                [
                    [names.get(f.subject, f.subject), label, _with_citation(f.detail, f.citation)]
                    for label, f in findings
                ],
                note=None if findings else "无。",
                span_last=True,
            )
        )
    charts = [
        Chart("等级分布", distribution, category=0, series=[1], kind="column"),
        Chart("各考核对象总分", scores, category=0, series=[10]),
    ]
    rules = Table(
        "适用规则",
        [
            Column("代码", max_width=12),
            Column("规则", max_width=24),
            Column("说明", max_width=60),
            Column("依据", max_width=30),
            Column("解释口径", max_width=24),
        ],
        [[r.subject, a.rule, a.detail, a.citation, a.interpretation] for r in rows for a in r.applied],
        note="已筛选出改变分数、名次或等级的规则（降级、否决、重复计分、不参加排名）；"
        "清除“规则”列的筛选可查看逐项计分规则。",
        filter=(1, sorted({a.rule for r in rows for a in r.applied} - ROUTINE_RULES)),
    )
    published = f"（{chinese_date(results.published_on)}通报）" if results.published_on else "（未通报）"
    return Report(
        title=f"关于{results.year}年度食品安全工作考核结果的通报",
        period=f"{results.year}年度{published}",
        issuer=issuer_of(jurisdiction),
        made_on=made_on,
        reference=results.document,
        paragraphs=_sentences(results, consequences),
        sheets=[
            Sheet("考核结果", tables, charts),
            Sheet("适用规则", [rules], workbook_only=True),
        ],
    )
