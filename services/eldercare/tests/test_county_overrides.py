"""County catalogues: overrides may raise amounts and widen eligibility, never lower (二（一）1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eldercare.catalogues.overrides import (
    CatalogueOverrides,
    check_overrides,
    implies,
    merge,
    parse_overrides,
)
from eldercare.catalogues.pack import Catalogue, load_catalogue, parse_condition
from eldercare.evaluations.entitlements import Entitlement, Evaluation, EvaluationContext, evaluate
from eldercare.evaluations.profile import parse_profile
from eldercare.interpretations import EldercareInterpretations
from shared.errors import InvalidInput

PACK = Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml"
SETTINGS = EldercareInterpretations()
CONTEXT = EvaluationContext(dibao_standard=Decimal("583.00"), minimum_wage=Decimal("2000.00"))

CITY_BANDS = [
    {"from_age": 80, "to_age_as_written": 90, "amount": "60.00"},
    {"from_age": 90, "to_age_as_written": 99, "amount": "100.00"},
    {"from_age": 100, "to_age_as_written": None, "amount": "500.00"},
]
ELEVEN_WIDER = {
    "all": [
        {"age_at_least": "elderly_age"},
        {
            "any": [
                {"fact": "dibao"},
                {"fact": "low_income_edge"},
                {
                    "all": [
                        {"in": {"family_planning_special": ["child_died", "child_disabled"]}},
                        {
                            "any": [
                                {"age_at_least": 80},
                                {"at_least": {"ability_level": 1}},
                                {"fact": "has_disability_certificate"},
                            ]
                        },
                    ]
                },
                {"in": {"tekun": ["dispersed", "concentrated"]}},
            ]
        },
    ]
}


@pytest.fixture(scope="module")
def city() -> Catalogue:
    return load_catalogue(PACK)


def overrides(**changes: Any) -> CatalogueOverrides:
    return parse_overrides(
        {"jurisdiction": "411721", "version": "2024-01", "document": "西平县基本养老服务清单", **changes}
    )


def allowance(bands: Sequence[object] | dict[str, Any]) -> dict[int, Any]:
    amount = {"by_age": bands} if isinstance(bands, list) else bands
    return {8: {"components": {"allowance": {"amount": amount}}}}


def entitlement_of(evaluation: Evaluation, item: int) -> Entitlement:
    found = evaluation.entitlement(item)
    assert found is not None, f"item {item} not granted"
    return found


def refused(city: Catalogue, changes: CatalogueOverrides) -> list[dict[str, Any]]:
    with pytest.raises(InvalidInput) as caught:
        check_overrides(city, changes)
    assert caught.value.status == 422
    assert caught.value.errors
    return caught.value.errors


def fields(errors: list[dict[str, Any]]) -> list[str]:
    return [error["field"] for error in errors]


def run(catalogue: Catalogue, birth: str, on: str = "2024-06-15", **facts: Any) -> Evaluation:
    profile = parse_profile({"birth_date": birth, **facts})
    return evaluate(catalogue, profile, dt.date.fromisoformat(on), CONTEXT, SETTINGS)


def amount(evaluation: Evaluation, item: int) -> Decimal | None:
    entitlement = evaluation.entitlement(item)
    assert entitlement is not None, f"item {item} not granted"
    return entitlement.amount


# --- raising is accepted --------------------------------------------------------------------


def test_raised_longevity_allowance_is_accepted_and_used(city: Catalogue) -> None:
    raised = [
        {"from_age": 80, "to_age_as_written": 89, "amount": "80.00"},
        {"from_age": 90, "to_age_as_written": 99, "amount": "120.00"},
        {"from_age": 100, "to_age_as_written": None, "amount": "600.00"},
    ]
    county = merge(city, overrides(items=allowance(raised)))
    assert county.jurisdiction == "411721"
    assert county.based_on == "411700"
    assert county.name == "西平县基本养老服务清单"
    assert county.version == "2023-12-08+2024-01"
    assert list(county.items) == list(range(1, 26))
    item = county.items[8]
    assert item.amended_by is not None
    assert item.amended_by.document == "西平县基本养老服务清单"
    assert item.amended_by.changes == ("components.allowance.amount",)
    assert item.citation == city.items[8].citation
    assert county.items[9].amended_by is None
    assert amount(run(county, "1944-01-01"), 8) == Decimal("80.00")
    assert amount(run(county, "1934-01-01"), 8) == Decimal("120.00")
    assert amount(run(county, "1924-01-01"), 8) == Decimal("600.00")
    assert amount(run(city, "1934-01-01"), 8) == Decimal("100.00")  # the city is unchanged


def test_a_flat_amount_above_every_band_is_a_raise(city: Catalogue) -> None:
    county = merge(city, overrides(items=allowance({"fixed": "500.00"})))
    assert amount(run(county, "1943-01-01"), 8) == Decimal("500.00")


def test_a_lower_age_with_wider_eligibility(city: Catalogue) -> None:
    bands = [{"from_age": 75, "to_age_as_written": 90, "amount": "60.00"}, *CITY_BANDS[1:]]
    items = allowance(bands)
    items[8]["eligibility"] = {"age_at_least": 75}
    county = merge(city, overrides(items=items))
    assert amount(run(county, "1948-01-01"), 8) == Decimal("60.00")  # 76
    assert 8 not in {e.item for e in run(city, "1948-01-01").entitlements}


def test_raised_parameter_reaches_items_13_and_18(city: Catalogue) -> None:
    county = merge(
        city,
        overrides(
            parameters={
                "severe_disability_nursing_subsidy": {"amount": "90.00", "source": "西平县文件"},
                "minimum_wage": {"amount": "1800.00", "source": "豫政〔2023〕XX号 三类区"},
            }
        ),
    )
    assert county.parameters["severe_disability_nursing_subsidy"].amount == Decimal("90.00")
    nursing = run(county, "1950-01-01", disability_grade=1, needs_long_term_care=True)
    assert amount(nursing, 18) == Decimal("90.00")
    self_care = run(county, "1950-01-01", tekun="dispersed", ability_level=0)
    assert entitlement_of(self_care, 13).components[1].amount == Decimal("90.00")
    semi = evaluate(
        county,
        parse_profile({"birth_date": "1950-01-01", "tekun": "dispersed", "ability_level": 2}),
        dt.date(2024, 6, 15),
        EvaluationContext(dibao_standard=Decimal("583.00")),
    )
    care = entitlement_of(semi, 13).components[1]
    assert care.amount == Decimal("300.00")  # 1/6 × 1800.00
    assert care.explanation is not None
    assert "三类区" in care.explanation


def test_widened_item_11_with_its_component(city: Catalogue) -> None:
    subsidy = parse_condition(ELEVEN_WIDER["all"][1])
    county = merge(
        city,
        overrides(
            items={
                11: {
                    "eligibility": ELEVEN_WIDER,
                    "components": {"subsidy": {"eligibility": ELEVEN_WIDER["all"][1]}},
                    "note": "有条件的地方可扩大到低保边缘",
                }
            }
        ),
    )
    assert county.items[11].components["subsidy"].eligibility == subsidy
    assert amount(run(county, "1950-01-01", low_income_edge=True), 11) == Decimal("60.00")
    assert 11 not in {e.item for e in run(city, "1950-01-01", low_income_edge=True).entitlements}


def test_an_amount_the_county_sets(city: Catalogue) -> None:
    county = merge(
        city,
        overrides(
            items={
                16: {
                    "components": {
                        "caregiver_training_subsidy": {"amount": {"fixed": "500.00"}, "period": "year"}
                    }
                }
            }
        ),
    )
    evaluation = run(county, "1950-01-01", self_care_unable=True)
    assert amount(evaluation, 16) == Decimal("500.00")
    assert entitlement_of(evaluation, 16).period == "year"


def test_raised_dibao_multiple(city: Catalogue) -> None:
    county = merge(
        city, overrides(items={13: {"components": {"basic_living": {"amount": {"dibao_multiple": "1.5"}}}}})
    )
    evaluation = run(county, "1950-01-01", tekun="dispersed", ability_level=0)
    assert entitlement_of(evaluation, 13).components[0].amount == Decimal("874.50")


def test_equal_nursing_subsidies_pay_the_first_option(city: Catalogue) -> None:
    county = merge(
        city, overrides(items={15: {"components": {"care_subsidy": {"amount": {"fixed": "75.00"}}}}})
    )
    evaluation = run(
        county,
        "1950-01-01",
        dibao=True,
        self_care_unable=True,
        disability_grade=1,
        needs_long_term_care=True,
    )
    choice = entitlement_of(evaluation, 15).choice
    assert choice is not None
    assert [(o.item, o.amount, o.paid) for o in choice.options] == [
        (15, Decimal("75.00"), True),
        (18, Decimal("75.00"), False),
    ]
    assert "75.00 = " in choice.reason
    assert amount(evaluation, 18) == Decimal("75.00")  # the living subsidy only


def test_a_county_item_of_its_own(city: Catalogue) -> None:
    own = city.items[22].model_dump(mode="json")
    own.update(name="西平县助餐服务", amended_by=None)
    del own["number"]  # taken from the key
    county = merge(city, overrides(extra_items={26: own}))
    assert list(county.items)[-1] == 26
    assert 26 in {e.item for e in run(county, "1950-01-01", living_arrangement="alone").entitlements}


def test_a_development_zone_may_have_a_catalogue(city: Catalogue) -> None:
    zone = parse_overrides({"jurisdiction": "411700-Z01", "version": "1", "document": "示范区清单"})
    assert merge(city, zone).name == "城乡一体化示范区基本养老服务清单"


# --- lowering is refused, naming the item -------------------------------------------------


def test_a_lower_band_is_refused_naming_item_8(city: Catalogue) -> None:
    lower = [
        {"from_age": 80, "to_age_as_written": 89, "amount": "60.00"},
        {"from_age": 90, "to_age_as_written": 99, "amount": "80.00"},
        {"from_age": 100, "to_age_as_written": None, "amount": "500.00"},
    ]
    errors = refused(city, overrides(items=allowance(lower)))
    assert fields(errors) == ["items.8.components.allowance.amount"]
    assert "item 8 高龄津贴" in errors[0]["message"]
    assert "at age 90 gives 80.00, below the city's 100.00" in errors[0]["message"]
    assert "驻政办〔2023〕35号 二（一）1" in errors[0]["message"]
    with pytest.raises(InvalidInput):
        merge(city, overrides(items=allowance(lower)))


def test_moving_age_90_into_the_first_band_is_refused(city: Catalogue) -> None:
    shifted = [
        {"from_age": 80, "to_age_as_written": 90, "amount": "70.00"},
        {"from_age": 91, "to_age_as_written": 99, "amount": "110.00"},
        {"from_age": 100, "to_age_as_written": None, "amount": "550.00"},
    ]
    errors = refused(city, overrides(items=allowance(shifted)))
    assert "at age 90 gives 70.00, below the city's 100.00" in errors[0]["message"]


def test_a_later_start_is_refused(city: Catalogue) -> None:
    later = [{"from_age": 81, "to_age_as_written": 90, "amount": "60.00"}, *CITY_BANDS[1:]]
    errors = refused(city, overrides(items=allowance(later)))
    assert "at age 80 gives nothing, below the city's 60.00" in errors[0]["message"]


def test_a_flat_amount_below_a_band_is_refused(city: Catalogue) -> None:
    errors = refused(city, overrides(items=allowance({"fixed": "400.00"})))
    assert "at age 100 gives 400.00, below the city's 500.00" in errors[0]["message"]


def test_a_lower_fixed_amount_is_refused(city: Catalogue) -> None:
    errors = refused(
        city, overrides(items={15: {"components": {"care_subsidy": {"amount": {"fixed": "50.00"}}}}})
    )
    assert fields(errors) == ["items.15.components.care_subsidy.amount"]
    assert "lowers the amount from 60.00 to 50.00" in errors[0]["message"]


def test_a_lower_parameter_is_refused(city: Catalogue) -> None:
    errors = refused(
        city,
        overrides(parameters={"severe_disability_nursing_subsidy": {"amount": "70.00", "source": "x"}}),
    )
    assert fields(errors) == ["parameters.severe_disability_nursing_subsidy.amount"]
    assert "from 75.00 to 70.00" in errors[0]["message"]


def test_replacing_a_parameter_by_a_lower_fixed_amount_is_refused(city: Catalogue) -> None:
    errors = refused(
        city, overrides(items={18: {"components": {"nursing_subsidy": {"amount": {"fixed": "70.00"}}}}})
    )
    assert fields(errors) == ["items.18.components.nursing_subsidy.amount"]


def test_lower_item_13_standards_are_refused(city: Catalogue) -> None:
    errors = refused(
        city,
        overrides(
            items={
                13: {
                    "components": {
                        "basic_living": {"amount": {"dibao_multiple": "1.2"}},
                        "care": {
                            "amount": {
                                "by_care_level": {
                                    "full": {"minimum_wage_fraction": "1/4"},
                                    "semi": {"minimum_wage_fraction": "1/6"},
                                    "self_care": {"parameter": "severe_disability_nursing_subsidy"},
                                }
                            }
                        },
                    }
                }
            }
        ),
    )
    assert fields(errors) == [
        "items.13.components.basic_living.amount",
        "items.13.components.care.amount",
    ]
    assert "from 1.3 to 1.2" in errors[0]["message"]
    assert "care level full" in errors[1]["message"]


def test_a_different_kind_of_amount_is_refused(city: Catalogue) -> None:
    errors = refused(
        city, overrides(items={13: {"components": {"basic_living": {"amount": {"fixed": "900.00"}}}}})
    )
    assert "cannot show" in errors[0]["message"]


def test_dropping_an_item_is_refused(city: Catalogue) -> None:
    errors = refused(city, overrides(items={5: {"removed": True}}))
    assert fields(errors) == ["items.5.removed"]
    assert "drops item 5 乘坐城市公共交通工具" in errors[0]["message"]
    assert "县区清单应包含《清单》中的服务项目" in errors[0]["message"]


@pytest.mark.parametrize(
    ("item", "narrower"),
    [
        (3, {"age_at_least": 65}),
        (3, {"all": [{"age_at_least": "preferential_treatment_age"}, {"fact": "dibao"}]}),
        (9, {"all": [{"age_at_least": "elderly_age"}, {"fact": "dibao"}, {"not": {"fact": "homeless"}}]}),
        (
            22,
            {
                "all": [
                    {"age_at_least": "elderly_age"},
                    {
                        "any": [
                            {"in": {"living_arrangement": ["alone", "empty_nest"]}},
                            {"at_least": {"ability_level": 1}},
                            {"in": {"disability_grade": [1, 2]}},
                            {"in": {"family_planning_special": ["child_died", "child_disabled"]}},
                        ]
                    },
                ]
            },
        ),
        (22, {"all": [{"age_at_least": "elderly_age"}, {"at_least": {"ability_level": 2}}]}),
        (13, {"all": [{"age_at_least": "elderly_age"}, {"fact": "dibao"}]}),
    ],
)
def test_narrower_eligibility_is_refused(city: Catalogue, item: int, narrower: dict[str, Any]) -> None:
    errors = refused(city, overrides(items={item: {"eligibility": narrower}}))
    assert fields(errors) == [f"items.{item}.eligibility"]
    assert f"item {item} {city.items[item].name}" in errors[0]["message"]


def test_narrower_component_eligibility_is_refused(city: Catalogue) -> None:
    errors = refused(
        city,
        overrides(
            items={
                18: {
                    "components": {
                        "living_subsidy": {
                            "eligibility": {
                                "all": [
                                    {"fact": "has_disability_certificate"},
                                    {"fact": "dibao"},
                                    {"in": {"disability_grade": [1, 2]}},
                                ]
                            }
                        }
                    }
                },
                # a component open to all the item's eligible may not get a condition
                13: {"components": {"care": {"eligibility": {"fact": "self_care_unable"}}}},
            }
        ),
    )
    assert fields(errors) == [
        "items.18.components.living_subsidy.eligibility",
        "items.13.components.care.eligibility",
    ]


def test_every_problem_is_listed_with_a_location(city: Catalogue) -> None:
    changes = overrides(
        items={5: {"removed": True}, 26: {}, 8: {"components": {"bonus": {"amount": {"fixed": "1.00"}}}}},
        parameters={"dibao_standard": {"amount": "600.00", "source": "x"}},
        extra_items={8: city.items[8].model_dump(mode="json")},
    )
    with pytest.raises(InvalidInput) as caught:
        check_overrides(city, changes, location="body")
    assert fields(caught.value.errors or []) == [
        "body.parameters.dibao_standard",
        "body.items.5.removed",
        "body.items.26",
        "body.items.8.components.bonus",
        "body.extra_items.8",
    ]


@pytest.mark.parametrize("code", ["211102", "411700", "999999"])
def test_only_places_under_the_city(city: Catalogue, code: str) -> None:
    changes = parse_overrides({"jurisdiction": code, "version": "1", "document": "d"})
    assert fields(refused(city, changes)) == ["jurisdiction"]


def test_overrides_apply_to_the_city_catalogue_only(city: Catalogue) -> None:
    county = merge(city, overrides())
    errors = refused(county, parse_overrides({"jurisdiction": "411722", "version": "1", "document": "d"}))
    assert "jurisdiction" in fields(errors)


def test_an_amount_set_by_the_county_needs_a_period(city: Catalogue) -> None:
    errors = refused(
        city,
        overrides(items={19: {"components": {"assistive_device_subsidy": {"amount": {"fixed": "300.00"}}}}}),
    )
    assert fields(errors) == ["items.19.components.assistive_device_subsidy.period"]


def test_a_changed_period_is_refused(city: Catalogue) -> None:
    errors = refused(
        city,
        overrides(
            items={15: {"components": {"care_subsidy": {"amount": {"fixed": "720.00"}, "period": "year"}}}}
        ),
    )
    assert fields(errors) == ["items.15.components.care_subsidy.period"]


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"items": allowance([{"from_age": 80, "to_age_as_written": None, "amount": 60}])},
            "body.items.8.components.allowance.amount.by_age.0.amount",
        ),
        ({"items": {3: {"eligibility": {"age_at_least": "sixty"}}}}, "body.items.3.eligibility"),
        ({"items": {3: {"delete": True}}}, "body.items.3.delete"),
        ({"parameters": {"minimum_wage": {"amount": "1800.00"}}}, "body.parameters.minimum_wage.source"),
        ({"document": ""}, "body.document"),
    ],
)
def test_parse_overrides_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_overrides({"jurisdiction": "411721", "version": "1", "document": "d", **changes})
    assert field in fields(caught.value.errors or [])


# --- widening, shown structurally -----------------------------------------------------------


@pytest.mark.parametrize(
    ("narrower", "wider", "expected"),
    [
        ({"age_at_least": 80}, {"age_at_least": 75}, True),
        ({"age_at_least": 75}, {"age_at_least": 80}, False),
        ({"age_at_least": "elderly_age"}, {"age_at_least": 55}, True),
        ({"age_at_least": "elderly_age"}, {"age_at_least": 61}, False),
        ({"fact": "dibao"}, {"any": [{"fact": "dibao"}, {"fact": "low_income_edge"}]}, True),
        ({"any": [{"fact": "dibao"}, {"fact": "low_income_edge"}]}, {"fact": "dibao"}, False),
        ({"all": [{"fact": "dibao"}, {"age_at_least": 60}]}, {"fact": "dibao"}, True),
        ({"fact": "dibao"}, {"all": [{"fact": "dibao"}, {"age_at_least": 60}]}, False),
        ({"equals": {"tekun": "dispersed"}}, {"in": {"tekun": ["dispersed", "concentrated"]}}, True),
        ({"in": {"tekun": ["dispersed", "concentrated"]}}, {"equals": {"tekun": "dispersed"}}, False),
        ({"at_least": {"ability_level": 2}}, {"at_least": {"ability_level": 1}}, True),
        ({"at_least": {"ability_level": 1}}, {"at_least": {"ability_level": 2}}, False),
        ({"at_least": {"ability_level": 3}}, {"in": {"ability_level": [3, 4]}}, True),
        ({"in": {"disability_grade": [1, 2]}}, {"at_least": {"disability_grade": 1}}, True),
        ({"not": {"fact": "has_able_supporter"}}, {"not": {"fact": "has_able_supporter"}}, True),
        (
            {"not": {"in": {"tekun": ["dispersed", "concentrated"]}}},
            {"not": {"equals": {"tekun": "dispersed"}}},
            True,
        ),
        (
            {"not": {"equals": {"tekun": "dispersed"}}},
            {"not": {"in": {"tekun": ["dispersed", "concentrated"]}}},
            False,
        ),
        (
            {"all": [{"fact": "dibao"}, {"any": [{"fact": "homeless"}, {"age_at_least": 80}]}]},
            {"any": [{"all": [{"fact": "dibao"}, {"fact": "homeless"}]}, {"age_at_least": 70}]},
            True,
        ),
        ({"fact": "dibao"}, {"fact": "homeless"}, False),
        ({"equals": {"sex": "male"}}, {"equals": {"tekun": "dispersed"}}, False),
    ],
)
def test_implies(narrower: dict[str, Any], wider: dict[str, Any], expected: bool) -> None:
    assert implies(parse_condition(narrower), parse_condition(wider), SETTINGS) is expected


def test_the_widened_item_11_implies_the_city_rule(city: Catalogue) -> None:
    assert implies(city.items[11].eligibility, parse_condition(ELEVEN_WIDER), SETTINGS)
    assert not implies(parse_condition(ELEVEN_WIDER), city.items[11].eligibility, SETTINGS)
    for item in city.items.values():  # every rule is at least as wide as itself
        assert implies(item.eligibility, item.eligibility, SETTINGS)


@pytest.mark.parametrize("multiple", ["１.５", "١.٥", "1.5\n", "1.５"])
def test_a_multiple_in_other_digits_is_refused(multiple: str) -> None:
    """Numbers in an override body are ASCII digits, like money and citizen IDs: a full-width,
    Arabic-Indic or newline-ended multiple is refused, not saved in that spelling."""
    with pytest.raises(InvalidInput) as caught:
        overrides(items={13: {"components": {"basic_living": {"amount": {"dibao_multiple": multiple}}}}})
    assert caught.value.status == 422


def care_by_level(fraction: str) -> CatalogueOverrides:
    levels = {
        "full": {"minimum_wage_fraction": fraction},
        "semi": {"minimum_wage_fraction": "1/6"},
        "self_care": {"parameter": "severe_disability_nursing_subsidy"},
    }
    return overrides(items={13: {"components": {"care": {"amount": {"by_care_level": levels}}}}})


@pytest.mark.parametrize("fraction", ["１/３", "1/3\n", "1/٣"])
def test_a_fraction_in_other_digits_is_refused(fraction: str) -> None:
    care_by_level("1/3")  # the same body in ASCII digits is read
    with pytest.raises(InvalidInput) as caught:
        care_by_level(fraction)
    assert caught.value.status == 422
