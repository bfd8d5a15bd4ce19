"""The Zhumadian catalogue pack (驻马店市基本养老服务清单): contents and the loader's checks."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from eldercare.catalogues.pack import (
    AgeAtLeast,
    AllOf,
    AnyOf,
    AtLeast,
    Catalogue,
    Equals,
    Fact,
    Not,
    OneOf,
    dump_condition,
    load_catalogue,
    load_catalogues,
    parse_condition,
)
from shared.errors import PackError

PACKS = Path(__file__).resolve().parents[1] / "packs"
PACK = PACKS / "411700-zhumadian.yaml"
SEEDS = Path("/work/shared/seeds/zhumadian-gazette-2023-06.txt")

NAMES = {
    1: "职工基本养老保险",
    2: "城乡居民基本养老保险",
    3: "老年人休闲优待服务",
    4: "就医便利服务",
    5: "乘坐城市公共交通工具",
    6: "老年人健康管理",
    7: "老年人能力综合评估",
    8: "高龄津贴",
    9: "最低生活保障",
    10: "发放临时救助金",
    11: "养老服务补贴",
    12: "家庭适老化改造",
    13: "特困老年人分散供养",
    14: "特困老年人集中供养",
    15: "护理补贴",
    16: "家庭养老支持服务",
    17: "对国家和社会作出特殊贡献的老年人集中供养",
    18: "困难残疾人生活补贴和重度残疾人护理补贴",
    19: "康复辅具适配",
    20: "生活无着的流浪乞讨老年人社会救助",
    21: "医疗救助",
    22: "探访服务",
    23: "优先享受机构养老服务",
    24: "计划生育特别扶助金",
    25: "老年父母投靠成年子女落户",
}

SERVICE_TYPES = {
    "物质帮助": {1, 2, 3, 5, 8, 9, 10, 11, 15, 18, 20, 21, 24},
    "照护服务": {4, 6, 7, 12, 13, 14, 16, 17, 19, 23},
    "关爱服务": {22, 25},
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(PACK)


def raw() -> dict[str, Any]:
    data = yaml.safe_load(PACK.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(directory: Path, data: dict[str, Any], name: str = "411700-zhumadian.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def broken(tmp_path: Path, change: Any) -> PackError:
    data = copy.deepcopy(raw())
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(PackError) as caught:
        load_catalogue(path)
    return caught.value


# --- contents ---------------------------------------------------------------------------


def test_all_25_items_of_the_annex_in_order(catalogue: Catalogue) -> None:
    assert catalogue.jurisdiction == "411700"
    assert catalogue.source.document == "驻政办〔2023〕35号"
    assert catalogue.source.issued_on.isoformat() == "2023-12-08"
    assert list(catalogue.items) == list(range(1, 26))
    assert {number: item.name for number, item in catalogue.items.items()} == NAMES


def test_service_types(catalogue: Catalogue) -> None:
    for service_type, numbers in SERVICE_TYPES.items():
        assert {n for n, item in catalogue.items.items() if item.service_type == service_type} == (numbers)


def test_every_item_has_content_lead_department_and_citation(catalogue: Catalogue) -> None:
    for number, item in catalogue.items.items():
        assert item.content.strip(), number
        assert item.lead_department.strip(), number
        assert item.citation.document == "驻政办〔2023〕35号"
        assert f"第{number}项" in item.citation.item
        assert item.citation.excerpt.strip()
    # the annex gives no 支出责任 cell for items 3–5 only
    assert [n for n, item in catalogue.items.items() if item.funding is None] == [3, 4, 5]
    assert (
        catalogue.items[8].funding == "市、县级政府负责。省财政给予适当补助。市财政按规定给予区级适当补助。"
    )
    assert catalogue.items[21].lead_department == "市医保局"
    assert catalogue.items[25].lead_department == "市公安局"


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.skipif(not SEEDS.exists(), reason="source gazette not available")
def test_texts_are_verbatim_from_the_gazette(catalogue: Catalogue) -> None:
    source = _flat(SEEDS.read_text(encoding="utf-8"))
    annex = source[source.index("驻马店市基本养老服务清单服务对象") :]
    for number, item in catalogue.items.items():
        for what, text in (
            ("excerpt", item.citation.excerpt),
            ("target", item.target),
            ("content", item.content),
            ("standard", item.standard or ""),
            ("funding", item.funding or ""),
        ):
            assert _flat(text) in annex, (number, what)
    for alternative in catalogue.alternatives:
        assert _flat(alternative.text) in annex
    quoted: list[tuple[str, str]] = []
    for number, item in catalogue.items.items():
        for key, extension in item.extensions.items():
            quoted += [(f"{number}.{key}", extension.text), (f"{number}.{key}", extension.citation.excerpt)]
        quoted += [(f"{number}.{name}", fact.citation.excerpt) for name, fact in item.unknown_facts.items()]
    assert catalogue.admission_priority is not None
    assert catalogue.county_list_deadline is not None
    assert catalogue.validity is not None
    quoted += [
        ("admission_priority", catalogue.admission_priority.text),
        ("admission_priority", catalogue.admission_priority.citation.excerpt),
        ("county_list_deadline", catalogue.county_list_deadline.text),
        ("validity", catalogue.validity.text),
    ]
    assert len(quoted) >= 7
    for where, text in quoted:
        assert _flat(text) in source, where


def test_amounts_are_the_annex_minimums(catalogue: Catalogue) -> None:
    bands = catalogue.items[8].components["allowance"].amount
    assert bands is not None
    assert bands.by_age is not None
    assert [(b.from_age, b.to_age_as_written, b.amount) for b in bands.by_age] == [
        (80, 90, Decimal("60.00")),
        (90, 99, Decimal("100.00")),
        (100, None, Decimal("500.00")),
    ]
    assert catalogue.items[8].components["allowance"].period == "month"
    fixed = {
        (11, "subsidy"): ("60.00", "month"),
        (15, "care_subsidy"): ("60.00", "month"),
        (18, "living_subsidy"): ("75.00", "month"),
        (21, "premium_subsidy"): ("80.00", "year"),
    }
    for (number, key), (amount, period) in fixed.items():
        component = catalogue.items[number].components[key]
        assert component.amount is not None
        assert component.amount.fixed == Decimal(amount)
        assert component.period == period
        assert component.minimum is True
    nursing = catalogue.items[18].components["nursing_subsidy"].amount
    assert nursing is not None
    assert nursing.parameter == "severe_disability_nursing_subsidy"
    basic = catalogue.items[13].components["basic_living"].amount
    assert basic is not None
    assert basic.dibao_multiple == Decimal("1.3")
    care = catalogue.items[13].components["care"].amount
    assert care is not None
    assert care.by_care_level is not None
    assert care.by_care_level.full.minimum_wage_fraction == "1/3"
    assert care.by_care_level.semi.minimum_wage_fraction == "1/6"
    assert care.by_care_level.self_care.parameter == "severe_disability_nursing_subsidy"


def test_parameters(catalogue: Catalogue) -> None:
    wage = catalogue.parameters["minimum_wage"]
    assert wage.amount is None  # the seeds do not give Zhumadian's minimum wage
    assert wage.note
    assert "最低工资" in wage.note
    assert wage.kind == "local_figure"
    nursing = catalogue.parameters["severe_disability_nursing_subsidy"]
    assert nursing.amount == Decimal("75.00")
    assert nursing.kind == "standard"
    assert nursing.source
    assert "75元" in nursing.source


def test_the_choose_higher_alternative(catalogue: Catalogue) -> None:
    (alternative,) = catalogue.alternatives
    assert alternative.setting == "nursing_subsidy_choice"
    assert [(o.item, o.component) for o in alternative.options] == [
        (15, "care_subsidy"),
        (18, "nursing_subsidy"),
    ]
    assert "择高申领" in alternative.text


def test_eligibility_is_data(catalogue: Catalogue) -> None:
    assert catalogue.items[3].eligibility == AgeAtLeast("preferential_treatment_age")
    assert catalogue.items[6].eligibility == AllOf((AgeAtLeast(65), Not(Equals("usual_resident", False))))
    assert catalogue.items[8].eligibility == AgeAtLeast(80)
    assert catalogue.items[13].eligibility == AllOf((AgeAtLeast("elderly_age"), Equals("tekun", "dispersed")))
    assert catalogue.items[17].eligibility == AllOf(
        (
            AgeAtLeast("elderly_age"),
            Fact("special_contribution_group"),
            Not(Fact("has_able_supporter")),
        )
    )
    visits = catalogue.items[22].eligibility
    assert isinstance(visits, AllOf)
    assert visits.conditions[1] == AnyOf(
        (
            OneOf("living_arrangement", frozenset({"alone", "empty_nest", "left_behind"})),
            AtLeast("ability_level", 1),
            OneOf("disability_grade", frozenset({1, 2})),
            OneOf("family_planning_special", frozenset({"child_died", "child_disabled"})),
        )
    )
    assert catalogue.items[22].eligibility == catalogue.items[23].eligibility


def test_catalogue_round_trips_through_json(catalogue: Catalogue) -> None:
    data = catalogue.model_dump(mode="json")
    assert data["items"]["8"]["components"]["allowance"]["amount"] == {
        "by_age": [
            {"from_age": 80, "to_age_as_written": 90, "amount": "60.00"},
            {"from_age": 90, "to_age_as_written": 99, "amount": "100.00"},
            {"from_age": 100, "to_age_as_written": None, "amount": "500.00"},
        ]
    }
    assert data["items"]["13"]["eligibility"] == {
        "all": [{"age_at_least": "elderly_age"}, {"equals": {"tekun": "dispersed"}}]
    }
    assert Catalogue.model_validate(data) == catalogue


def test_load_catalogues_keys_by_jurisdiction() -> None:
    assert list(load_catalogues(PACKS)) == ["411700"]


# --- the condition language ----------------------------------------------------------------


def test_conditions_parse_and_dump() -> None:
    data = {
        "all": [
            {"age_at_least": 80},
            {"any": [{"fact": "dibao"}, {"in": {"tekun": ["dispersed", "concentrated"]}}]},
            {"not": {"equals": {"living_arrangement": "with_family"}}},
            {"at_least": {"ability_level": 1}},
        ]
    }
    condition = parse_condition(data)
    assert dump_condition(condition) == {
        "all": [
            {"age_at_least": 80},
            {"any": [{"fact": "dibao"}, {"in": {"tekun": ["concentrated", "dispersed"]}}]},
            {"not": {"equals": {"living_arrangement": "with_family"}}},
            {"at_least": {"ability_level": 1}},
        ]
    }
    assert parse_condition(dump_condition(condition)) == condition


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fact": "dibaoo"}, "fact: unknown fact 'dibaoo'"),
        ({"fact": "birth_date"}, "unknown fact 'birth_date'"),
        ({"all": []}, "all: must be a non-empty list"),
        ({"any": [{"fact": "dibao"}, {"age_atleast": 80}]}, "any.1: unknown operator 'age_atleast'"),
        ({"age_at_least": "pension_age"}, "unknown age setting 'pension_age'"),
        ({"age_at_least": 80.5}, "whole number of years"),
        ({"age_at_least": True}, "whole number of years"),
        ({"age_at_least": 200}, "between 0 and 150"),
        ({"equals": {"tekun": "scattered"}}, "equals.tekun: 'scattered' is not a value of tekun"),
        ({"in": {"living_arrangement": ["alone", "lonely"]}}, "in.living_arrangement.1"),
        ({"in": {"disability_grade": [5]}}, "5 is not a value of disability_grade"),
        ({"at_least": {"tekun": "dispersed"}}, "'tekun' cannot be compared"),
        ({"at_least": {"ability_level": True}}, "True is not a value of ability_level"),
        ({"equals": {"ability": 1}}, "unknown circumstance 'ability'"),
        ({"fact": "dibao", "age_at_least": 60}, "exactly one operator"),
        ("dibao", "exactly one operator"),
    ],
)
def test_bad_conditions_name_the_part(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_condition(data)


# --- broken pack files ---------------------------------------------------------------------


def test_a_broken_condition_names_file_and_field(tmp_path: Path) -> None:
    error = broken(
        tmp_path,
        lambda d: d["items"][11]["eligibility"]["all"][1]["any"].append({"fact": "poor"}),
    )
    assert error.file == "411700-zhumadian.yaml"
    assert error.field == "items.11.eligibility"
    assert "all.1.any.3.fact: unknown fact 'poor'" in error.problem
    assert str(error).startswith("411700-zhumadian.yaml: items.11.eligibility:")


def test_money_must_be_a_string(tmp_path: Path) -> None:
    error = broken(
        tmp_path, lambda d: d["items"][15]["components"]["care_subsidy"].update(amount={"fixed": 60.0})
    )
    assert error.field == "items.15.components.care_subsidy.amount.fixed"
    assert "string" in error.problem


def test_negative_amount_is_refused(tmp_path: Path) -> None:
    error = broken(
        tmp_path,
        lambda d: d["items"][15]["components"]["care_subsidy"].update(amount={"fixed": "-60.00"}),
    )
    assert error.field == "items.15.components.care_subsidy.amount.fixed"
    assert "negative" in error.problem


def test_an_amount_needs_exactly_one_kind(tmp_path: Path) -> None:
    error = broken(
        tmp_path,
        lambda d: d["items"][15]["components"]["care_subsidy"].update(
            amount={"fixed": "60.00", "dibao_multiple": "1.3"}
        ),
    )
    assert error.field == "items.15.components.care_subsidy.amount"
    assert "exactly one" in error.problem


def test_an_amount_needs_a_period(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["items"][15]["components"]["care_subsidy"].pop("period"))
    assert error.field == "items.15.components.care_subsidy"
    assert "period" in error.problem


def test_a_missing_citation_excerpt(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["items"][8]["citation"].update(excerpt="  "))
    assert error.field == "items.8.citation.excerpt"


def test_a_missing_lead_department(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["items"][22].pop("lead_department"))
    assert error.field == "items.22.lead_department"
    assert "required" in error.problem.lower()


def test_an_unknown_service_type(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["items"][24].update(service_type="物资帮助"))
    assert error.field == "items.24.service_type"


def test_an_unknown_field(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["items"][8].update(amount="60.00"))
    assert error.field == "items.8.amount"
    assert "extra" in error.problem.lower()


def test_an_unknown_parameter(tmp_path: Path) -> None:
    error = broken(
        tmp_path,
        lambda d: d["items"][18]["components"]["nursing_subsidy"].update(
            amount={"parameter": "nursing_standard"}
        ),
    )
    assert error.field == "items.18.components.nursing_subsidy.amount.parameter"
    assert "unknown parameter 'nursing_standard'" in error.problem


def test_age_bands_with_a_gap(tmp_path: Path) -> None:
    def gap(data: dict[str, Any]) -> None:
        data["items"][8]["components"]["allowance"]["amount"]["by_age"][1]["from_age"] = 92

    error = broken(tmp_path, gap)
    assert error.field == "items.8.components.allowance.amount.by_age.1.from_age"
    assert "91–91" in error.problem


def test_age_bands_out_of_order(tmp_path: Path) -> None:
    def swap(data: dict[str, Any]) -> None:
        bands = data["items"][8]["components"]["allowance"]["amount"]["by_age"]
        bands[0], bands[1] = bands[1], bands[0]

    error = broken(tmp_path, swap)
    assert error.field.startswith("items.8.components.allowance.amount.by_age.")
    assert "ascending" in error.problem


def test_a_parameter_without_amount_needs_a_note(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["parameters"]["minimum_wage"].pop("note"))
    assert error.field == "parameters.minimum_wage"
    assert "note" in error.problem


def test_a_parameter_with_amount_needs_a_source(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["parameters"]["minimum_wage"].update(amount="2000.00", source=None))
    assert error.field == "parameters.minimum_wage"
    assert "source" in error.problem


def test_an_alternative_naming_a_missing_component(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["alternatives"][0]["options"][1].update(component="nursing"))
    assert error.field == "alternatives.0.options.1.component"


def test_an_alternative_with_an_unknown_setting(tmp_path: Path) -> None:
    error = broken(tmp_path, lambda d: d["alternatives"][0].update(setting="choose_higher"))
    assert error.field == "alternatives.0.setting"


def test_an_unknown_jurisdiction(tmp_path: Path) -> None:
    data = raw()
    data["jurisdiction"] = "419900"
    path = write(tmp_path, data, "419900-nowhere.yaml")
    with pytest.raises(PackError) as caught:
        load_catalogue(path)
    assert (caught.value.file, caught.value.field) == ("419900-nowhere.yaml", "jurisdiction")


def test_the_file_name_must_match_the_jurisdiction(tmp_path: Path) -> None:
    path = write(tmp_path, raw(), "211100-panjin.yaml")
    with pytest.raises(PackError) as caught:
        load_catalogue(path)
    assert (caught.value.file, caught.value.field) == ("211100-panjin.yaml", "jurisdiction")


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "411700-zhumadian.yaml"
    path.write_text("items: [1, 2\n", encoding="utf-8")
    with pytest.raises(PackError, match="not valid YAML"):
        load_catalogue(path)


def test_two_packs_for_one_jurisdiction(tmp_path: Path) -> None:
    """Two files of one city are two versions: the same version number twice stops the start."""
    write(tmp_path, raw(), "411700-a.yaml")
    write(tmp_path, raw(), "411700-b.yaml")
    with pytest.raises(PackError) as caught:
        load_catalogues(tmp_path)
    assert (caught.value.file, caught.value.field) == ("411700-b.yaml", "validity.number")
