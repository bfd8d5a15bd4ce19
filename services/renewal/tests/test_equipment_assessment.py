"""Equipment thresholds of 盘政发〔2024〕4号 (tasks 11, 13, 20, 22) at their boundaries: "N年以上"
includes N, the age in completed years; 国三及以下 includes 国三."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from renewal.config import SERVICE_ROOT
from renewal.equipment.service import assess
from renewal.equipment.thresholds import THRESHOLDS_FILE, Thresholds, load_thresholds
from renewal.interpretations import RenewalInterpretations
from renewal.plans.pack import load_plans
from shared.errors import InvalidInput, PackError

PACKS = SERVICE_ROOT / "packs"
D = dt.date


@pytest.fixture(scope="module")
def thresholds() -> Thresholds:
    return load_thresholds(PACKS)


def ask(
    thresholds: Thresholds, kind: str, since: dt.date | None, on: dt.date, standard: int | None = None
) -> dict[str, object]:
    return assess(thresholds=thresholds, kind=kind, in_service_since=since, on=on, emission_standard=standard)


def test_the_contract_example(thresholds: Thresholds) -> None:
    answer = ask(thresholds, "tractor", D(2008, 5, 1), D(2024, 6, 1))
    assert (answer["renew"], answer["task"], answer["age_years"]) == (True, 22, 16)
    assert "15 years or more" in str(answer["reason"])
    assert answer["plan"] == "panjin-2024-equipment-renewal"
    assert str(answer["citation"]).startswith("盘政发〔2024〕4号 二（三）22")


@pytest.mark.parametrize(
    ("kind", "years", "task"),
    [
        ("tractor", 15, 22),
        ("combine_harvester", 12, 22),
        ("mounted_combine_harvester", 10, 22),
        ("water_supply_cast_iron_pipe", 30, 11),
        ("water_supply_steel_pipe", 30, 11),
    ],
)
def test_age_thresholds_at_their_boundary(thresholds: Thresholds, kind: str, years: int, task: int) -> None:
    on = D(2024, 6, 1)
    exactly = ask(thresholds, kind, D(2024 - years, 6, 1), on)
    assert (exactly["renew"], exactly["age_years"], exactly["task"]) == (True, years, task)  # 以上 includes N
    short = ask(thresholds, kind, D(2024 - years, 6, 2), on)  # one day short
    assert (short["renew"], short["age_years"]) == (False, years - 1)
    assert f"due at {years} years" in str(short["reason"])
    older = ask(thresholds, kind, D(2024 - years - 5, 1, 1), on)
    assert older["renew"] is True


def test_age_counts_completed_years_across_a_leap_day(thresholds: Thresholds) -> None:
    since = D(2008, 2, 29)
    assert ask(thresholds, "tractor", since, D(2023, 2, 28))["renew"] is False  # 14 years and 364 days
    assert ask(thresholds, "tractor", since, D(2023, 3, 1))["renew"] is True


@pytest.mark.parametrize(
    ("standard", "renew"), [(1, True), (2, True), (3, True), (4, False), (5, False), (6, False)]
)
def test_diesel_trucks_of_guo_san_and_below(thresholds: Thresholds, standard: int, renew: bool) -> None:
    answer = ask(thresholds, "diesel_truck", None, D(2024, 6, 1), standard)
    assert (answer["renew"], answer["task"]) == (renew, 20)
    assert "国三及以下" in str(answer["reason"])


def test_every_grey_cast_iron_gas_pipe(thresholds: Thresholds) -> None:
    answer = ask(thresholds, "grey_cast_iron_gas_pipe", None, D(2024, 6, 1))
    assert (answer["renew"], answer["task"]) == (True, 13)


def test_an_unknown_kind_lists_the_known_ones(thresholds: Thresholds) -> None:
    with pytest.raises(InvalidInput) as caught:
        ask(thresholds, "bulldozer", D(2000, 1, 1), D(2024, 6, 1))
    assert caught.value.errors == [
        {
            "field": "body.kind",
            "message": "unknown kind 'bulldozer'; known kinds: tractor, combine_harvester, "
            "mounted_combine_harvester, diesel_truck, water_supply_cast_iron_pipe, water_supply_steel_pipe, "
            "grey_cast_iron_gas_pipe",
        }
    ]


def test_missing_or_impossible_inputs_name_their_field(thresholds: Thresholds) -> None:
    with pytest.raises(InvalidInput) as missing_standard:
        ask(thresholds, "diesel_truck", None, D(2024, 6, 1))
    assert missing_standard.value.errors is not None
    assert missing_standard.value.errors[0]["field"] == "body.emission_standard"
    with pytest.raises(InvalidInput) as bad_standard:
        ask(thresholds, "diesel_truck", None, D(2024, 6, 1), 7)
    assert bad_standard.value.errors is not None
    assert bad_standard.value.errors[0]["field"] == "body.emission_standard"
    with pytest.raises(InvalidInput) as missing_date:
        ask(thresholds, "tractor", None, D(2024, 6, 1))
    assert missing_date.value.errors is not None
    assert missing_date.value.errors[0]["field"] == "body.in_service_since"
    with pytest.raises(InvalidInput) as future:
        ask(thresholds, "tractor", D(2024, 6, 2), D(2024, 6, 1))
    assert future.value.errors is not None
    assert future.value.errors[0]["field"] == "body.in_service_since"


def test_the_kinds_in_the_file_order(thresholds: Thresholds) -> None:
    assert ask(thresholds, "combine_harvester", D(2012, 6, 1), D(2024, 6, 1))["renew"] is True
    assert thresholds.kinds[:4] == [
        "tractor",
        "combine_harvester",
        "mounted_combine_harvester",
        "diesel_truck",
    ]


def test_each_threshold_is_what_its_task_says(thresholds: Thresholds) -> None:
    plan = load_plans(PACKS)[thresholds.plan]
    for kind, rule in thresholds.equipment.items():
        task = plan.task(rule.task)
        assert task is not None, kind
        quoted = rule.citation.split("：", 1)[1]
        assert quoted in task.text, kind
        assert rule.citation.startswith(f"{plan.spec.document} {task.citation.split(' ', 1)[1]}"), kind
        if hasattr(rule, "min_age_years"):
            assert f"{rule.min_age_years}年以上" in quoted
    assert "国三及以下" in thresholds.equipment["diesel_truck"].citation


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("    min_age_years: 15\n", "", "equipment.tractor.age.min_age_years", "Field required"),
        (
            "    rule: emission_standard\n",
            "    rule: euro\n",
            "equipment.diesel_truck",
            "does not match any of the expected tags",
        ),
        (
            "    max_emission_standard: 3\n",
            "    max_emission_standard: 7\n",
            "equipment.diesel_truck.emission_standard.max_emission_standard",
            "less than or equal to 6",
        ),
        (
            "    action: 报废\n",
            "    action: 报废\n    years: 15\n",
            "equipment.tractor.age.years",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_a_broken_thresholds_file_fails(tmp_path: Path, old: str, new: str, field: str, problem: str) -> None:
    for path in PACKS.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / THRESHOLDS_FILE
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_thresholds(tmp_path)
    assert (caught.value.file, caught.value.field) == (THRESHOLDS_FILE, field)
    assert problem in caught.value.problem


# 盘政发〔2024〕4号 二（三）22: "加快15年以上的老旧拖拉机、12年以上的联合收割机、10年以上的悬挂式联合收割机等
# 技术状况差、维修成本高的农业机械报废". Whether the age alone suffices is an Interpretation
# (farm_machinery_age_alone_suffices, default true: the spec's 2008 tractor → renew).
OLD_TRACTOR = (D(2008, 5, 1), D(2024, 6, 1))  # 16 full years


@pytest.mark.parametrize(
    ("age_alone", "poor", "costly", "renew", "held", "given", "assumed", "applied"),
    [
        # nothing said of the machine: the setting decides
        (True, None, None, True, [True, True, True], [True, False, False], [False, True, True], True),
        (False, None, None, False, [True, None, None], [True, False, False], [False, False, False], True),
        # both given and true: due whatever the setting
        (True, True, True, True, [True, True, True], [True, True, True], [False, False, False], False),
        (False, True, True, True, [True, True, True], [True, True, True], [False, False, False], False),
        # one given and false: not due whatever the setting
        (True, False, None, False, [True, False, True], [True, True, False], [False, False, True], True),
        (True, True, False, False, [True, True, False], [True, True, True], [False, False, False], False),
        (False, False, False, False, [True, False, False], [True, True, True], [False, False, False], False),
        # one given true, the other not given
        (False, True, None, False, [True, True, None], [True, True, False], [False, False, False], True),
    ],
)
def test_task_22_asks_for_the_machine_condition_too(
    thresholds: Thresholds,
    age_alone: bool,
    poor: bool | None,
    costly: bool | None,
    renew: bool,
    held: list[bool | None],
    given: list[bool],
    assumed: list[bool],
    applied: bool,
) -> None:
    answer = assess(
        thresholds=thresholds,
        kind="tractor",
        in_service_since=OLD_TRACTOR[0],
        on=OLD_TRACTOR[1],
        emission_standard=None,
        facts={"poor_technical_condition": poor, "high_maintenance_cost": costly},
        interpretations=RenewalInterpretations(farm_machinery_age_alone_suffices=age_alone),
    )
    assert answer["renew"] is renew
    conditions = answer["conditions"]
    assert isinstance(conditions, list)
    assert [c.condition for c in conditions] == ["age", "poor_technical_condition", "high_maintenance_cost"]
    assert [c.text for c in conditions] == ["15年以上", "技术状况差", "维修成本高"]
    assert ([c.held for c in conditions], [c.given for c in conditions], [c.assumed for c in conditions]) == (
        held,
        given,
        assumed,
    )
    interpretations = answer["interpretations"]
    assert isinstance(interpretations, list)
    named = [(i.name, i.value) for i in interpretations]
    assert named == ([("farm_machinery_age_alone_suffices", age_alone)] if applied else [])
    if applied:
        assert f"farm_machinery_age_alone_suffices={str(age_alone).lower()}" in str(answer["reason"])


def test_a_young_machine_is_not_due_whatever_its_condition(thresholds: Thresholds) -> None:
    answer = assess(
        thresholds=thresholds,
        kind="combine_harvester",
        in_service_since=D(2020, 1, 1),
        on=D(2024, 6, 1),
        emission_standard=None,
        facts={"poor_technical_condition": True, "high_maintenance_cost": True},
    )
    assert answer["renew"] is False
    assert "due at 12 years" in str(answer["reason"])


@pytest.mark.parametrize("kind", ["diesel_truck", "water_supply_steel_pipe", "grey_cast_iron_gas_pipe"])
def test_a_condition_another_task_does_not_set_is_refused(thresholds: Thresholds, kind: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        assess(
            thresholds=thresholds,
            kind=kind,
            in_service_since=D(1990, 1, 1),
            on=D(2024, 6, 1),
            emission_standard=3,
            facts={"high_maintenance_cost": True},
        )
    assert caught.value.errors is not None
    assert caught.value.errors[0]["field"] == "body.high_maintenance_cost"
