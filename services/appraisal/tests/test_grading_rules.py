"""Grading: totals, caps, double counting, competition ranking, grades, zones."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from appraisal.grading.schemas import GradingRequest
from appraisal.grading.scoring import grade_subjects, lower_grade, rank_by_total
from appraisal.interpretations import AppraisalInterpretations
from appraisal.schemes.pack import Scheme, load_schemes
from shared.errors import InvalidInput

PACKS = Path(__file__).resolve().parents[1] / "packs"
DEFAULT = AppraisalInterpretations()
PANJIN_COUNTIES = ["211102", "211103", "211104", "211122"]
ZHUMADIAN_COUNTIES = ["411702", *(f"4117{n}" for n in range(21, 30))]
ZHUMADIAN_ZONES = ["411700-Z01", "411700-Z02", "411700-Z03"]


@pytest.fixture(scope="module")
def schemes() -> dict[str, Scheme]:
    return load_schemes(PACKS)


def grade(
    schemes: dict[str, Scheme],
    scheme: str,
    subjects: list[dict[str, Any]],
    interpretations: AppraisalInterpretations = DEFAULT,
) -> dict[str, dict[str, Any]]:
    """Grade through JSON parsing, as the endpoint does; results by subject id."""
    request = GradingRequest.model_validate_json(json.dumps({"scheme": scheme, "subjects": subjects}))
    answer = grade_subjects(request, schemes, interpretations).model_dump(mode="json")
    return {result["id"]: result for result in answer["results"]}


def rules(result: dict[str, Any]) -> list[str]:
    return [entry["rule"] for entry in result["applied"]]


def applied(result: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(entry for entry in result["applied"] if entry["rule"] == rule)


def refused(schemes: dict[str, Scheme], scheme: str, subjects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    request = GradingRequest.model_validate({"scheme": scheme, "subjects": subjects})
    with pytest.raises(InvalidInput) as caught:
        grade_subjects(request, schemes, DEFAULT)
    assert caught.value.status == 422
    assert caught.value.errors is not None
    return caught.value.errors


# --- the spec's example and the score -----------------------------------------------------

SPEC_EXAMPLE = {
    "id": "211102",
    "base": 92.5,
    "ad_hoc": 10,
    "bonus": 4,
    "provincial_bonus": 1,
    "deductions": 0,
    "downgrades": 0,
    "veto": False,
}


def test_spec_example_counts_the_provincial_bonus_double_within_the_cap(
    schemes: dict[str, Scheme],
) -> None:
    # 92.5 + 10 + min(4 + 2 × 1, 5) = 107.5 (art. 8, art. 10, annex row 5; Interpretation)
    result = grade(schemes, "panjin", [SPEC_EXAMPLE])["211102"]
    assert (result["total"], result["rank"], result["grade"]) == ("107.5", 1, "A")
    assert rules(result) == [
        "score",
        "base_cap",
        "ad_hoc_cap",
        "bonus_cap",
        "double_counting_bonus",
        "bonus_total_cap",
        "ranking",
        "grade_band",
    ]
    doubling = applied(result, "double_counting_bonus")
    assert doubling["citation"] == "盘政办发〔2024〕5号 第十条；附件 考核内容要点 序号5、6"
    assert doubling["detail"] == "provincial bonus 1 × 2 = 2; bonus total 4 + 2 = 6"
    cap = applied(result, "bonus_total_cap")
    assert cap["interpretation"] == "doubled_bonus_respects_cap"
    assert cap["detail"] == "bonus total 6 capped at 5 (interpretation doubled_bonus_respects_cap = true)"
    assert applied(result, "grade_band")["citation"] == "盘政办发〔2024〕5号 第八条（一）"


def test_spec_example_total_with_four_ad_hoc_points_is_101_5(schemes: dict[str, Scheme]) -> None:
    # The contract shows "101.5": that is 92.5 + 4 + min(4 + 2 × 1, 5), i.e. ad_hoc 4.
    result = grade(schemes, "panjin", [{**SPEC_EXAMPLE, "ad_hoc": 4}])["211102"]
    assert result["total"] == "101.5"


def test_doubled_bonus_beyond_the_cap_when_the_interpretation_is_off(
    schemes: dict[str, Scheme],
) -> None:
    setting = AppraisalInterpretations(doubled_bonus_respects_cap=False)
    result = grade(schemes, "panjin", [SPEC_EXAMPLE], setting)["211102"]
    assert result["total"] == "108.5"
    assert "bonus_total_cap" not in rules(result)


def test_doubled_bonus_within_the_cap_is_not_capped(schemes: dict[str, Scheme]) -> None:
    result = grade(schemes, "panjin", [{"id": "211102", "base": 80, "bonus": 1, "provincial_bonus": 2}])[
        "211102"
    ]
    assert result["total"] == "85.0"
    assert "bonus_total_cap" not in rules(result)


def test_deductions_and_doubled_provincial_deduction(schemes: dict[str, Scheme]) -> None:
    # 90 + 5 − 1.5 − 2 × 1.25 = 91.0 (art. 10, annex row 6); deductions have no fixed cap
    result = grade(
        schemes,
        "panjin",
        [
            {
                "id": "211103",
                "base": "90",
                "ad_hoc": "5",
                "deductions": "1.5",
                "provincial_deduction": "1.25",
            }
        ],
    )["211103"]
    assert result["total"] == "91.0"
    assert applied(result, "double_counting_deduction")["detail"] == (
        "provincial deduction 1.25 × 2 = 2.50; deductions 1.5 + 2.50 = 4.00"
    )
    large = grade(schemes, "panjin", [{"id": "211103", "base": 10, "deductions": 30}])
    assert large["211103"]["total"] == "-20.0"


@pytest.mark.parametrize(
    ("base", "total"),
    [
        ("90.25", "90.3"),
        ("90.249", "90.2"),
        ("90.35", "90.4"),
        (90.05, "90.1"),
        (90.15, "90.2"),
        (90, "90.0"),
        ("0", "0.0"),
    ],
)
def test_total_has_one_decimal_rounded_half_up(schemes: dict[str, Scheme], base: object, total: str) -> None:
    assert grade(schemes, "panjin", [{"id": "211102", "base": base}])["211102"]["total"] == total


def test_inputs_may_be_strings_or_numbers(schemes: dict[str, Scheme]) -> None:
    as_numbers = grade(schemes, "panjin", [SPEC_EXAMPLE])["211102"]
    as_strings = grade(
        schemes,
        "panjin",
        [{**SPEC_EXAMPLE, "base": "92.5", "ad_hoc": "10", "bonus": "4.0", "provincial_bonus": "1"}],
    )["211102"]
    assert as_strings["total"] == as_numbers["total"] == "107.5"


# --- caps and refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base", "100.5", "100.5 exceeds the cap of 100"),
        ("ad_hoc", "15.01", "15.01 exceeds the cap of 15"),
        ("bonus", 6, "6 exceeds the cap of 5"),
    ],
)
def test_points_beyond_a_panjin_cap_are_refused(
    schemes: dict[str, Scheme], field: str, value: object, message: str
) -> None:
    errors = refused(schemes, "panjin", [{"id": "211102", "base": 90, field: value}])
    assert len(errors) == 1
    assert errors[0]["field"] == f"body.subjects.0.{field}"
    assert errors[0]["message"].startswith(message + " (盘政办发〔2024〕5号 第八条")


def test_points_at_the_caps_are_accepted(schemes: dict[str, Scheme]) -> None:
    result = grade(schemes, "panjin", [{"id": "211102", "base": 100, "ad_hoc": 15, "bonus": 5}])
    assert result["211102"]["total"] == "120.0"


def test_every_error_is_reported_with_its_subject(schemes: dict[str, Scheme]) -> None:
    errors = refused(
        schemes,
        "panjin",
        [
            {"id": "211102", "base": 90},
            {"id": "211103", "base": 90, "ad_hoc": 16},
            {"id": "211102", "base": 101},
        ],
    )
    assert [error["field"] for error in errors] == [
        "body.subjects.1.ad_hoc",
        "body.subjects.2.id",
        "body.subjects.2.base",
    ]
    assert errors[1]["message"] == "duplicate subject id 211102 (also subjects.0)"


def test_zhumadian_ad_hoc_cap_comes_from_the_year(schemes: dict[str, Scheme]) -> None:
    unbounded = grade(schemes, "zhumadian", [{"id": "411702", "base": 80, "ad_hoc": 40}])
    assert unbounded["411702"]["total"] == "120.0"
    assert applied(unbounded["411702"], "ad_hoc_cap")["detail"] == (
        "ad_hoc 40 (no cap until the year's scheme sets one)"
    )
    year = {"zhumadian": schemes["zhumadian"].with_year_caps(ad_hoc=Decimal(10))}
    request = GradingRequest.model_validate(
        {"scheme": "zhumadian", "subjects": [{"id": "411702", "base": 80, "ad_hoc": 11}]}
    )
    with pytest.raises(InvalidInput) as caught:
        grade_subjects(request, year, DEFAULT)
    assert caught.value.errors is not None
    assert caught.value.errors[0]["field"] == "body.subjects.0.ad_hoc"


def test_zhumadian_has_no_double_counting(schemes: dict[str, Scheme]) -> None:
    errors = refused(
        schemes,
        "zhumadian",
        [{"id": "411702", "base": 80, "provincial_bonus": 1, "provincial_deduction": 1}],
    )
    assert [error["field"] for error in errors] == [
        "body.subjects.0.provincial_bonus",
        "body.subjects.0.provincial_deduction",
    ]
    assert "no rule counting the province's points double" in errors[0]["message"]


def test_unknown_scheme_is_refused(schemes: dict[str, Scheme]) -> None:
    errors = refused(schemes, "shenyang", [{"id": "210102", "base": 90}])
    assert errors == [
        {
            "field": "body.scheme",
            "message": "unknown scheme 'shenyang'; known schemes: panjin, zhumadian",
        }
    ]


def test_more_downgrades_than_listed_circumstances_are_refused(schemes: dict[str, Scheme]) -> None:
    errors = refused(schemes, "panjin", [{"id": "211102", "base": 90, "downgrades": 12}])
    assert errors[0]["field"] == "body.subjects.0.downgrades"
    assert grade(schemes, "panjin", [{"id": "211102", "base": 90, "downgrades": 11}])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "not true/false"),
        ("NaN", "must be a number of points"),
        (float("nan"), "NaN and infinity are not points"),
        (float("inf"), "NaN and infinity are not points"),
        ("ninety", "must be a number of points"),
        ("1e2", "must be a number of points"),
        ("", "must be a number of points"),
        (None, "must be a number of points"),
        (-1, "must not be negative"),
        ("-0.5", "must not be negative"),
        (1_000_001, "must not exceed 1000000"),
    ],
)
def test_points_must_be_non_negative_decimals(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        GradingRequest.model_validate({"scheme": "panjin", "subjects": [{"id": "211102", "base": value}]})
    error = caught.value.errors()[0]
    assert error["loc"] == ("subjects", 0, "base")
    assert message in error["msg"]


@pytest.mark.parametrize(
    "subject",
    [
        {"id": "211102", "base": 90, "downgrades": True},
        {"id": "211102", "base": 90, "downgrades": -1},
        {"id": "211102", "base": 90, "veto": "yes"},
        {"id": "211102", "base": 90, "veto": 1},
        {"id": "211102", "base": 90, "zone": "true"},
        {"id": "211102", "base": 90, "grade": "A"},
        {"id": "211102"},
        {"id": "", "base": 90},
    ],
)
def test_other_malformed_subjects_are_refused(subject: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GradingRequest.model_validate({"scheme": "panjin", "subjects": [subject]})


def test_an_empty_subject_list_is_refused() -> None:
    with pytest.raises(ValidationError):
        GradingRequest.model_validate({"scheme": "panjin", "subjects": []})


# --- ranking and grades: Panjin ---------------------------------------------------------


def panjin_subjects(
    *bases: float | str, extra: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    ids = [*PANJIN_COUNTIES, "211199"]  # a fifth subject only to reach rank 5
    extra = extra or {}
    return [{"id": ids[i], "base": base, **extra.get(ids[i], {})} for i, base in enumerate(bases)]


def test_ranking_with_ties_by_the_tie_rule() -> None:
    totals = [("a", Decimal(95)), ("b", Decimal(90)), ("c", Decimal(90)), ("d", Decimal(80))]
    assert rank_by_total(totals, "competition") == {"a": 1, "b": 2, "c": 2, "d": 4}
    assert rank_by_total(totals, "dense") == {"a": 1, "b": 2, "c": 2, "d": 3}
    assert rank_by_total([("a", Decimal(1)), ("b", Decimal(1))], "competition") == {"a": 1, "b": 1}


def test_panjin_ranks_and_grades_with_a_tie(schemes: dict[str, Scheme]) -> None:
    results = grade(schemes, "panjin", panjin_subjects(90, 95, 80, 90))
    assert [(results[i]["rank"], results[i]["grade"]) for i in PANJIN_COUNTIES] == [
        (2, "A"),
        (1, "A"),
        (4, "B"),
        (2, "A"),
    ]
    assert applied(results["211104"], "ranking")["detail"].startswith("rank 4 of 4")


def test_a_tie_names_the_tie_rule_with_its_value(schemes: dict[str, Scheme]) -> None:
    """Neither document ranks equal totals (Panjin art. 8 「得分排在前2名」, Zhumadian art. 9):
    the tie rule is an interpretation (spec: competition, 1, 2, 2, 4), named with its value
    where it applies and only there, and never inside the quoted source text."""
    results = grade(schemes, "panjin", panjin_subjects(90, 95, 80, 90))
    tied = applied(results["211102"], "ranking")
    assert tied["interpretation"] == "tie_rule"
    assert tied["detail"] == (
        "rank 2 of 4 by total, highest first; the total 90.0 is shared with 1 other subject(s), "
        "which share the rank (interpretation tie_rule = competition: 1, 2, 2, 4)"
    )
    assert tied["citation"] == "盘政办发〔2024〕5号 第八条; appraisal spec (Interpretation)"
    alone = applied(results["211103"], "ranking")
    assert (alone["interpretation"], alone["detail"]) == (None, "rank 1 of 4 by total, highest first")
    assert "并列" not in schemes["panjin"].grades.ranking_text
    assert "并列" not in schemes["zhumadian"].grades.ranking_text
    dense = grade(
        schemes, "panjin", panjin_subjects(90, 95, 80, 90), AppraisalInterpretations(tie_rule="dense")
    )
    assert [(dense[i]["rank"], dense[i]["grade"]) for i in PANJIN_COUNTIES] == [
        (2, "A"),
        (1, "A"),
        (3, "B"),
        (2, "A"),
    ]
    assert "interpretation tie_rule = dense: 1, 2, 2, 3" in applied(dense["211122"], "ranking")["detail"]


def test_results_keep_the_input_order(schemes: dict[str, Scheme]) -> None:
    request = GradingRequest.model_validate({"scheme": "panjin", "subjects": panjin_subjects(70, 95, 80, 90)})
    answer = grade_subjects(request, schemes, DEFAULT)
    assert [r.id for r in answer.results] == PANJIN_COUNTIES


def test_ties_are_decided_on_the_published_total(schemes: dict[str, Scheme]) -> None:
    results = grade(schemes, "panjin", panjin_subjects("90.04", "90.01", 80, 70))
    assert results["211102"]["total"] == results["211103"]["total"] == "90.0"
    assert results["211102"]["rank"] == results["211103"]["rank"] == 1


def test_panjin_rank_five_is_c_by_interpretation(schemes: dict[str, Scheme]) -> None:
    results = grade(schemes, "panjin", panjin_subjects(95, 90, 85, 80, 75))
    assert results["211199"]["grade"] == "C"
    band = applied(results["211199"], "grade_band")
    assert band["interpretation"] == "rank_beyond_bands_grade"
    setting = AppraisalInterpretations(rank_beyond_bands_grade="B")
    assert grade(schemes, "panjin", panjin_subjects(95, 90, 85, 80, 75), setting)["211199"]["grade"] == "B"


def test_panjin_downgrades_one_level_never_below_c(schemes: dict[str, Scheme]) -> None:
    results = grade(
        schemes,
        "panjin",
        panjin_subjects(
            95,
            90,
            85,
            80,
            75,
            extra={
                "211102": {"downgrades": 1},
                "211103": {"downgrades": 3},
                "211104": {"downgrades": 1},
                "211199": {"downgrades": 1},
            },
        ),
    )
    grades = {i: results[i]["grade"] for i in results}
    assert grades == {"211102": "B", "211103": "B", "211104": "C", "211122": "B", "211199": "C"}
    assert applied(results["211102"], "downgrade")["citation"] == "盘政办发〔2024〕5号 第八条（三）"
    several = applied(results["211103"], "downgrade")
    assert several["interpretation"] == "several_downgrades_one_level"
    assert several["detail"] == (
        "3 downgrade circumstance(s): A → B (interpretation several_downgrades_one_level = true)"
    )
    assert "downgrade_floor" in rules(results["211199"])
    assert applied(results["211199"], "downgrade_floor")["detail"] == "never below C: stays C"
    assert "downgrade_floor" not in rules(results["211104"])
    # a downgrade does not move anyone else up: 211122 keeps rank 4, grade B
    assert results["211122"]["rank"] == 4


def test_each_downgrade_lowers_a_level_when_the_interpretation_is_off(
    schemes: dict[str, Scheme],
) -> None:
    setting = AppraisalInterpretations(several_downgrades_one_level=False)
    results = grade(
        schemes,
        "panjin",
        panjin_subjects(95, 90, 85, 80, extra={"211102": {"downgrades": 2}, "211103": {"downgrades": 5}}),
        setting,
    )
    assert results["211102"]["grade"] == "C"
    assert results["211103"]["grade"] == "C"
    assert "downgrade_floor" in rules(results["211103"])


def test_lower_grade() -> None:
    assert lower_grade("A", 1, "C") == "B"
    assert lower_grade("B", 1, "C") == "C"
    assert lower_grade("C", 1, "C") == "C"
    assert lower_grade("A", 5, "C") == "C"
    assert lower_grade("D", 1, "C") == "D"


def test_panjin_veto_gives_d_whatever_the_rank(schemes: dict[str, Scheme]) -> None:
    results = grade(
        schemes,
        "panjin",
        panjin_subjects(95, 90, 85, 80, extra={"211102": {"veto": True, "downgrades": 2}}),
    )
    assert (results["211102"]["rank"], results["211102"]["grade"]) == (1, "D")
    veto = applied(results["211102"], "veto")
    assert veto["citation"] == "盘政办发〔2024〕5号 第八条（四）"
    assert "downgrade" not in rules(results["211102"])
    # the others keep their places: rank 2 is still A, rank 3 B
    assert [results[i]["grade"] for i in PANJIN_COUNTIES[1:]] == ["A", "B", "B"]


def test_zones_are_not_ranked_under_panjin(schemes: dict[str, Scheme]) -> None:
    subjects = [*panjin_subjects(95, 90, 85, 80), {"id": "211100-Z01", "base": 99, "zone": True}]
    results = grade(schemes, "panjin", subjects)
    zone = results["211100-Z01"]
    assert (zone["total"], zone["rank"], zone["grade"]) == ("99.0", None, None)
    assert applied(zone, "zone_exclusion")["citation"] == "盘政办发〔2024〕5号 第三条"
    assert results["211102"]["rank"] == 1


# --- ranking and grades: Zhumadian ------------------------------------------------------


def zhumadian_subjects(extra: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    extra = extra or {}
    counties = [
        {"id": code, "base": 95 - index, **extra.get(code, {})}
        for index, code in enumerate(ZHUMADIAN_COUNTIES)
    ]
    zones = [{"id": code, "base": 99, "zone": True, **extra.get(code, {})} for code in ZHUMADIAN_ZONES]
    return [*counties, *zones]


def test_zhumadian_top_four_are_a_the_rest_b(schemes: dict[str, Scheme]) -> None:
    results = grade(schemes, "zhumadian", zhumadian_subjects())
    assert [results[c]["rank"] for c in ZHUMADIAN_COUNTIES] == list(range(1, 11))
    assert [results[c]["grade"] for c in ZHUMADIAN_COUNTIES] == ["A"] * 4 + ["B"] * 6
    assert applied(results["411725"], "grade_band")["citation"] == "驻政办〔2023〕36号 第九条"
    assert applied(results["411721"], "ranking")["detail"].startswith("rank 2 of 10")


def test_zhumadian_zones_are_neither_ranked_nor_graded(schemes: dict[str, Scheme]) -> None:
    results = grade(
        schemes,
        "zhumadian",
        zhumadian_subjects(extra={"411700-Z02": {"veto": True, "downgrades": 1}}),
    )
    for zone in ZHUMADIAN_ZONES:
        assert (results[zone]["total"], results[zone]["rank"], results[zone]["grade"]) == (
            "99.0",
            None,
            None,
        )
        entry = applied(results[zone], "zone_exclusion")
        assert entry["citation"] == "驻政办〔2023〕36号 第十三条"
        assert "veto" not in rules(results[zone])
    assert results["411702"]["rank"] == 1  # the zones' 99 points do not take first place


def test_zhumadian_tie_at_fourth_place(schemes: dict[str, Scheme]) -> None:
    subjects = [
        {"id": code, "base": base}
        for code, base in zip(ZHUMADIAN_COUNTIES[:6], [95, 94, 93, 92, 92, 90], strict=True)
    ]
    results = grade(schemes, "zhumadian", subjects)
    assert [(results[c]["rank"], results[c]["grade"]) for c in ZHUMADIAN_COUNTIES[:6]] == [
        (1, "A"),
        (2, "A"),
        (3, "A"),
        (4, "A"),
        (4, "A"),
        (6, "B"),
    ]


def test_zhumadian_downgrades_and_veto(schemes: dict[str, Scheme]) -> None:
    results = grade(
        schemes,
        "zhumadian",
        zhumadian_subjects(
            extra={
                "411702": {"downgrades": 1},
                "411724": {"downgrades": 2},
                "411725": {"veto": True},
            }
        ),
    )
    assert results["411702"]["grade"] == "B"
    assert results["411724"]["grade"] == "C"
    assert results["411725"]["grade"] == "D"
    assert applied(results["411724"], "downgrade")["citation"].startswith("驻政办〔2023〕36号 第十条")
    assert applied(results["411725"], "veto")["citation"] == "驻政办〔2023〕36号 第十一条"


@pytest.mark.parametrize("scheme", ["panjin", "zhumadian"])
def test_every_applied_rule_cites_the_document(schemes: dict[str, Scheme], scheme: str) -> None:
    subjects = (
        panjin_subjects(95, 90, 85, 80, 75, extra={"211102": {"provincial_bonus": 3, "downgrades": 2}})
        if scheme == "panjin"
        else zhumadian_subjects(extra={"411702": {"downgrades": 2}, "411721": {"veto": True}})
    )
    document = schemes[scheme].document
    for result in grade(schemes, scheme, subjects).values():
        for entry in result["applied"]:
            assert entry["citation"].startswith(document), entry


# --- properties -------------------------------------------------------------------------

tenths = st.integers(min_value=0, max_value=1000).map(lambda n: str(Decimal(n) / 10))


@settings(max_examples=60, deadline=None)
@given(bases=st.lists(tenths, min_size=1, max_size=12), scheme=st.sampled_from(["panjin", "zhumadian"]))
def test_rank_is_one_more_than_the_subjects_ahead_and_grades_follow_rank(
    bases: list[str], scheme: str
) -> None:
    schemes = load_schemes(PACKS)
    subjects = [{"id": f"S{index}", "base": base} for index, base in enumerate(bases)]
    results = list(grade(schemes, scheme, subjects).values())
    totals = [Decimal(result["total"]) for result in results]
    order = "ABCD"
    for result, total in zip(results, totals, strict=True):
        assert result["rank"] == 1 + sum(1 for other in totals if other > total)
    for first in results:
        for second in results:
            if first["rank"] < second["rank"]:
                assert order.index(first["grade"]) <= order.index(second["grade"])
