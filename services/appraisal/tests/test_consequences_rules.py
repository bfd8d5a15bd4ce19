"""Consequences of a published year: commendations, interviews, bars, deadlines, carry-back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from appraisal.consequences.findings import (
    Finding,
    RankedResult,
    attribute_incident,
    in_last_places,
    rectification_deadline,
    rectification_findings,
    rules_publication_warnings,
    year_consequences,
)
from appraisal.grading.schemas import Grade
from appraisal.interpretations import AppraisalInterpretations, PlacesPerScheme, PointsPerScheme
from appraisal.schemes.pack import Scheme, load_schemes
from shared.errors import InvalidInput

PACKS = Path(__file__).resolve().parents[1] / "packs"
DEFAULTS = AppraisalInterpretations()
PANJIN_COUNTIES = ["211102", "211103", "211104", "211122"]
ZHUMADIAN_COUNTIES = ["411702", *(f"4117{n}" for n in range(21, 30))]


@pytest.fixture(scope="module")
def panjin() -> Scheme:
    return load_schemes(PACKS)["panjin"]


@pytest.fixture(scope="module")
def zhumadian() -> Scheme:
    return load_schemes(PACKS)["zhumadian"]


def results(ranks: dict[str, int], grades: dict[str, Grade]) -> list[RankedResult]:
    return [RankedResult(subject, rank, grades[subject]) for subject, rank in ranks.items()]


def panjin_grade(rank: int) -> Grade:
    return "A" if rank <= 2 else "B"


def subjects_of(findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    return [(f.subject, f.reason) for f in findings]


# --- last places ------------------------------------------------------------------------


def test_last_places_count_ties_at_the_bottom() -> None:
    ranks = {"a": 1, "b": 2, "c": 3, "d": 3}
    assert in_last_places("c", ranks, 1)
    assert in_last_places("d", ranks, 1)
    assert not in_last_places("b", ranks, 1)
    assert in_last_places("b", ranks, 3)
    assert not in_last_places("a", ranks, 3)
    assert not in_last_places("zone", ranks, 3)


def test_panjin_last_place_three_years_running_is_interviewed(panjin: Scheme) -> None:
    history = {
        2022: {"211102": 1, "211103": 2, "211104": 3, "211122": 4},
        2023: {"211102": 2, "211103": 1, "211104": 4, "211122": 4},
    }
    ranks = {"211102": 1, "211103": 2, "211104": 3, "211122": 4}
    outcome = year_consequences(
        panjin,
        year=2024,
        results=results(ranks, {s: panjin_grade(r) for s, r in ranks.items()}),
        interpretations=DEFAULTS,
        rank_history=history,
    )
    assert subjects_of(outcome.leader_interviews) == [("211122", "last_places")]
    interview = outcome.leader_interviews[0]
    assert interview.citation == "盘政办发〔2024〕5号 第十四条第一款"
    # 211122 shared the last rank with 211104 in 2023: the tie rule (an interpretation) is named
    assert interview.detail == (
        "in the last 1 place(s) 3 years running (2022–2024); a rank shared by equal totals "
        "(interpretation tie_rule = competition)"
    )
    assert interview.interpretations == ("tie_rule",)
    assert [item.who for item in interview.interviewees] == ["县区级人民政府或领导小组（委员会）主要负责人"]
    # 211104 was last in 2023 only (tied) and third in 2022 and 2024: no interview
    assert subjects_of(outcome.barred_from_awards) == [("211122", "interviewed")]
    assert outcome.barred_from_awards[0].citation == "盘政办发〔2024〕5号 第十四条第三款"


def test_panjin_two_years_last_or_a_gap_is_not_enough(panjin: Scheme) -> None:
    ranks = {"211102": 1, "211103": 2, "211104": 3, "211122": 4}
    published = results(ranks, {s: panjin_grade(r) for s, r in ranks.items()})
    two_years = year_consequences(
        panjin,
        year=2024,
        results=published,
        interpretations=DEFAULTS,
        rank_history={2023: {"211122": 4, "211102": 1}},
    )
    assert two_years.leader_interviews == ()
    broken_run = year_consequences(
        panjin,
        year=2024,
        results=published,
        interpretations=DEFAULTS,
        rank_history={
            2022: {"211122": 4, "211102": 1},
            2023: {"211122": 3, "211102": 1, "211103": 2, "211104": 4},
        },
    )
    assert broken_run.leader_interviews == ()


def test_zhumadian_last_three_places_three_years_running(zhumadian: Scheme) -> None:
    def year_ranks(order: list[str]) -> dict[str, int]:
        return {subject: index + 1 for index, subject in enumerate(order)}

    counties = ZHUMADIAN_COUNTIES
    y2022 = year_ranks(counties)  # 411728 is 9th, 411727 8th, 411726 7th
    y2023 = year_ranks([*counties[:6], counties[9], counties[8], counties[6], counties[7]])
    y2024 = year_ranks([*counties[:6], counties[7], counties[9], counties[6], counties[8]])
    grades: dict[str, Grade] = {s: "A" if r <= 4 else "B" for s, r in y2024.items()}
    outcome = year_consequences(
        zhumadian,
        year=2024,
        results=results(y2024, grades),
        interpretations=DEFAULTS,
        rank_history={2022: y2022, 2023: y2023},
    )
    # ranks 2022/2023/2024: 411728 9, 8, 10 (last three each year); 411727 8, 10, 7;
    # 411729 10, 7, 8; 411726 7, 9, 9
    running = {
        s
        for s in counties
        if all(r[s] >= 8 for r in (y2022, y2023, y2024))  # last 3 of 10 = ranks 8–10
    }
    assert running == {"411728"}
    assert subjects_of(outcome.leader_interviews) == [("411728", "last_places")]
    assert outcome.leader_interviews[0].citation == "驻政办〔2023〕36号 第十七条第一款"
    assert outcome.leader_interviews[0].detail == ("in the last 3 place(s) 3 years running (2022–2024)")


def test_grade_d_is_interviewed_and_barred(zhumadian: Scheme) -> None:
    ranks = {code: index + 1 for index, code in enumerate(ZHUMADIAN_COUNTIES)}
    grades: dict[str, Grade] = {s: "A" if r <= 4 else "B" for s, r in ranks.items()}
    grades["411721"] = "D"
    published = [
        *results(ranks, grades),
        RankedResult("411700-Z01", None, None),  # a zone: no rank, no grade
    ]
    outcome = year_consequences(
        zhumadian, year=2024, results=published, interpretations=DEFAULTS, rank_history={}
    )
    assert subjects_of(outcome.leader_interviews) == [("411721", "grade_d")]
    assert subjects_of(outcome.barred_from_awards) == [("411721", "interviewed")]
    assert outcome.barred_from_awards[0].citation == "驻政办〔2023〕36号 第十七条第二款"
    # grade A for ranks 1–4 except 411721 (rank 2, vetoed to D)
    assert [f.subject for f in outcome.commendations] == ["411702", "411722", "411723"]
    assert outcome.commendations[0].citation == "驻政办〔2023〕36号 第十六条（一）"


# --- commendations and the office head --------------------------------------------------


def test_panjin_rank_improvement_is_commended_and_states_its_threshold(panjin: Scheme) -> None:
    """Panjin art. 13(二) 「考核排名较上一年度提升较大的」: how many places is large is the
    interpretation large_rank_rise_places (2 in Panjin), named in the finding with its value."""
    previous = {"211102": 4, "211103": 3, "211104": 1, "211122": 2}
    ranks = {"211102": 2, "211103": 1, "211104": 3, "211122": 4}
    outcome = year_consequences(
        panjin,
        year=2024,
        results=results(ranks, {s: panjin_grade(r) for s, r in ranks.items()}),
        interpretations=DEFAULTS,
        rank_history={2023: previous},
        outstanding={"211104"},
    )
    assert subjects_of(outcome.commendations) == [
        ("211102", "grade_a"),
        ("211102", "rank_improvement"),  # 4 → 2: up 2
        ("211103", "grade_a"),  # 3 → 1 is also up 2
        ("211103", "rank_improvement"),
        ("211104", "outstanding"),
    ]
    improvement = outcome.commendations[1]
    assert improvement.detail == (
        "rank 4 in 2023 → 2 in 2024 (up 2); a rise of 2 places or more is taken as large "
        "(interpretation large_rank_rise_places = 2)"
    )
    assert improvement.interpretations == ("large_rank_rise_places",)
    assert improvement.citation == "盘政办发〔2024〕5号 第十三条（二）"
    assert outcome.commendations[4].citation == "盘政办发〔2024〕5号 第十三条（三）"
    stricter = AppraisalInterpretations(
        large_rank_rise_places=PlacesPerScheme(default=3, schemes={"panjin": 3})
    )
    assert [
        f.subject
        for f in year_consequences(
            panjin,
            year=2024,
            results=results(ranks, {s: panjin_grade(r) for s, r in ranks.items()}),
            interpretations=stricter,
            rank_history={2023: previous},
        ).commendations
        if f.reason == "rank_improvement"
    ] == []


def test_panjin_office_head_is_interviewed_for_a_drop_in_score_not_in_rank(panjin: Scheme) -> None:
    """Panjin art. 14 para. 2 「各县区政府有考核成绩下降幅度较大……的，……约谈县区级人民政府负责人、
    县区级食安办主要负责人，必要时将责任涉及的县区级领导小组（委员会）成员单位主要负责人纳入约谈范围」:
    a drop in the score (the total); a fall in rank alone is no ground. How many points is
    large is the interpretation large_score_drop_points (5)."""
    previous_ranks = {"211102": 4, "211103": 3, "211104": 1, "211122": 2}
    previous_totals = {
        "211102": Decimal("80"),
        "211103": Decimal("85"),
        "211104": Decimal("99"),
        "211122": Decimal("98"),
    }
    ranks = {"211102": 2, "211103": 1, "211104": 3, "211122": 4}
    totals = {
        "211102": Decimal("95"),
        "211103": Decimal("96"),
        "211104": Decimal("94.5"),
        "211122": Decimal("93.5"),
    }
    published = [RankedResult(s, r, panjin_grade(r), totals[s]) for s, r in ranks.items()]
    outcome = year_consequences(
        panjin,
        year=2024,
        results=published,
        interpretations=DEFAULTS,
        rank_history={2023: previous_ranks},
        score_history={2023: previous_totals},
        unresolved_rectification={"211122"},
    )
    # 211104 fell 1 → 3 (two places) but only 4.5 points: no interview; 211122 fell 4.5 too
    # but its rectification is unresolved
    assert subjects_of(outcome.office_head_interviews) == [("211122", "unresolved_rectification")]
    harder = [
        RankedResult(s, r, panjin_grade(r), totals[s] - (1 if s == "211104" else 0)) for s, r in ranks.items()
    ]
    outcome = year_consequences(
        panjin,
        year=2024,
        results=harder,
        interpretations=DEFAULTS,
        rank_history={2023: previous_ranks},
        score_history={2023: previous_totals},
    )
    [drop] = outcome.office_head_interviews
    assert (drop.subject, drop.reason) == ("211104", "score_drop")
    assert drop.detail == (
        "total 99 in 2023 → 93.5 in 2024 (down 5.5): 「考核成绩下降幅度较大」, taken as 5 points or more "
        "(interpretation large_score_drop_points = 5)"
    )
    assert drop.interpretations == ("large_score_drop_points",)
    assert drop.citation == "盘政办发〔2024〕5号 第十四条第二款"
    assert [(item.who, item.when_necessary) for item in drop.interviewees] == [
        ("县区级人民政府负责人", False),
        ("县区级食安办主要负责人", False),
        ("责任涉及的县区级领导小组（委员会）成员单位主要负责人", True),
    ]
    # in Panjin every interviewed leader is barred (art. 14 para. 3), the office head's too
    assert subjects_of(outcome.barred_from_awards) == [("211104", "interviewed")]
    assert outcome.barred_from_awards[0].citation == "盘政办发〔2024〕5号 第十四条第三款"
    lenient = AppraisalInterpretations(large_score_drop_points=PointsPerScheme(default=Decimal(6)))
    assert (
        year_consequences(
            panjin,
            year=2024,
            results=harder,
            interpretations=lenient,
            rank_history={2023: previous_ranks},
            score_history={2023: previous_totals},
        ).office_head_interviews
        == ()
    )


def test_zhumadian_threshold_is_three_places_and_office_head_is_not_barred(
    zhumadian: Scheme,
) -> None:
    previous = {code: index + 1 for index, code in enumerate(ZHUMADIAN_COUNTIES)}
    ranks = dict(previous)
    ranks["411728"], ranks["411725"] = 6, 9  # 9 → 6: up 3; 6 → 9: down 3
    ranks["411727"], ranks["411726"] = 7, 8  # 8 → 7: up 1; 7 → 8: down 1
    grades: dict[str, Grade] = {s: "A" if r <= 4 else "B" for s, r in ranks.items()}
    outcome = year_consequences(
        zhumadian,
        year=2025,
        results=results(ranks, grades),
        interpretations=DEFAULTS,
        rank_history={2024: previous},
        unresolved_rectification={"411729"},
    )
    improved = [f.subject for f in outcome.commendations if f.reason == "rank_improvement"]
    assert improved == ["411728"]
    assert subjects_of(outcome.office_head_interviews) == [
        ("411725", "rank_drop"),
        ("411729", "unresolved_rectification"),
    ]
    assert outcome.office_head_interviews[0].citation == "驻政办〔2023〕36号 第十七条第三款"
    assert outcome.office_head_interviews[0].detail == (
        "rank 6 in 2024 → 9 in 2025 (down 3): 「考核排名退步较大」, taken as 3 places or more "
        "(interpretation large_rank_drop_places = 3)"
    )
    assert [item.who for item in outcome.office_head_interviews[0].interviewees] == [
        "县区食品安全办主要负责人"
    ]
    assert outcome.barred_from_awards == ()


def test_fraud_brings_a_criticism(panjin: Scheme, zhumadian: Scheme) -> None:
    ranks = {"211102": 1, "211103": 2, "211104": 3, "211122": 4}
    outcome = year_consequences(
        panjin,
        year=2024,
        results=results(ranks, {s: panjin_grade(r) for s, r in ranks.items()}),
        interpretations=DEFAULTS,
        rank_history={},
        circumstances={"211103": ["panjin-8-3-1", "panjin-8-3-9"], "211104": ["panjin-8-4-2"]},
    )
    assert subjects_of(outcome.criticisms) == [("211103", "fraud")]
    assert outcome.criticisms[0].citation == (
        "盘政办发〔2024〕5号 第八条（三）9; 盘政办发〔2024〕5号 第十五条"
    )
    with pytest.raises(InvalidInput, match="unknown circumstance 'panjin-8-3-9'"):
        year_consequences(
            zhumadian,
            year=2024,
            results=[],
            interpretations=DEFAULTS,
            rank_history={},
            circumstances={"411702": ["panjin-8-3-9"]},
        )


# --- rectification ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "deadline"),
    [
        (dt.date(2025, 3, 15), dt.date(2025, 4, 15)),
        (dt.date(2025, 1, 31), dt.date(2025, 2, 28)),
        (dt.date(2024, 1, 31), dt.date(2024, 2, 29)),
        (dt.date(2024, 12, 20), dt.date(2025, 1, 20)),
    ],
)
def test_rectification_is_due_one_month_after_publication(
    panjin: Scheme, published: dt.date, deadline: dt.date
) -> None:
    assert rectification_deadline(panjin, published) == deadline


def test_overdue_and_late_rectification_reports(panjin: Scheme, zhumadian: Scheme) -> None:
    published = dt.date(2025, 3, 15)
    reports = {"211102": dt.date(2025, 4, 1), "211103": dt.date(2025, 4, 16)}
    on_deadline = rectification_findings(
        panjin,
        published_on=published,
        subjects=PANJIN_COUNTIES,
        reports={"211102": reports["211102"]},
        today=dt.date(2025, 4, 15),
    )
    assert subjects_of(on_deadline) == []  # not overdue on the last day
    after = rectification_findings(
        panjin,
        published_on=published,
        subjects=PANJIN_COUNTIES,
        reports=reports,
        today=dt.date(2025, 4, 16),
    )
    assert subjects_of(after) == [
        ("211103", "report_late"),
        ("211104", "report_missing"),
        ("211122", "report_missing"),
    ]
    assert after[1].detail == "no rectification report; due by 2025-04-15 (published 2025-03-15)"
    assert after[1].citation == "盘政办发〔2024〕5号 第十一条"
    zones = rectification_findings(
        zhumadian,
        published_on=published,
        subjects=["411700-Z01"],
        reports={},
        today=dt.date(2025, 5, 1),
    )
    assert [(f.subject, f.citation) for f in zones] == [("411700-Z01", "驻政办〔2023〕36号 第十四条")]


# --- rules publication ------------------------------------------------------------------


def test_panjin_rules_are_due_by_15_august(panjin: Scheme) -> None:
    assert rules_publication_warnings(panjin, year=2025, published={}, today=dt.date(2025, 8, 15)) == ()
    warnings = rules_publication_warnings(panjin, year=2025, published={}, today=dt.date(2025, 8, 16))
    assert [(w.subject, w.reason, w.citation) for w in warnings] == [
        ("211100", "rules_not_published", "盘政办发〔2024〕5号 第六条")
    ]
    assert warnings[0].detail == (
        "市级年度考核细则 (detailed_rules) for 2025 was due by 2025-08-15 and is not published"
    )
    published = {"detailed_rules": dt.date(2025, 8, 20)}
    assert rules_publication_warnings(panjin, year=2025, published=published, today=dt.date(2025, 9, 1)) == ()


def test_zhumadian_rules_by_august_and_plan_by_november(zhumadian: Scheme) -> None:
    september = rules_publication_warnings(zhumadian, year=2025, published={}, today=dt.date(2025, 9, 1))
    assert [w.detail.split(" (")[1].split(")")[0] for w in september] == ["detailed_rules"]
    assert rules_publication_warnings(zhumadian, year=2025, published={}, today=dt.date(2025, 8, 31)) == ()
    december = rules_publication_warnings(
        zhumadian,
        year=2025,
        published={"detailed_rules": dt.date(2025, 8, 30)},
        today=dt.date(2025, 12, 1),
    )
    assert [(w.subject, w.citation) for w in december] == [("411700", "驻政办〔2023〕36号 第五条")]
    assert "due by 2025-11-30" in december[0].detail


# --- carry-back -------------------------------------------------------------------------


def test_an_incident_before_last_years_publication_counts_against_last_year(
    panjin: Scheme, zhumadian: Scheme
) -> None:
    publications = {2024: dt.date(2025, 3, 1), 2025: None}
    early = attribute_incident(panjin, dt.date(2025, 2, 10), publications)
    assert (early.year, early.carried_back, early.citation) == (
        2024,
        True,
        "盘政办发〔2024〕5号 第九条",
    )
    assert early.detail == (
        "incident on 2025-02-10 before the 2024 results were published "
        "(published 2025-03-01): counts against 2024"
    )
    same_day = attribute_incident(panjin, dt.date(2025, 3, 1), publications)
    assert (same_day.year, same_day.carried_back) == (2025, False)
    later = attribute_incident(zhumadian, dt.date(2025, 6, 1), publications)
    assert (later.year, later.carried_back, later.citation) == (2025, False, None)
    zhumadian_early = attribute_incident(zhumadian, dt.date(2025, 1, 2), publications)
    assert (zhumadian_early.year, zhumadian_early.citation) == (2024, "驻政办〔2023〕36号 第十二条")


def test_carry_back_while_last_year_is_unpublished(panjin: Scheme) -> None:
    unpublished = attribute_incident(panjin, dt.date(2025, 5, 5), {2024: None})
    assert (unpublished.year, unpublished.carried_back) == (2024, True)
    assert "not yet published" in unpublished.detail


def test_no_carry_back_without_last_year_on_record_or_within_the_year(panjin: Scheme) -> None:
    assert attribute_incident(panjin, dt.date(2025, 1, 5), {}).year == 2025
    own = attribute_incident(panjin, dt.date(2024, 11, 5), {2023: dt.date(2024, 3, 1), 2024: None})
    assert (own.year, own.carried_back) == (2024, False)
    # only one year back: an incident two years later never reaches 2023
    assert attribute_incident(panjin, dt.date(2025, 1, 5), {2023: None}).year == 2025
