"""The evaluation engine against the Zhumadian catalogue: ages, bands, 择高申领, item 13."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eldercare.catalogues.overrides import merge, parse_overrides
from eldercare.catalogues.pack import Catalogue, load_catalogue
from eldercare.evaluations.entitlements import (
    Entitlement,
    Evaluation,
    EvaluationContext,
    allowance_age,
    evaluate,
)
from eldercare.evaluations.profile import PersonProfile, check_profile_on, parse_profile
from eldercare.evaluations.schemas import evaluation_read
from eldercare.interpretations import EldercareInterpretations
from shared.errors import InvalidInput
from shared.months import YearMonth

PACK = Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml"
DIBAO = EvaluationContext(dibao_standard=Decimal("583.00"), minimum_wage=Decimal("2000.00"))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(PACK)


def person(birth: str, **facts: Any) -> PersonProfile:
    return parse_profile({"birth_date": birth, **facts})


def run(
    catalogue: Catalogue,
    profile: PersonProfile,
    on: str = "2024-03-15",
    context: EvaluationContext = DIBAO,
    **settings: Any,
) -> Evaluation:
    return evaluate(
        catalogue,
        profile,
        dt.date.fromisoformat(on),
        context,
        EldercareInterpretations(**settings),
    )


def as_json(evaluation: Evaluation) -> dict[str, Any]:
    """The answer as the API sends it (one response model)."""
    return evaluation_read(evaluation, jurisdiction=evaluation.jurisdiction).model_dump(mode="json")


def entitlement_of(evaluation: Evaluation, item: int) -> Entitlement:
    found = evaluation.entitlement(item)
    assert found is not None, f"item {item} not granted"
    return found


def items(evaluation: Evaluation) -> set[int]:
    return {entitlement.item for entitlement in evaluation.entitlements}


def amount(evaluation: Evaluation, item: int) -> Decimal | None:
    entitlement = evaluation.entitlement(item)
    assert entitlement is not None, f"item {item} not granted"
    return entitlement.amount


# --- age boundaries (周岁 on the evaluation date) ------------------------------------------


@pytest.mark.parametrize(
    ("birth", "expected"),
    [("1964-03-16", set()), ("1964-03-15", {3, 4, 5})],
)
def test_items_3_to_5_from_60(catalogue: Catalogue, birth: str, expected: set[int]) -> None:
    evaluation = run(catalogue, person(birth))  # 59 / 60 on 2024-03-15
    assert items(evaluation) == expected


def test_items_3_to_5_age_is_a_setting(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, person("1964-03-15"), preferential_treatment_age=65)
    assert items(evaluation) & {3, 4, 5} == set()


def test_a_service_starts_on_the_birthday_itself(catalogue: Catalogue) -> None:
    profile = person("1964-03-20")
    assert 3 not in items(run(catalogue, profile, on="2024-03-19"))
    assert 3 in items(run(catalogue, profile, on="2024-03-20"))


@pytest.mark.parametrize(
    ("birth", "expected"),
    [("1959-03-16", {3, 4, 5}), ("1959-03-15", {3, 4, 5, 6, 7})],
)
def test_items_6_and_7_from_65(catalogue: Catalogue, birth: str, expected: set[int]) -> None:
    assert items(run(catalogue, person(birth))) == expected  # 64 / 65


def test_the_elderly_age_applies_to_dibao_items(catalogue: Catalogue) -> None:
    assert 9 not in items(run(catalogue, person("1964-03-16", dibao=True)))  # 59
    assert 9 in items(run(catalogue, person("1964-03-15", dibao=True)))  # 60
    assert 9 in items(run(catalogue, person("1970-01-01", dibao=True), elderly_age=0))


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("1944-06-01", None),  # 79
        ("1943-06-01", Decimal("60.00")),  # 80
        ("1934-06-01", Decimal("60.00")),  # 89
        ("1933-06-01", Decimal("100.00")),  # 90: the second band (Interpretation)
        ("1924-06-01", Decimal("100.00")),  # 99
        ("1923-06-01", Decimal("500.00")),  # 100
        ("1914-06-01", Decimal("500.00")),  # 109
    ],
)
def test_item_8_bands(catalogue: Catalogue, birth: str, expected: Decimal | None) -> None:
    evaluation = run(catalogue, person(birth))
    if expected is None:
        assert 8 not in items(evaluation)
        return
    entitlement = evaluation.entitlement(8)
    assert entitlement is not None
    assert entitlement.amount == expected
    assert entitlement.period == "month"
    assert entitlement.service_type == "物质帮助"
    assert entitlement.citation.item == "附件《驻马店市基本养老服务清单》第8项 高龄津贴"


def test_item_8_age_90_in_the_first_band_when_so_set(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, person("1933-06-01"), longevity_band_overlap="lower_band")
    assert amount(evaluation, 8) == Decimal("60.00")
    assert amount(run(catalogue, person("1932-06-01"), longevity_band_overlap="lower_band"), 8) == (
        Decimal("100.00")
    )


# --- the month after the birthday (次月起) ----------------------------------------------


@pytest.mark.parametrize("on", ["2024-03-01", "2024-03-15", "2024-03-31"])
def test_turning_90_in_march_is_paid_60_in_march(catalogue: Catalogue, on: str) -> None:
    evaluation = run(catalogue, person("1934-03-15"), on=on)
    assert amount(evaluation, 8) == Decimal("60.00")
    assert entitlement_of(evaluation, 8).facts == {"age": 89}
    step = next(step for step in evaluation.trace if step.item == 8)
    assert any("age 89 counts for 2024-03" in note for note in step.notes)


@pytest.mark.parametrize("on", ["2024-04-01", "2024-04-30", "2024-05-10"])
def test_turning_90_in_march_is_paid_100_from_april(catalogue: Catalogue, on: str) -> None:
    assert amount(run(catalogue, person("1934-03-15"), on=on), 8) == Decimal("100.00")


@pytest.mark.parametrize("birth", ["1934-03-01", "1934-03-31"])
def test_first_and_last_day_of_the_birthday_month(catalogue: Catalogue, birth: str) -> None:
    profile = person(birth)
    assert amount(run(catalogue, profile, on="2024-03-31"), 8) == Decimal("60.00")
    assert amount(run(catalogue, profile, on="2024-04-01"), 8) == Decimal("100.00")
    assert amount(run(catalogue, profile, on="2024-02-29"), 8) == Decimal("60.00")


def test_turning_80_starts_the_allowance_next_month(catalogue: Catalogue) -> None:
    profile = person("1944-03-15")
    march = run(catalogue, profile, on="2024-03-20")
    assert march.age == 80
    assert 8 not in items(march)
    step = next(step for step in march.trace if step.item == 8)
    assert step.matched is False
    assert step.facts == {"age": 79}
    assert amount(run(catalogue, profile, on="2024-04-01"), 8) == Decimal("60.00")


def test_turning_100_in_march(catalogue: Catalogue) -> None:
    profile = person("1924-03-10")
    assert amount(run(catalogue, profile, on="2024-03-31"), 8) == Decimal("100.00")
    assert amount(run(catalogue, profile, on="2024-04-01"), 8) == Decimal("500.00")


def test_born_on_29_february(catalogue: Catalogue) -> None:
    profile = person("1944-02-29")
    assert 8 not in items(run(catalogue, profile, on="2024-02-29"))
    assert amount(run(catalogue, profile, on="2024-03-01"), 8) == Decimal("60.00")


def test_birthday_month_setting_pays_the_birthday_month(catalogue: Catalogue) -> None:
    profile = person("1934-03-15")
    march = run(catalogue, profile, on="2024-03-01", age_allowance_starts="birthday_month")
    assert amount(march, 8) == Decimal("100.00")
    february = run(catalogue, profile, on="2024-02-29", age_allowance_starts="birthday_month")
    assert amount(february, 8) == Decimal("60.00")


def test_allowance_age() -> None:
    march = YearMonth(2024, 3)
    assert allowance_age(dt.date(1934, 3, 15), march, "next_month") == 89
    assert allowance_age(dt.date(1934, 2, 29 - 1), march, "next_month") == 90
    assert allowance_age(dt.date(1934, 3, 15), march, "birthday_month") == 90
    assert allowance_age(dt.date(1934, 4, 1), march, "birthday_month") == 89


def test_monthly_allowance_items_with_an_age_start_next_month(catalogue: Catalogue) -> None:
    # item 15 (monthly) needs the elderly age: not in the month of the 60th birthday
    profile = person("1964-03-10", dibao=True, self_care_unable=True)
    march = run(catalogue, profile, on="2024-03-20")
    assert {3, 9, 16} <= items(march)  # services: from the birthday
    assert 15 not in items(march)
    assert 11 not in items(march)
    april = run(catalogue, profile, on="2024-04-01")
    assert amount(april, 15) == Decimal("60.00")
    assert amount(april, 11) == Decimal("60.00")


# --- 择高申领: item 15 or item 18's nursing subsidy ---------------------------------------


def both_nursing_subsidies() -> PersonProfile:
    return person(
        "1950-06-01",
        dibao=True,
        self_care_unable=True,
        has_disability_certificate=True,
        disability_grade=1,
        needs_long_term_care=True,
    )


def test_choose_the_higher_nursing_subsidy(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, both_nursing_subsidies())
    care = evaluation.entitlement(15)
    disability = evaluation.entitlement(18)
    assert care is not None
    assert disability is not None
    assert care.amount == Decimal("0.00")
    (care_part,) = care.components
    assert (care_part.amount, care_part.paid) == (Decimal("60.00"), False)
    assert disability.amount == Decimal("150.00")  # living subsidy 75 + nursing subsidy 75
    assert [(p.key, p.amount, p.paid) for p in disability.components] == [
        ("living_subsidy", Decimal("75.00"), True),
        ("nursing_subsidy", Decimal("75.00"), True),
    ]
    choice = care.choice
    assert choice is not None
    assert disability.choice is choice
    assert [(o.item, o.amount, o.paid) for o in choice.options] == [
        (15, Decimal("60.00"), False),
        (18, Decimal("75.00"), True),
    ]
    assert choice.setting == "nursing_subsidy_choice=higher"
    assert "择高申领" in choice.reason
    assert "75.00 > 老年人护理补贴 60.00" in choice.reason
    assert "择高申领" in choice.citation.excerpt
    # item 11 60.00 + item 15 0.00 + item 18 150.00; item 21 is yearly
    assert evaluation.monthly_total == Decimal("210.00")
    assert amount(evaluation, 21) == Decimal("80.00")
    assert entitlement_of(evaluation, 21).period == "year"


def test_the_person_may_choose_the_elderly_care_subsidy(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, both_nursing_subsidies(), nursing_subsidy_choice="elderly_care_subsidy")
    assert amount(evaluation, 15) == Decimal("60.00")
    assert amount(evaluation, 18) == Decimal("75.00")
    choice = entitlement_of(evaluation, 15).choice
    assert choice is not None
    assert [(o.item, o.amount, o.paid) for o in choice.options] == [
        (15, Decimal("60.00"), True),
        (18, Decimal("75.00"), False),
    ]
    assert evaluation.monthly_total == Decimal("195.00")


def test_no_choice_with_only_one_of_the_two(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, person("1950-06-01", dibao=True, self_care_unable=True))
    care = evaluation.entitlement(15)
    assert care is not None
    assert care.amount == Decimal("60.00")
    assert care.choice is None
    assert 18 not in items(evaluation)
    grade_two = run(
        catalogue,
        person("1950-06-01", disability_grade=2, needs_long_term_care=True),
    )
    assert amount(grade_two, 18) == Decimal("75.00")
    assert entitlement_of(grade_two, 18).choice is None
    assert 15 not in items(grade_two)


def test_item_18_nursing_needs_grade_1_or_2_and_long_term_care(catalogue: Catalogue) -> None:
    assert 18 not in items(
        run(catalogue, person("1950-06-01", disability_grade=3, needs_long_term_care=True))
    )
    assert 18 not in items(run(catalogue, person("1950-06-01", disability_grade=1)))
    living = run(catalogue, person("1950-06-01", has_disability_certificate=True, dibao=True))
    assert amount(living, 18) == Decimal("75.00")
    assert [part.key for part in entitlement_of(living, 18).components] == ["living_subsidy"]


# --- item 13: 特困 dispersed support --------------------------------------------------------


def tekun(ability: int | None = 2, **facts: Any) -> PersonProfile:
    return person("1950-06-01", tekun="dispersed", ability_level=ability, **facts)


@pytest.mark.parametrize(
    ("ability", "care", "total"),
    [
        (0, "75.00", "832.90"),  # 全自理: the severe-disability nursing subsidy standard
        (1, "333.34", "1091.24"),  # 半护理: 1/6 × 2000.00, rounded up to stay a minimum
        (2, "333.34", "1091.24"),
        (3, "666.67", "1424.57"),  # 全护理: 1/3 × 2000.00
        (4, "666.67", "1424.57"),
    ],
)
def test_item_13_amounts(catalogue: Catalogue, ability: int, care: str, total: str) -> None:
    evaluation = run(catalogue, tekun(ability))
    entitlement = evaluation.entitlement(13)
    assert entitlement is not None
    basic, care_part = entitlement.components
    assert basic.amount == Decimal("757.90")  # 1.3 × 583.00
    assert care_part.amount == Decimal(care)
    assert entitlement.amount == Decimal(total)
    assert entitlement.period == "month"
    assert entitlement.degraded is None
    assert evaluation.monthly_total == Decimal(total)
    assert 14 not in items(evaluation)


def test_item_13_half_up_rounding_setting(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, tekun(2), derived_minimum_rounding="half_up")
    assert entitlement_of(evaluation, 13).components[1].amount == Decimal("333.33")


def test_item_13_care_level_mapping_is_a_setting(catalogue: Catalogue) -> None:
    mapping = {0: "self_care", 1: "self_care", 2: "semi", 3: "semi", 4: "full"}
    evaluation = run(catalogue, tekun(1), care_level_by_ability_level=mapping)
    assert entitlement_of(evaluation, 13).components[1].amount == Decimal("75.00")
    with pytest.raises(ValueError, match="missing \\[4\\]"):
        EldercareInterpretations(
            care_level_by_ability_level={0: "self_care", 1: "semi", 2: "semi", 3: "full"}
        )


def test_item_13_degraded_when_the_dibao_standard_is_unavailable(catalogue: Catalogue) -> None:
    context = EvaluationContext(
        dibao_standard=None,
        dibao_unavailable_reason="welfare service timed out",
        minimum_wage=Decimal("2000.00"),
    )
    evaluation = run(catalogue, tekun(2), context=context)
    entitlement = evaluation.entitlement(13)
    assert entitlement is not None
    assert entitlement.amount is None
    assert entitlement.period == "month"
    assert entitlement.degraded == "dibao standard unavailable: welfare service timed out"
    basic, care = entitlement.components
    assert basic.amount is None
    assert basic.degraded
    assert care.amount == Decimal("333.34")
    assert evaluation.degraded == (
        "item 13 特困老年人分散供养: dibao standard unavailable: welfare service timed out",
    )
    assert evaluation.monthly_total_complete is False
    assert as_json(evaluation)["entitlements"][-1]["item"] >= 13
    data = next(e for e in as_json(evaluation)["entitlements"] if e["item"] == 13)
    assert data["amount"] is None
    assert data["degraded"].startswith("dibao standard unavailable")


def test_item_13_degraded_without_a_reason(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, tekun(0), context=EvaluationContext())
    assert entitlement_of(evaluation, 13).degraded == (
        "dibao standard unavailable: the dibao standard was not supplied"
    )


def test_item_13_without_a_minimum_wage(catalogue: Catalogue) -> None:
    context = EvaluationContext(dibao_standard=Decimal("583.00"))
    evaluation = run(catalogue, tekun(3), context=context)
    entitlement = evaluation.entitlement(13)
    assert entitlement is not None
    assert entitlement.amount is None
    assert entitlement.degraded is not None
    assert entitlement.degraded.startswith("minimum wage of 411700 unknown:")
    # the self-care level needs no minimum wage
    self_care = run(catalogue, tekun(0), context=context)
    assert amount(self_care, 13) == Decimal("832.90")


def test_item_13_without_an_ability_assessment(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, tekun(None))
    entitlement = evaluation.entitlement(13)
    assert entitlement is not None
    assert entitlement.amount is None
    assert entitlement.degraded == "care level unknown: no ability assessment (ability_level)"
    assert entitlement.components[0].amount == Decimal("757.90")


def test_tekun_items_11_and_21_have_no_amount(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, tekun(0))
    subsidy = evaluation.entitlement(11)
    assert subsidy is not None
    assert subsidy.amount is None
    assert [part.key for part in subsidy.components] == ["tekun"]
    medical = evaluation.entitlement(21)
    assert medical is not None
    assert medical.amount is None
    assert [part.key for part in medical.components] == ["full_premium", "medical_assistance"]
    assert items(run(catalogue, person("1950-06-01", tekun="concentrated"))) >= {14, 21}


# --- other items ----------------------------------------------------------------------------


def test_pensions_need_pension_age_and_scheme_not_60(catalogue: Catalogue) -> None:
    employee = run(catalogue, person("1969-01-01", pension_age_reached=True, pension_scheme="employee"))
    assert items(employee) == {1}
    assert amount(employee, 1) is None
    resident = run(catalogue, person("1950-01-01", pension_age_reached=True, pension_scheme="resident"))
    assert 2 in items(resident)
    assert 1 not in items(resident)
    assert not {1, 2} & items(run(catalogue, person("1950-01-01", pension_scheme="resident")))


def test_item_10_needs_the_hardship_flag(catalogue: Catalogue) -> None:
    assert 10 not in items(run(catalogue, person("1950-01-01", dibao=True)))
    assert 10 in items(run(catalogue, person("1950-01-01", dibao=True, still_in_hardship=True)))


@pytest.mark.parametrize(
    ("facts", "granted"),
    [
        ({"family_planning_special": "child_died", "ability_level": 1}, True),
        ({"family_planning_special": "child_disabled", "has_disability_certificate": True}, True),
        ({"family_planning_special": "child_died", "ability_level": 0}, False),
        ({"ability_level": 3}, False),
    ],
)
def test_item_11_family_planning_branch(catalogue: Catalogue, facts: dict[str, Any], granted: bool) -> None:
    evaluation = run(catalogue, person("1950-01-01", **facts))
    assert (11 in items(evaluation)) is granted
    if granted:
        assert amount(evaluation, 11) == Decimal("60.00")


def test_item_11_family_planning_branch_at_80(catalogue: Catalogue) -> None:
    profile = person("1944-03-15", family_planning_special="child_died")
    assert 11 not in items(run(catalogue, profile, on="2024-03-20"))  # 80 this month: next month
    assert amount(run(catalogue, profile, on="2024-04-01"), 11) == Decimal("60.00")


ITEM_12_CITY = "现阶段重点保障纳入分散特困供养范围的失能、高龄、残疾老年人家庭"
ITEM_12_EXTENSION = "有条件的地方可将改造对象范围扩大到低保对象中的失能、高龄、残疾老年人家庭等"


@pytest.mark.parametrize(
    ("facts", "eligible"),
    [
        ({"tekun": "dispersed", "ability_level": 1}, True),  # 失能
        ({"tekun": "dispersed", "has_disability_certificate": True}, True),  # 残疾
        ({"tekun": "dispersed"}, False),  # dispersed tekun, but neither 失能, 高龄 nor 残疾
        ({"tekun": "concentrated", "ability_level": 3}, False),  # not 分散特困供养
        ({"dibao": True, "ability_level": 2}, False),  # the extension, not the city list
        ({"low_income_edge": True, "ability_level": 2}, False),
        ({"expenditure_hardship": True, "has_disability_certificate": True}, False),
        ({"ability_level": 4}, False),
    ],
)
def test_item_12_city_list_is_dispersed_tekun_who_are_disabled_old_or_handicapped(
    catalogue: Catalogue, facts: dict[str, Any], eligible: bool
) -> None:
    """附件第12项: 「现阶段重点保障纳入分散特困供养范围的失能、高龄、残疾老年人家庭」."""
    assert ITEM_12_CITY in catalogue.items[12].citation.excerpt
    assert (12 in items(run(catalogue, person("1950-01-01", **facts)))) is eligible


def test_item_12_high_age_is_80(catalogue: Catalogue) -> None:
    """高龄: 正文 二（三）15 「80周岁以上高龄老年人」; 80 is included."""
    assert 12 in items(run(catalogue, person("1944-03-15", tekun="dispersed"), on="2024-03-15"))
    assert 12 not in items(run(catalogue, person("1944-03-16", tekun="dispersed"), on="2024-03-15"))


def test_item_12_dibao_extension_is_the_countys_to_adopt(catalogue: Catalogue) -> None:
    """附件第12项: 「有条件的地方可将改造对象范围扩大到低保对象中的失能、高龄、残疾老年人家庭等」:
    not in the city list; a county list that adopts it covers dibao members with one of those."""
    extension = catalogue.items[12].extensions["dibao_members"]
    assert ITEM_12_EXTENSION in extension.text
    overrides = parse_overrides(
        {
            "jurisdiction": "411702",
            "version": "2024-01",
            "document": "驿城区基本养老服务清单",
            "items": {12: {"extensions": ["dibao_members"]}},
        }
    )
    county = merge(catalogue, overrides)
    dibao_disabled = person("1950-01-01", dibao=True, ability_level=2)
    assert 12 not in items(run(catalogue, dibao_disabled))
    granted = run(county, dibao_disabled)
    assert 12 in items(granted)
    amendment = entitlement_of(granted, 12).amended_by
    assert amendment is not None
    assert amendment.changes == ("extensions.dibao_members",)
    assert 12 not in items(run(county, person("1950-01-01", dibao=True)))  # dibao alone: no
    assert 12 in items(run(county, person("1950-01-01", tekun="dispersed", ability_level=1)))


def test_item_12_unknown_extension_is_refused(catalogue: Catalogue) -> None:
    overrides = parse_overrides(
        {
            "jurisdiction": "411702",
            "version": "2024-01",
            "document": "驿城区基本养老服务清单",
            "items": {12: {"extensions": ["low_income_edge"]}},
        }
    )
    with pytest.raises(InvalidInput) as caught:
        merge(catalogue, overrides)
    errors = caught.value.errors
    assert errors is not None
    assert errors[0]["field"] == "items.12.extensions.0"
    assert "dibao_members" in errors[0]["message"]


def test_item_17_needs_no_able_supporter(catalogue: Catalogue) -> None:
    assert 17 in items(run(catalogue, person("1950-01-01", special_contribution_group=True)))
    assert 17 not in items(
        run(catalogue, person("1950-01-01", special_contribution_group=True, has_able_supporter=True))
    )


@pytest.mark.parametrize(
    ("facts", "visited"),
    [
        ({"living_arrangement": "alone"}, True),
        ({"living_arrangement": "empty_nest"}, True),
        ({"living_arrangement": "left_behind"}, True),
        ({"living_arrangement": "with_family"}, False),
        ({"ability_level": 1}, True),
        ({"ability_level": 0}, False),
        ({"disability_grade": 2}, True),
        ({"disability_grade": 3}, False),
        ({"family_planning_special": "child_disabled"}, True),
        ({}, False),
    ],
)
def test_items_22_and_23_groups(catalogue: Catalogue, facts: dict[str, Any], visited: bool) -> None:
    evaluation = run(catalogue, person("1950-01-01", **facts))
    assert (22 in items(evaluation)) is visited
    assert (23 in items(evaluation)) is visited


def test_items_19_20_24_25(catalogue: Catalogue) -> None:
    assert 19 in items(run(catalogue, person("1950-01-01", has_disability_certificate=True)))
    assert 20 in items(run(catalogue, person("1950-01-01", homeless=True)))
    died = items(run(catalogue, person("1964-03-15", family_planning_special="child_died")))
    assert {24, 25} <= died
    assert 24 not in items(run(catalogue, person("1964-03-16", family_planning_special="child_died")))
    disabled = items(run(catalogue, person("1950-01-01", family_planning_special="child_disabled")))
    assert 25 in disabled
    assert 24 not in disabled


ITEM_21 = (
    "定额资助低保对象、返贫致贫人口中的老年人,原则上按照每人每年不低于80元标准执行;"
    "农村易返贫致贫人口资助参保标准按照巩固拓展脱贫攻坚成果同乡村振兴有效衔接的政策规定执行"
)


def test_item_21_relapsed_into_poverty_gets_80_a_year(catalogue: Catalogue) -> None:
    """附件第21项: 「定额资助低保对象、返贫致贫人口中的老年人,原则上按照每人每年不低于80元标准执行」."""
    assert ITEM_21 in catalogue.items[21].citation.excerpt
    evaluation = run(catalogue, person("1950-01-01", relapsed_into_poverty=True))
    assert amount(evaluation, 21) == Decimal("80.00")
    assert entitlement_of(evaluation, 21).period == "year"
    assert evaluation.monthly_total == Decimal("0.00")


def test_item_21_at_risk_of_relapse_is_eligible_without_an_amount(catalogue: Catalogue) -> None:
    """附件第21项: 「农村易返贫致贫人口资助参保标准按照巩固拓展脱贫攻坚成果同乡村振兴有效衔接的政策规定执行」:
    eligible, the amount is not in the sources, and the answer says so."""
    evaluation = run(catalogue, person("1950-01-01", at_risk_of_relapse=True))
    entitlement = evaluation.entitlement(21)
    assert entitlement is not None
    assert entitlement.amount is None
    keys = [part.key for part in entitlement.components]
    assert "rural_relapse_risk_premium" in keys
    assert "premium_subsidy" not in keys
    (note,) = [n for n in entitlement.notes if n.startswith("资助参保（农村易返贫致贫人口）")]
    assert "no amount is given" in note
    data = as_json(evaluation)
    item_21 = next(e for e in data["entitlements"] if e["item"] == 21)
    assert item_21["amount"] is None
    assert item_21["notes"] == [note]


def test_item_21_at_risk_and_dibao_gets_the_80(catalogue: Catalogue) -> None:
    entitlement = run(catalogue, person("1950-01-01", at_risk_of_relapse=True, dibao=True)).entitlement(21)
    assert entitlement is not None
    assert entitlement.amount == Decimal("80.00")
    assert [part.key for part in entitlement.components] == ["premium_subsidy", "medical_assistance"]


ITEM_6 = "每年为辖区内65周岁及以上常住居民提供1次生活方式和健康状况评估"


@pytest.mark.parametrize(
    ("resident", "granted", "noted"), [(None, True, True), (True, True, False), (False, False, False)]
)
def test_item_6_is_for_usual_residents(
    catalogue: Catalogue, resident: bool | None, granted: bool, noted: bool
) -> None:
    """附件第6项: 「每年为辖区内65周岁及以上常住居民提供…」: unknown residence keeps item 6 with a note."""
    assert ITEM_6 in catalogue.items[6].citation.excerpt
    facts = {} if resident is None else {"usual_resident": resident}
    evaluation = run(catalogue, person("1950-01-01", **facts))
    entitlement = evaluation.entitlement(6)
    assert (entitlement is not None) is granted
    if entitlement is not None:
        assert any("常住居民 not checked" in note for note in entitlement.notes) is noted
        assert entitlement.facts["usual_resident"] == resident


ADMISSION = (
    "在满足政策保障对象入住需求的基础上,优先接收经济困难家庭中失能、残疾、空巢独居老年人,80周岁以上高龄老年人,"
    "计划生育特殊家庭老年人,以及符合条件的老年优待抚恤对象、为社会作出突出贡献的老年人"
)


@pytest.mark.parametrize(
    ("facts", "rank", "group"),
    [
        ({"tekun": "dispersed", "living_arrangement": "alone"}, 1, "policy_guaranteed"),
        ({"dibao": True, "ability_level": 1}, 2, "hardship_disabled_or_alone"),
        ({"low_income_edge": True, "living_arrangement": "empty_nest"}, 2, "hardship_disabled_or_alone"),
        ({"living_arrangement": "alone"}, None, None),  # item 23's group, but not 经济困难
        ({"ability_level": 2}, None, None),
        ({"family_planning_special": "child_died"}, 2, "family_planning_special"),
        (
            {"living_arrangement": "left_behind", "special_contribution_group": True},
            2,
            "special_contribution",
        ),
    ],
)
def test_admission_order_of_public_care_homes(
    catalogue: Catalogue, facts: dict[str, Any], rank: int | None, group: str | None
) -> None:
    """正文 二（三）15: 「在满足政策保障对象入住需求的基础上,优先接收…」, as data item 23 uses."""
    order = catalogue.admission_priority
    assert order is not None
    assert ADMISSION in order.text
    entitlement = run(catalogue, person("1950-01-01", **facts)).entitlement(23)
    assert entitlement is not None
    assert entitlement.admission is not None
    assert (entitlement.admission.rank, entitlement.admission.group) == (rank, group)


def test_admission_order_80_and_over(catalogue: Catalogue) -> None:
    entitlement = run(catalogue, person("1944-03-15", living_arrangement="alone")).entitlement(23)
    assert entitlement is not None
    assert entitlement.admission is not None
    assert (entitlement.admission.rank, entitlement.admission.group) == (2, "advanced_age")
    assert 23 not in items(run(catalogue, person("1944-03-15")))  # item 23's groups decide who gets it


def test_admission_order_setting_is_stated(catalogue: Catalogue) -> None:
    """The 优先接收 groups share a rank unless admission_priority_order=as_listed; either way the
    answer names the setting."""
    profile = person("1950-01-01", family_planning_special="child_died")
    shared = run(catalogue, profile).entitlement(23)
    assert shared is not None
    assert shared.admission is not None
    assert (shared.admission.rank, shared.admission.of_ranks) == (2, 2)
    assert shared.admission.setting == "admission_priority_order=shared_rank"
    listed = run(catalogue, profile, admission_priority_order="as_listed").entitlement(23)
    assert listed is not None
    assert listed.admission is not None
    assert (listed.admission.rank, listed.admission.of_ranks) == (4, 5)
    assert any(
        "admission_priority_order=as_listed" in step
        for step in next(
            t for t in run(catalogue, profile, admission_priority_order="as_listed").trace if t.item == 23
        ).notes
    )


def test_county_list_deadline(catalogue: Catalogue) -> None:
    """正文 二（一）1: 「2023年12月底前，各县区政府（管委会）应当…制定发布本地清单」."""
    deadline = catalogue.county_list_deadline
    assert deadline is not None
    assert deadline.due_by == dt.date(2023, 12, 31)
    assert deadline.text.startswith("2023年12月底前")


# --- the answer -----------------------------------------------------------------------------


def test_entitlement_fields_and_facts(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, person("1930-01-01", dibao=True, living_arrangement="alone"))
    assert evaluation.age == 94
    assert evaluation.month == YearMonth(2024, 3)
    visit = evaluation.entitlement(22)
    assert visit is not None
    assert visit.facts == {"age": 94, "living_arrangement": "alone"}
    assert visit.service_type == "关爱服务"
    assert visit.amount is None
    assert visit.period is None
    assert visit.lead_department == "市民政局、市卫健委、市委、市残联"
    subsidy = evaluation.entitlement(11)
    assert subsidy is not None
    assert subsidy.facts == {"age": 94, "dibao": True}
    assert evaluation.monthly_total == Decimal("160.00")  # item 8 100.00 + item 11 60.00
    assert evaluation.monthly_total_complete is True


def test_the_trace_explains_every_item(catalogue: Catalogue) -> None:
    evaluation = run(catalogue, person("1950-01-01", dibao=True))
    assert [step.item for step in evaluation.trace] == list(range(1, 26))
    steps = {step.item: step for step in evaluation.trace}
    assert steps[10].matched is False
    assert steps[10].facts == {"still_in_hardship": False}
    assert steps[1].facts == {"pension_age_reached": False, "pension_scheme": None}
    assert steps[9].matched is True
    lean = evaluate(catalogue, person("1950-01-01", dibao=True), dt.date(2024, 3, 15), DIBAO, explain=False)
    assert lean.trace == ()  # a month's snapshots keep no explanation
    assert items(lean) == items(evaluation)


def test_the_answer_has_the_contract_shape(catalogue: Catalogue) -> None:
    data = as_json(run(catalogue, person("1933-06-01")))
    item_8 = next(e for e in data["entitlements"] if e["item"] == 8)
    assert item_8["name"] == "高龄津贴"
    assert item_8["amount"] == "100.00"
    assert item_8["period"] == "month"
    assert item_8["rule"] == {"age_at_least": 80}
    assert item_8["citation"]["document"] == "驻政办〔2023〕35号"
    assert item_8["funding"].startswith("市、县级政府负责")
    assert item_8["lead_department"] == "市民政局"
    assert data["monthly_total"] == "100.00"
    assert data["on"] == "2024-03-15"
    assert isinstance(data["trace"], list)


# --- bad profiles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "person.birth_date"),
        ({"birth_date": "1950-13-01"}, "person.birth_date"),
        ({"birth_date": "1899-12-31"}, "person.birth_date"),
        ({"birth_date": "1950-01-01", "income": 100}, "person.income"),
        ({"birth_date": "1950-01-01", "dibao": "yes"}, "person.dibao"),
        ({"birth_date": "1950-01-01", "dibao": 1}, "person.dibao"),
        ({"birth_date": "1950-01-01", "ability_level": 5}, "person.ability_level"),
        ({"birth_date": "1950-01-01", "ability_level": "2"}, "person.ability_level"),
        ({"birth_date": "1950-01-01", "disability_grade": 0}, "person.disability_grade"),
        ({"birth_date": "1950-01-01", "tekun": "scattered"}, "person.tekun"),
        ({"birth_date": "1950-01-01", "sex": "m"}, "person.sex"),
        ({"birth_date": "1950-01-01", "pension_scheme": "civil_servant"}, "person.pension_scheme"),
        ({"birth_date": "1950-01-01", "living_arrangement": "nursing_home"}, "person.living_arrangement"),
        ({"birth_date": "1950-01-01", "family_planning_special": "none"}, "person.family_planning_special"),
        (
            {"birth_date": "1950-01-01", "has_disability_certificate": False, "disability_grade": 1},
            "person.disability_grade",
        ),
    ],
)
def test_bad_profiles_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_profile(data)
    assert caught.value.status == 422
    assert caught.value.errors is not None
    assert [error["field"] for error in caught.value.errors] == [field]


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_profile({"birth_date": "1950-01-01", "dibao": "x", "tekun": "y"})
    assert [error["field"] for error in caught.value.errors or []] == ["person.dibao", "person.tekun"]


def test_a_profile_defaults_to_false_and_null() -> None:
    profile = person("1950-01-01")
    assert profile.dibao is False
    assert profile.tekun is None
    assert profile.ability_level is None
    assert person("1950-01-01", disability_grade=2).has_disability_certificate is True
    assert set(PersonProfile.model_fields) == {
        "birth_date", "sex", "pension_age_reached", "pension_scheme", "ability_level",
        "self_care_unable", "has_disability_certificate", "disability_grade",
        "needs_long_term_care", "dibao", "tekun", "low_income_edge", "expenditure_hardship",
        "relapsed_into_poverty", "at_risk_of_relapse", "still_in_hardship", "living_arrangement",
        "family_planning_special", "special_contribution_group", "has_able_supporter", "homeless",
        "usual_resident",
    }  # fmt: skip


def test_a_birth_date_after_the_evaluation_date(catalogue: Catalogue) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(catalogue, person("2024-03-16"), on="2024-03-15")
    assert caught.value.errors == [
        {
            "field": "person.birth_date",
            "message": "birth date 2024-03-16 is after the evaluation date 2024-03-15",
        }
    ]
    check_profile_on(person("2024-03-15"), dt.date(2024, 3, 15))  # born that day: fine
