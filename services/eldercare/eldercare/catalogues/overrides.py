"""County catalogues (县区清单): the city catalogue plus overrides that may only raise.

驻政办〔2023〕35号 二（一）1: each county publishes its own list, which 「应包含《清单》中的服务
项目，覆盖范围和实现程度不得低于《清单》要求」. So a county catalogue is the city
catalogue with :class:`CatalogueOverrides` that may

- raise an amount (a fixed minimum, a parameter of kind ``standard``, each age band, the
  dibao multiple, the minimum-wage fraction, each care level), or give an amount where the
  city leaves it to the county (items 16, 19);
- widen eligibility: the county condition must accept everyone the city condition accepts.
  This is shown structurally (:func:`implies`): a county may lower an age or level
  threshold, add values to an ``in`` list, add ``any`` alternatives or drop ``all``
  conditions; anything the check cannot show to be wider is refused;
- add items of its own (``extra_items``), and give local figures (the minimum wage).

It may never drop an item, lower a standard or narrow eligibility: :func:`check_overrides`
raises InvalidInput whose errors name the item, e.g. ``items.8.components.allowance.amount``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError, model_validator

from eldercare.catalogues.pack import (
    VALUED_FACTS,
    AgeAtLeast,
    AgeBand,
    AllOf,
    AmountRule,
    AnyOf,
    AtLeast,
    Catalogue,
    CatalogueItem,
    Component,
    Condition,
    ConditionField,
    CountyAmendment,
    Equals,
    Fact,
    Identifier,
    Not,
    OneOf,
    PackModel,
    Parameter,
    Period,
    catalogue_problems,
    keyed_by,
)
from eldercare.interpretations import EldercareInterpretations
from shared.errors import InvalidInput
from shared.jurisdictions import registry
from shared.money import NonNegativeMoney, money_str

RULE_CITATION = "驻政办〔2023〕35号 二（一）1"

Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class ParameterOverride(PackModel):
    amount: NonNegativeMoney
    source: Text


class ComponentOverride(PackModel):
    amount: AmountRule | None = None
    period: Period | None = None
    """Needed only where the city component has no period (an amount the county sets)."""
    eligibility: ConditionField | None = None
    note: str | None = None


class ItemOverride(PackModel):
    removed: bool = False
    """Always refused: a county list must contain every city item."""
    eligibility: ConditionField | None = None
    extensions: list[Identifier] = Field(default_factory=list)
    """Extensions of the city item the county adopts (item 12: ``dibao_members``)."""
    components: dict[Identifier, ComponentOverride] = Field(default_factory=dict)
    note: str | None = None


class CatalogueOverrides(PackModel):
    """What a county changes in the city catalogue; keyed by item number."""

    jurisdiction: str
    version: Text
    document: Text
    """The county's own list (文件名称/文号) the overrides come from."""
    name: str | None = None
    effective_from: dt.date | None = None
    parameters: dict[Identifier, ParameterOverride] = Field(default_factory=dict)
    items: dict[Annotated[int, Field(ge=1)], ItemOverride] = Field(default_factory=dict)
    extra_items: dict[Annotated[int, Field(ge=1)], CatalogueItem] = Field(default_factory=dict)
    """A county's own items, keyed by a number after the city's."""

    @model_validator(mode="before")
    @classmethod
    def _extra_item_numbers(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "extra_items" in data:
            return {**data, "extra_items": keyed_by(data["extra_items"], "number")}
        return data


def parse_overrides(data: Mapping[str, Any], *, location: str = "body") -> CatalogueOverrides:
    """Validate override data; every problem becomes an InvalidInput error naming its field."""
    try:
        return CatalogueOverrides.model_validate(data)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            errors.append({"field": _at(location, where), "message": error["msg"]})
        raise _invalid(errors) from exc


# --- widening: does one condition imply another? --------------------------------------------


def implies(narrower: Condition, wider: Condition, interpretations: EldercareInterpretations) -> bool:
    """True when everyone ``narrower`` accepts is shown to be accepted by ``wider``.

    Sound but not complete: a False may mean "not shown", and is then treated as narrowing.
    """
    if narrower == wider:
        return True
    if isinstance(narrower, AnyOf):
        return all(implies(part, wider, interpretations) for part in narrower.conditions)
    if isinstance(wider, AllOf):
        return all(implies(narrower, part, interpretations) for part in wider.conditions)
    if isinstance(wider, AnyOf) and any(
        implies(narrower, part, interpretations) for part in wider.conditions
    ):
        return True
    if isinstance(narrower, AllOf):
        if any(implies(part, wider, interpretations) for part in narrower.conditions):
            return True
        # all(x, any(y, z)) ⇒ w when all(x, y) ⇒ w and all(x, z) ⇒ w
        for index, part in enumerate(narrower.conditions):
            if isinstance(part, AnyOf):
                others = narrower.conditions[:index] + narrower.conditions[index + 1 :]
                return all(
                    implies(AllOf((*others, branch)), wider, interpretations) for branch in part.conditions
                )
        return False
    return _leaf_implies(narrower, wider, interpretations)


def _values(condition: Condition) -> tuple[str, frozenset[Any]] | None:
    """The values of one circumstance a leaf condition accepts, where it is a finite set."""
    if isinstance(condition, Equals):
        return condition.field, frozenset({condition.value})
    if isinstance(condition, OneOf):
        return condition.field, condition.values
    if isinstance(condition, AtLeast):
        allowed = VALUED_FACTS[condition.field]
        return condition.field, frozenset(v for v in allowed if int(v) >= condition.value)
    return None


def _leaf_implies(narrower: Condition, wider: Condition, interpretations: EldercareInterpretations) -> bool:
    if isinstance(narrower, Not) and isinstance(wider, Not):
        return implies(wider.condition, narrower.condition, interpretations)
    if isinstance(narrower, Fact) and isinstance(wider, Fact):
        return narrower.name == wider.name
    if isinstance(narrower, AgeAtLeast) and isinstance(wider, AgeAtLeast):
        return _years(narrower.years, interpretations) >= _years(wider.years, interpretations)
    accepted, accepting = _values(narrower), _values(wider)
    if accepted is None or accepting is None or accepted[0] != accepting[0]:
        return False
    return accepted[1] <= accepting[1]


def _years(years: int | str, interpretations: EldercareInterpretations) -> int:
    return years if isinstance(years, int) else interpretations.named_age(years)


# --- raising: is one amount never below another? --------------------------------------------


def _constant(rule: AmountRule, parameters: Mapping[str, Parameter]) -> Decimal | None:
    if rule.fixed is not None:
        return rule.fixed
    if rule.parameter is not None:
        parameter = parameters.get(rule.parameter)
        if parameter is not None and parameter.kind == "standard":
            return parameter.amount
    return None


def _band_amount(bands: list[AgeBand], age: int, upper: bool) -> Decimal | None:
    covering = [band for band in bands if band.covers(age)]
    if not covering:
        return None
    return (covering[-1] if upper else covering[0]).amount


def _ages_to_compare(*band_lists: list[AgeBand]) -> list[int]:
    edges = {0}
    for bands in band_lists:
        for band in bands:
            edges.update({band.from_age - 1, band.from_age, band.from_age + 1})
            if band.to_age_as_written is not None:
                edges.update({band.to_age_as_written, band.to_age_as_written + 1})
    return sorted(age for age in edges if age >= 0)


def amount_not_lower(
    city: AmountRule | None,
    county: AmountRule | None,
    city_parameters: Mapping[str, Parameter],
    county_parameters: Mapping[str, Parameter],
) -> str | None:
    """None when ``county`` is shown never to give less than ``city``; else the problem."""
    if city is None:
        return None  # the city leaves the amount to the county
    if county is None:
        return "removes the amount the city catalogue gives"
    city_constant = _constant(city, city_parameters)
    county_constant = _constant(county, county_parameters)
    if city_constant is not None and county_constant is not None:
        if county_constant < city_constant:
            return f"lowers the amount from {money_str(city_constant)} to {money_str(county_constant)}"
        return None
    if city.by_age is not None:
        return _bands_not_lower(city.by_age, county, county_constant)
    if city.dibao_multiple is not None and county.dibao_multiple is not None:
        if county.dibao_multiple < city.dibao_multiple:
            return f"lowers the dibao multiple from {city.dibao_multiple} to {county.dibao_multiple}"
        return None
    if city.minimum_wage_fraction is not None and county.minimum_wage_fraction is not None:
        if county.fraction < city.fraction:
            return (
                f"lowers the share of the minimum wage from {city.minimum_wage_fraction} to "
                f"{county.minimum_wage_fraction}"
            )
        return None
    if city.by_care_level is not None and county.by_care_level is not None:
        for level in ("full", "semi", "self_care"):
            problem = amount_not_lower(
                getattr(city.by_care_level, level),
                getattr(county.by_care_level, level),
                city_parameters,
                county_parameters,
            )
            if problem:
                return f"care level {level}: {problem}"
        return None
    if city.parameter is not None and county.parameter == city.parameter:
        return None  # the same local figure
    return (
        f"cannot show that a {county.kind} amount is never below the city's {city.kind} "
        "amount; keep the city's kind of amount and raise it"
    )


def _bands_not_lower(
    city_bands: list[AgeBand], county: AmountRule, county_constant: Decimal | None
) -> str | None:
    county_bands = county.by_age
    if county_bands is None and county_constant is None:
        return f"cannot show that a {county.kind} amount is never below the city's age bands"
    ages = _ages_to_compare(city_bands, county_bands or [])
    for upper in (True, False):  # whichever way an age written into two bands is read
        for age in ages:
            city_amount = _band_amount(city_bands, age, upper)
            if city_amount is None:
                continue
            county_amount = (
                county_constant if county_bands is None else _band_amount(county_bands, age, upper)
            )
            if county_amount is None or county_amount < city_amount:
                shown = "nothing" if county_amount is None else money_str(county_amount)
                return f"at age {age} gives {shown}, below the city's {money_str(city_amount)}"
    return None


# --- checking and merging -------------------------------------------------------------------


def _at(location: str | None, field: str) -> str:
    return f"{location}.{field}" if location else field


def _invalid(errors: list[dict[str, str]]) -> InvalidInput:
    detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
    return InvalidInput(detail, errors=errors)


def _override_problems(
    city: Catalogue,
    overrides: CatalogueOverrides,
    interpretations: EldercareInterpretations,
) -> Iterator[tuple[str, str]]:
    if city.based_on is not None:
        yield "jurisdiction", f"{city.jurisdiction} is itself a county catalogue"
    places = registry()
    if overrides.jurisdiction == city.jurisdiction or not places.contains(
        city.jurisdiction, overrides.jurisdiction
    ):
        yield (
            "jurisdiction",
            f"{overrides.jurisdiction} is not a county, district or zone of {city.jurisdiction}",
        )
    county_parameters = _merged_parameters(city, overrides)
    for name, new_value in overrides.parameters.items():
        parameter = city.parameters.get(name)
        if parameter is None:
            yield f"parameters.{name}", f"unknown parameter; known: {', '.join(city.parameters)}"
        elif (
            parameter.kind == "standard"
            and parameter.amount is not None
            and new_value.amount < parameter.amount
        ):
            yield (
                f"parameters.{name}.amount",
                f"lowers {parameter.name} from {money_str(parameter.amount)} to "
                f"{money_str(new_value.amount)} ({RULE_CITATION}: 不得低于《清单》要求)",
            )
    for number, change in overrides.items.items():
        item = city.items.get(number)
        where = f"items.{number}"
        if item is None:
            yield where, f"the city catalogue has no item {number}; add a county item under extra_items"
            continue
        if change.removed:
            yield (
                f"{where}.removed",
                f"drops item {number} {item.name}: a county list must contain every item of "
                f"the city list ({RULE_CITATION}: 县区清单应包含《清单》中的服务项目)",
            )
        for position, key in enumerate(change.extensions):
            if key not in item.extensions:
                known = ", ".join(item.extensions) or "none"
                yield (
                    f"{where}.extensions.{position}",
                    f"item {number} {item.name} has no extension {key!r} (known: {known})",
                )
        if change.eligibility is not None and not implies(
            item.eligibility, change.eligibility, interpretations
        ):
            yield (
                f"{where}.eligibility",
                f"narrows who is eligible for item {number} {item.name}, or cannot be shown "
                "to be wider: a county may lower an age or level threshold, add values to an "
                f"`in` list or add `any` alternatives ({RULE_CITATION}: 覆盖范围不得低于《清单》要求)",
            )
        yield from _component_problems(item, change, city.parameters, county_parameters, interpretations)
    for number in overrides.extra_items:
        if number in city.items:
            yield f"extra_items.{number}", f"item {number} is a city item; change it under items"


def _component_problems(
    item: CatalogueItem,
    change: ItemOverride,
    city_parameters: Mapping[str, Parameter],
    county_parameters: Mapping[str, Parameter],
    interpretations: EldercareInterpretations,
) -> Iterator[tuple[str, str]]:
    for key, part in change.components.items():
        where = f"items.{item.number}.components.{key}"
        component = item.components.get(key)
        if component is None:
            yield where, f"item {item.number} has no component {key!r}; known: {', '.join(item.components)}"
            continue
        if part.amount is not None:
            problem = amount_not_lower(
                component.amount,
                part.amount,
                city_parameters,
                county_parameters,
            )
            if problem:
                yield (
                    f"{where}.amount",
                    f"item {item.number} {item.name}, {component.name}: {problem} "
                    f"({RULE_CITATION}: 实现程度不得低于《清单》要求)",
                )
        if part.period is not None and component.period not in (None, part.period):
            yield f"{where}.period", f"the city gives this amount per {component.period}"
        if part.amount is not None and component.period is None and part.period is None:
            yield f"{where}.period", "an amount the county sets needs a period (month or year)"
        if part.eligibility is not None:
            wider = component.eligibility is not None and implies(
                component.eligibility, part.eligibility, interpretations
            )
            if not wider:
                yield (
                    f"{where}.eligibility",
                    f"narrows who gets {component.name} (item {item.number}), or cannot be "
                    f"shown to be wider ({RULE_CITATION}: 覆盖范围不得低于《清单》要求)",
                )


def _merged_parameters(city: Catalogue, overrides: CatalogueOverrides) -> dict[str, Parameter]:
    merged = dict(city.parameters)
    for name, change in overrides.parameters.items():
        if name in merged:
            merged[name] = merged[name].model_copy(update={"amount": change.amount, "source": change.source})
    return merged


def check_overrides(
    city: Catalogue,
    overrides: CatalogueOverrides,
    interpretations: EldercareInterpretations | None = None,
    *,
    location: str | None = None,
) -> None:
    """Refuse overrides that drop an item, lower a standard or narrow eligibility.

    Raises InvalidInput listing every problem, each naming its field (``items.8.components.
    allowance.amount``, ``items.5.removed``, ``parameters.…``), prefixed by ``location``.
    """
    settings = interpretations or EldercareInterpretations()
    errors = [
        {"field": _at(location, field), "message": message}
        for field, message in _override_problems(city, overrides, settings)
    ]
    if errors:
        raise _invalid(errors)


def merge(
    city: Catalogue,
    overrides: CatalogueOverrides,
    interpretations: EldercareInterpretations | None = None,
    *,
    location: str | None = None,
) -> Catalogue:
    """The county catalogue: ``city`` with ``overrides`` applied, after :func:`check_overrides`."""
    check_overrides(city, overrides, interpretations, location=location)
    items: dict[int, CatalogueItem] = {}
    for number, item in city.items.items():
        change = overrides.items.get(number)
        items[number] = item if change is None else _apply(item, change, overrides)
    items.update(overrides.extra_items)
    place = registry().get(overrides.jurisdiction)
    merged = Catalogue(
        jurisdiction=overrides.jurisdiction,
        name=overrides.name or f"{place.name if place else overrides.jurisdiction}基本养老服务清单",
        version=f"{city.version}+{overrides.version}",
        effective_from=overrides.effective_from or city.effective_from,
        source=city.source,
        based_on=city.jurisdiction,
        parameters=_merged_parameters(city, overrides),
        alternatives=city.alternatives,
        items=dict(sorted(items.items())),
    )
    problems = catalogue_problems(merged)
    if problems:
        raise _invalid([{"field": _at(location, field), "message": m} for field, m in problems])
    return merged


def _apply(item: CatalogueItem, change: ItemOverride, overrides: CatalogueOverrides) -> CatalogueItem:
    changes: list[str] = []
    update: dict[str, Any] = {}
    if change.eligibility is not None:
        update["eligibility"] = change.eligibility
        changes.append("eligibility")
    adopted = [item.extensions[key] for key in dict.fromkeys(change.extensions) if key in item.extensions]
    if adopted:
        base = update.get("eligibility", item.eligibility)
        update["eligibility"] = AnyOf((base, *(extension.eligibility for extension in adopted)))
        changes.extend(f"extensions.{extension.key}" for extension in adopted)
    if change.components:
        components: dict[str, Component] = dict(item.components)
        for key, part in change.components.items():
            fields: dict[str, Any] = {}
            if part.amount is not None:
                fields["amount"] = part.amount
                changes.append(f"components.{key}.amount")
            if part.period is not None:
                fields["period"] = part.period
            if part.eligibility is not None:
                fields["eligibility"] = part.eligibility
                changes.append(f"components.{key}.eligibility")
            if part.note is not None:
                fields["note"] = part.note
            components[key] = components[key].model_copy(update=fields)
        update["components"] = components
    update["amended_by"] = CountyAmendment(
        jurisdiction=overrides.jurisdiction,
        document=overrides.document,
        changes=tuple(changes),
        note=change.note,
    )
    return item.model_copy(update=update)
