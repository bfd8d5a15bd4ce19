"""A jurisdiction's service catalogue (基本养老服务清单) as data: one YAML pack per city.

The pack ``packs/411700-zhumadian.yaml`` holds the 25 items of the annex to
驻政办〔2023〕35号: for each item who is eligible (a small declarative rule language,
below), what is given, the standard with its amounts as minimums (「不低于」), who pays
(支出责任), the lead department (牵头部门) and the citation with the annex text. A third
city needs only a new pack file. :func:`load_catalogue` checks a pack and raises
:class:`shared.errors.PackError` naming the file, the field and the problem.

Eligibility conditions are single-key mappings::

    {all: [c, ...]}   {any: [c, ...]}   {not: c}
    {fact: dibao}                               a yes/no circumstance of the person is true
    {age_at_least: 80}                          age in completed years (周岁) ≥ 80
    {age_at_least: elderly_age}                 … ≥ the Interpretation setting of that name
    {equals: {tekun: dispersed}}                a circumstance has this value
    {in: {living_arrangement: [alone, empty_nest]}}   … has one of these values
    {at_least: {ability_level: 1}}              a numbered circumstance is given and ≥ 1

Amounts (``amount`` of a component) are single-key mappings too::

    {fixed: "60.00"}                    {parameter: severe_disability_nursing_subsidy}
    {by_age: [{from_age: 80, to_age_as_written: 90, amount: "60.00"}, ...]}
    {dibao_multiple: "1.3"}             {minimum_wage_fraction: "1/3"}
    {by_care_level: {full: <amount>, semi: <amount>, self_care: <amount>}}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    StringConstraints,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

from eldercare.catalogues.history import CatalogueHistory, Stated, VersionCollision
from eldercare.evaluations.profile import (
    PROFILE_FIELDS,
    FamilyPlanningSpecial,
    LivingArrangement,
    PensionScheme,
    Sex,
    Tekun,
)
from eldercare.interpretations import AGE_SETTINGS, CHOICE_SETTINGS
from shared.errors import PackError
from shared.jurisdictions import registry
from shared.money import NonNegativeMoney
from shared.packs import load_pack_folder, parse_pack

# --- the condition language ---------------------------------------------------------------

BOOLEAN_FACTS: frozenset[str] = frozenset(
    name for name, info in PROFILE_FIELDS.items() if info.annotation is bool
)
"""Yes/no circumstances a ``{fact: …}`` condition may name (the profile's bool fields)."""

VALUED_FACTS: dict[str, frozenset[str | int]] = {
    "sex": frozenset(get_args(Sex)),
    "pension_scheme": frozenset(get_args(PensionScheme)),
    "tekun": frozenset(get_args(Tekun)),
    "living_arrangement": frozenset(get_args(LivingArrangement)),
    "family_planning_special": frozenset(get_args(FamilyPlanningSpecial)),
    "ability_level": frozenset(range(5)),
    "disability_grade": frozenset(range(1, 5)),
    "usual_resident": frozenset({True, False}),
}
"""Circumstances with a value that ``equals`` / ``in`` may test, with the values they take."""

YES_NO_UNKNOWN_FACTS: frozenset[str] = frozenset({"usual_resident"})
"""Circumstances that are true, false or unknown (null): ``{not: {equals: {usual_resident:
false}}}`` holds unless the circumstance is known to be false."""

ORDERED_FACTS: frozenset[str] = frozenset({"ability_level", "disability_grade"})
"""Numbered circumstances an ``at_least`` condition may compare."""

MAX_AGE = 150


@dataclass(frozen=True, slots=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    condition: Condition


@dataclass(frozen=True, slots=True)
class Fact:
    name: str


@dataclass(frozen=True, slots=True)
class AgeAtLeast:
    years: int | str
    """A number of years, or the name of an Interpretation age setting."""


@dataclass(frozen=True, slots=True)
class Equals:
    field: str
    value: str | int


@dataclass(frozen=True, slots=True)
class OneOf:
    field: str
    values: frozenset[str | int]


@dataclass(frozen=True, slots=True)
class AtLeast:
    field: str
    value: int


Condition = AllOf | AnyOf | Not | Fact | AgeAtLeast | Equals | OneOf | AtLeast
CONDITION_TYPES = (AllOf, AnyOf, Not, Fact, AgeAtLeast, Equals, OneOf, AtLeast)
OPERATORS = ("all", "any", "not", "fact", "age_at_least", "equals", "in", "at_least")


class ConditionError(ValueError):
    """A condition that is not well formed; ``where`` is its path inside the condition."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


def _join(where: str, part: str | int) -> str:
    return f"{where}.{part}" if where else str(part)


def _one_entry(value: Any, where: str, what: str) -> tuple[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ConditionError(where, f"must be a mapping with exactly one {what}")
    ((key, inner),) = value.items()
    return str(key), inner


def _check_value(field: str, value: Any, where: str) -> str | int:
    allowed = VALUED_FACTS[field]
    if field in YES_NO_UNKNOWN_FACTS:
        if not isinstance(value, bool):
            raise ConditionError(where, f"{value!r} is not a value of {field} (one of: false, true)")
        return value
    if isinstance(value, bool) or value not in allowed:
        shown = ", ".join(str(v) for v in sorted(allowed, key=str))
        raise ConditionError(where, f"{value!r} is not a value of {field} (one of: {shown})")
    return value  # type: ignore[no-any-return]


def _valued_field(field: str, where: str) -> str:
    if field not in VALUED_FACTS:
        raise ConditionError(
            where, f"unknown circumstance {field!r}; one of: {', '.join(sorted(VALUED_FACTS))}"
        )
    return field


def parse_condition(data: Any, where: str = "") -> Condition:
    """Read a condition written as data; ConditionError names the path of a bad part."""
    if isinstance(data, CONDITION_TYPES):
        return data
    operator, argument = _one_entry(data, where, "operator (" + ", ".join(OPERATORS) + ")")
    here = _join(where, operator)
    if operator in ("all", "any"):
        if not isinstance(argument, list) or not argument:
            raise ConditionError(here, "must be a non-empty list of conditions")
        parts = tuple(parse_condition(item, _join(here, i)) for i, item in enumerate(argument))
        return AllOf(parts) if operator == "all" else AnyOf(parts)
    if operator == "not":
        return Not(parse_condition(argument, here))
    if operator == "fact":
        if argument not in BOOLEAN_FACTS:
            raise ConditionError(
                here, f"unknown fact {argument!r}; one of: {', '.join(sorted(BOOLEAN_FACTS))}"
            )
        return Fact(argument)
    if operator == "age_at_least":
        if isinstance(argument, str):
            if argument not in AGE_SETTINGS:
                raise ConditionError(
                    here, f"unknown age setting {argument!r}; one of: {', '.join(AGE_SETTINGS)}"
                )
            return AgeAtLeast(argument)
        if isinstance(argument, bool) or not isinstance(argument, int):
            raise ConditionError(here, "must be a whole number of years or an age setting")
        if not 0 <= argument <= MAX_AGE:
            raise ConditionError(here, f"must be between 0 and {MAX_AGE}")
        return AgeAtLeast(argument)
    if operator == "equals":
        field, value = _one_entry(argument, here, "circumstance")
        _valued_field(field, here)
        return Equals(field, _check_value(field, value, _join(here, field)))
    if operator == "in":
        field, values = _one_entry(argument, here, "circumstance")
        _valued_field(field, here)
        if not isinstance(values, list) or not values:
            raise ConditionError(_join(here, field), "must be a non-empty list of values")
        checked = frozenset(
            _check_value(field, value, _join(_join(here, field), i)) for i, value in enumerate(values)
        )
        return OneOf(field, checked)
    if operator == "at_least":
        field, value = _one_entry(argument, here, "circumstance")
        if field not in ORDERED_FACTS:
            raise ConditionError(
                here, f"{field!r} cannot be compared; one of: {', '.join(sorted(ORDERED_FACTS))}"
            )
        return AtLeast(field, int(_check_value(field, value, _join(here, field))))
    raise ConditionError(where, f"unknown operator {operator!r}; one of: {', '.join(OPERATORS)}")


def dump_condition(condition: Condition) -> dict[str, Any]:
    """The condition as data, in the form :func:`parse_condition` reads."""
    match condition:
        case AllOf(parts):
            return {"all": [dump_condition(part) for part in parts]}
        case AnyOf(parts):
            return {"any": [dump_condition(part) for part in parts]}
        case Not(inner):
            return {"not": dump_condition(inner)}
        case Fact(name):
            return {"fact": name}
        case AgeAtLeast(years):
            return {"age_at_least": years}
        case Equals(field, value):
            return {"equals": {field: value}}
        case OneOf(field, values):
            return {"in": {field: sorted(values, key=str)}}
        case AtLeast(field, value):
            return {"at_least": {field: value}}
    raise TypeError(condition)  # pragma: no cover - the union is exhaustive


def _validate_condition(value: Any) -> Condition:
    try:
        return parse_condition(value)
    except ConditionError as exc:
        raise ValueError(str(exc)) from None


ConditionField = Annotated[
    Condition,
    PlainValidator(_validate_condition),
    PlainSerializer(dump_condition, return_type=dict),
    WithJsonSchema(
        {
            "type": "object",
            "description": "A condition: one of " + ", ".join(OPERATORS),
            "examples": [{"all": [{"fact": "dibao"}, {"age_at_least": 80}]}],
        }
    ),
]


# --- amounts --------------------------------------------------------------------------------

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Period = Literal["month", "year"]
ServiceType = Literal["物质帮助", "照护服务", "关爱服务"]
# ASCII digits, whole text (fullmatch): \d takes any Unicode digit and $ a final newline
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")
_FRACTION = re.compile(r"([0-9]{1,6})/([0-9]{1,6})")


def _decimal_text(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise ValueError('must be a number written as a string, such as "1.3"')
    return Decimal(value)


def _fraction_text(value: Any) -> str:
    if not isinstance(value, str) or not (match := _FRACTION.fullmatch(value)):
        raise ValueError('must be a fraction written as a string, such as "1/3"')
    if int(match.group(2)) == 0:
        raise ValueError("the denominator must not be 0")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


Multiplier = Annotated[Decimal, BeforeValidator(_decimal_text), AfterValidator(_positive)]
FractionText = Annotated[str, BeforeValidator(_fraction_text)]
Age = Annotated[int, Field(ge=0, le=MAX_AGE)]


class PackModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgeBand(PackModel):
    """One band of an age-banded amount, with the upper age as the source writes it."""

    from_age: Age
    to_age_as_written: Age | None
    amount: NonNegativeMoney

    def covers(self, age: int) -> bool:
        return self.from_age <= age and (self.to_age_as_written is None or age <= self.to_age_as_written)


class CareLevelAmounts(PackModel):
    """Item 13's 照料护理标准 by care level: 全护理, 半护理, 全自理."""

    full: AmountRule
    semi: AmountRule
    self_care: AmountRule


AMOUNT_KINDS = (
    "fixed",
    "parameter",
    "by_age",
    "dibao_multiple",
    "minimum_wage_fraction",
    "by_care_level",
)


class AmountRule(PackModel):
    """How a component's amount is found: exactly one of the fields is given."""

    fixed: NonNegativeMoney | None = None
    parameter: Identifier | None = None
    by_age: list[AgeBand] | None = Field(default=None, min_length=1)
    dibao_multiple: Multiplier | None = None
    minimum_wage_fraction: FractionText | None = None
    by_care_level: CareLevelAmounts | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AmountRule:
        given = [kind for kind in AMOUNT_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of: {', '.join(AMOUNT_KINDS)} (given: {given})")
        return self

    @model_serializer(mode="wrap")
    def _only_the_given_kind(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        return {key: value for key, value in data.items() if value is not None}

    @property
    def kind(self) -> str:
        return next(kind for kind in AMOUNT_KINDS if getattr(self, kind) is not None)

    @property
    def fraction(self) -> Fraction:
        assert self.minimum_wage_fraction is not None
        return Fraction(self.minimum_wage_fraction)


CareLevelAmounts.model_rebuild()


class Component(PackModel):
    """A part of what an item gives: most items have one; item 13 has two (basic living and
    care), item 18 two (living subsidy and nursing subsidy)."""

    key: Identifier
    name: str
    eligibility: ConditionField | None = None
    """Who gets this component among those eligible for the item; null: all of them."""
    amount: AmountRule | None = None
    """Null: a service, or money whose amount another rule sets (see ``note``)."""
    period: Period | None = None
    minimum: bool = True
    """The amount is a minimum (「不低于」) that a county may raise."""
    note: str | None = None

    @model_validator(mode="after")
    def _period_with_amount(self) -> Component:
        if self.amount is not None and self.period is None:
            raise ValueError("a component with an amount needs a period (month or year)")
        return self


class Citation(PackModel):
    """Where an item comes from: the document, the annex item, and the text itself."""

    document: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    item: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    excerpt: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    note: str | None = None


class CountyAmendment(PackModel):
    """How a county catalogue changed a city item (set by :func:`~.rules.merge`)."""

    jurisdiction: str
    document: str
    changes: tuple[str, ...]
    note: str | None = None


def keyed_by(value: Any, key_name: str) -> Any:
    """Entries of a mapping keyed by number / key get that key as a field too."""
    if not isinstance(value, Mapping):
        return value
    result: dict[Any, Any] = {}
    for key, entry in value.items():
        if isinstance(entry, Mapping) and key_name not in entry:
            entry = {key_name: key, **entry}
        result[key] = entry
    return result


class Extension(PackModel):
    """A wider group the source lets a county add in its own list (「有条件的地方可…扩大到…」):
    not part of the city list; a county adopts it by key in its overrides."""

    key: Identifier
    name: str
    eligibility: ConditionField
    """Who the extension adds (the item's eligibility becomes ``any`` of the two)."""
    text: str
    """The sentence of the source that allows it."""
    citation: Citation


class UnknownFact(PackModel):
    """A condition of the source that the person's facts may leave unknown: the item is given,
    and the answer says that the condition was not checked."""

    note: str
    citation: Citation


class CatalogueItem(PackModel):
    """One item (服务项目) of the catalogue."""

    number: Annotated[int, Field(ge=1)]
    name: str
    service_type: ServiceType
    target: str
    """服务对象 as the annex writes it."""
    eligibility: ConditionField
    priority: ConditionField | None = None
    """现阶段重点保障: those served first among the eligible (item 12)."""
    content: str
    """服务内容."""
    standard: str | None
    """服务标准 as written; null where the annex row has no such cell."""
    components: dict[Identifier, Component] = Field(min_length=1)
    combine: Literal["all_matching", "first_matching"] = "all_matching"
    """Whether every matching component is given, or only the first that matches."""
    funding: str | None
    """支出责任; null where the annex row has no such cell."""
    lead_department: str
    """牵头部门."""
    citation: Citation
    extensions: dict[Identifier, Extension] = Field(default_factory=dict)
    """Wider groups a county may adopt (item 12: 低保对象中的失能、高龄、残疾老年人家庭)."""
    unknown_facts: dict[Identifier, UnknownFact] = Field(default_factory=dict)
    """Yes/no/unknown circumstances the eligibility reads, with the note an answer gives when the
    person's value is unknown (item 6: 常住居民)."""
    amended_by: CountyAmendment | None = None

    @model_validator(mode="before")
    @classmethod
    def _component_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "components" in data:
            data = {**data, "components": keyed_by(data["components"], "key")}
        if isinstance(data, Mapping) and "extensions" in data:
            data = {**data, "extensions": keyed_by(data["extensions"], "key")}
        return data

    @cached_property
    def monthly_allowance(self) -> bool:
        """Pays a monthly amount, so an age it depends on counts by the allowance rule."""
        return any(
            component.amount is not None and component.period == "month"
            for component in self.components.values()
        )


class Parameter(PackModel):
    """A named figure that amounts refer to, with where it comes from."""

    name: str
    amount: NonNegativeMoney | None
    period: Period | None = None
    kind: Literal["standard", "local_figure"]
    """``standard``: set by the catalogue, a county may only raise it; ``local_figure``: a
    fact of the place (the minimum wage), a county gives its own with its source."""
    source: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _explained(self) -> Parameter:
        if self.amount is None and not self.note:
            raise ValueError("a parameter without an amount needs a note saying why")
        if self.amount is not None and not self.source:
            raise ValueError("a parameter with an amount needs its source")
        return self


class AlternativeOption(PackModel):
    choice: Identifier
    item: Annotated[int, Field(ge=1)]
    component: Identifier


class Alternative(PackModel):
    """Two components a person may not receive together (择高申领)."""

    key: Identifier
    name: str
    setting: str
    """The Interpretation setting that chooses (``nursing_subsidy_choice``)."""
    options: list[AlternativeOption] = Field(min_length=2, max_length=2)
    text: str
    citation: Citation


class SourceDocument(PackModel):
    document: str
    title: str
    issued_on: dt.date
    annex: str


class CountyListDeadline(PackModel):
    """By when each county publishes its own list (驻政办〔2023〕35号 二（一）1: 「2023年12月底前，
    各县区政府（管委会）应当…制定发布本地清单」)."""

    due_by: dt.date
    """The last day a county list may be published on time."""
    text: str
    citation: Citation


class AdmissionGroup(PackModel):
    """One rank of the admission order of public care homes."""

    rank: Annotated[int, Field(ge=1)]
    key: Identifier
    name: str
    eligibility: ConditionField
    note: str | None = None


class AdmissionPriority(PackModel):
    """The order in which public care homes admit (公办养老机构入住排序): rank 1 first. The
    evaluation gives each person of ``items`` the first rank whose condition holds."""

    items: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    groups: list[AdmissionGroup] = Field(min_length=1)
    text: str
    citation: Citation


class CatalogueCorrection(PackModel):
    """A version that corrects recorded versions: which, why, and the document that decided it."""

    versions: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    reason: Annotated[str, StringConstraints(min_length=1)]
    document_reference: Annotated[str, StringConstraints(min_length=1)]


class Validity(PackModel):
    """Which version of the city's catalogue this file is, and the days it is valid (both
    included; ``valid_to: null`` until a later version supersedes it). ``text`` quotes the
    sentence that puts the document in force. A pack without it is version 1, valid from its
    ``effective_from``, open-ended."""

    number: Annotated[int, Field(ge=1)]
    valid_from: dt.date
    valid_to: dt.date | None
    text: str
    citation: Citation
    note: str | None = None
    correction: CatalogueCorrection | None = None


class Catalogue(PackModel):
    """A jurisdiction's catalogue: the city's pack, or a city pack merged with overrides."""

    jurisdiction: str
    name: str
    version: str
    effective_from: dt.date
    validity: Validity | None = None
    """The city catalogue's place among its versions (the rule for dated data)."""
    source: SourceDocument
    based_on: str | None = None
    """For a county catalogue: the city catalogue it extends."""
    parameters: dict[Identifier, Parameter]
    alternatives: list[Alternative] = Field(default_factory=list)
    county_list_deadline: CountyListDeadline | None = None
    admission_priority: AdmissionPriority | None = None
    items: dict[Annotated[int, Field(ge=1)], CatalogueItem] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _item_numbers(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "items" in data:
            return {**data, "items": keyed_by(data["items"], "number")}
        return data

    def item(self, number: int) -> CatalogueItem:
        return self.items[number]


# --- checks across fields -------------------------------------------------------------------


def _band_problems(bands: list[AgeBand]) -> Iterator[tuple[str, str]]:
    for index, band in enumerate(bands):
        if band.to_age_as_written is not None and band.to_age_as_written < band.from_age:
            yield f"{index}.to_age_as_written", "is below from_age"
        if index == 0:
            continue
        previous = bands[index - 1]
        if band.from_age <= previous.from_age:
            yield f"{index}.from_age", "bands must be in ascending order of from_age"
        elif previous.to_age_as_written is None:
            yield f"{index - 1}.to_age_as_written", "only the last band may be open-ended"
        elif band.from_age > previous.to_age_as_written + 1:
            yield (
                f"{index}.from_age",
                f"leaves ages {previous.to_age_as_written + 1}–{band.from_age - 1} without a band",
            )


def _amount_problems(
    rule: AmountRule, where: str, parameters: Mapping[str, Parameter]
) -> Iterator[tuple[str, str]]:
    if rule.parameter is not None and rule.parameter not in parameters:
        known = ", ".join(sorted(parameters)) or "none"
        yield f"{where}.parameter", f"unknown parameter {rule.parameter!r} (known: {known})"
    if rule.by_age is not None:
        for field, problem in _band_problems(rule.by_age):
            yield f"{where}.by_age.{field}", problem
    if rule.by_care_level is not None:
        for level in ("full", "semi", "self_care"):
            inner = getattr(rule.by_care_level, level)
            if inner.by_care_level is not None:
                yield f"{where}.by_care_level.{level}", "care levels cannot be nested"
            yield from _amount_problems(inner, f"{where}.by_care_level.{level}", parameters)


def catalogue_problems(catalogue: Catalogue) -> list[tuple[str, str]]:
    """Problems that a single field's validation cannot see, as (field, problem)."""
    problems: list[tuple[str, str]] = []
    if catalogue.jurisdiction not in registry():
        problems.append(("jurisdiction", f"unknown jurisdiction {catalogue.jurisdiction}"))
    for number, item in catalogue.items.items():
        if item.number != number:
            problems.append((f"items.{number}.number", f"does not match its key {number}"))
        periods = {c.period for c in item.components.values() if c.amount is not None}
        if len(periods) > 1:
            problems.append((f"items.{number}.components", "amounts of one item must share one period"))
        for key, component in item.components.items():
            where = f"items.{number}.components.{key}"
            if component.key != key:
                problems.append((f"{where}.key", f"does not match its key {key}"))
            if component.amount is not None:
                problems.extend(_amount_problems(component.amount, f"{where}.amount", catalogue.parameters))
        for key, extension in item.extensions.items():
            if extension.key != key:
                problems.append((f"items.{number}.extensions.{key}.key", f"does not match its key {key}"))
        for name in item.unknown_facts:
            if name not in YES_NO_UNKNOWN_FACTS:
                problems.append(
                    (
                        f"items.{number}.unknown_facts.{name}",
                        "not a yes/no/unknown circumstance (one of: "
                        f"{', '.join(sorted(YES_NO_UNKNOWN_FACTS))})",
                    )
                )
    if catalogue.admission_priority is not None:
        ranks = [group.rank for group in catalogue.admission_priority.groups]
        if ranks != sorted(ranks):
            problems.append(("admission_priority.groups", "groups must be in the order of their ranks"))
        for position, number in enumerate(catalogue.admission_priority.items):
            if number not in catalogue.items:
                problems.append((f"admission_priority.items.{position}", f"no item {number}"))
    for index, alternative in enumerate(catalogue.alternatives):
        where = f"alternatives.{index}"
        choices = CHOICE_SETTINGS.get(alternative.setting)
        if choices is None:
            problems.append((f"{where}.setting", f"unknown setting {alternative.setting!r}"))
            continue
        if sorted(option.choice for option in alternative.options) != sorted(choices):
            problems.append((f"{where}.options", f"the choices must be {', '.join(choices)}"))
        for position, option in enumerate(alternative.options):
            target = catalogue.items.get(option.item)
            if target is None:
                problems.append((f"{where}.options.{position}.item", f"no item {option.item}"))
                continue
            part = target.components.get(option.component)
            if part is None or part.amount is None:
                problems.append(
                    (
                        f"{where}.options.{position}.component",
                        f"item {option.item} has no component {option.component!r} with an amount",
                    )
                )
    return problems


def load_catalogue(path: Path) -> Catalogue:
    """Load and check a catalogue pack; a problem raises PackError naming file and field."""
    catalogue = parse_pack(path, Catalogue)
    if not path.stem.startswith(catalogue.jurisdiction):
        raise PackError(
            path.name,
            "jurisdiction",
            f"{catalogue.jurisdiction} does not match the file name "
            f"(expected {catalogue.jurisdiction}-<name>.yaml)",
        )
    problems = catalogue_problems(catalogue)
    if problems:
        field, problem = problems[0]
        raise PackError(path.name, field, problem)
    return catalogue


def stated_validity(catalogue: Catalogue) -> Stated:
    """The days a city catalogue version states (version 1 from ``effective_from`` without a
    ``validity`` block)."""
    validity = catalogue.validity
    if validity is None:
        return Stated(1, catalogue.effective_from, None)
    corrects = tuple(validity.correction.versions) if validity.correction else ()
    return Stated(validity.number, validity.valid_from, validity.valid_to, corrects)


@dataclass
class CityCatalogues:
    """The versions of one city's catalogue over time (:mod:`eldercare.catalogues.history`)."""

    city: str
    history: CatalogueHistory
    versions: dict[int, Catalogue]

    def latest(self) -> Catalogue:
        return self.versions[max(self.versions)]

    def on(self, day: dt.date) -> Catalogue | None:
        """The version in force on ``day``, if any."""
        version = self.history.in_force(day)
        return None if version is None else self.versions[version.number]


def _check_validity(catalogue: Catalogue, file: str) -> None:
    validity = catalogue.validity
    if validity is None:
        return
    if validity.valid_to is not None and validity.valid_to < validity.valid_from:
        raise PackError(file, "validity.valid_to", f"must not be before valid_from ({validity.valid_from})")
    if validity.correction is not None:
        if validity.number in validity.correction.versions:
            raise PackError(file, "validity.correction.versions", "a version cannot correct itself")
        if max(validity.correction.versions) > validity.number:
            raise PackError(
                file, "validity.correction.versions", "a correction corrects versions recorded before it"
            )


def load_city_catalogues(directory: Path) -> dict[str, CityCatalogues]:
    """Every ``*.yaml`` catalogue pack in ``directory``, each checked, as each city's versions
    over time: a new version supersedes only the open-ended version in force that started
    earlier; anything else that overlaps stops the start naming the version it collides with,
    unless the file is a correction naming what it corrects with a reason and a document."""
    files: dict[int, str] = {}

    def load(path: Path) -> Catalogue:
        catalogue = load_catalogue(path)
        _check_validity(catalogue, path.name)
        files[id(catalogue)] = path.name
        return catalogue

    loaded = load_pack_folder(
        directory,
        load,
        key=lambda catalogue: f"{catalogue.jurisdiction} version {stated_validity(catalogue).number}",
        what="catalogue",
        key_field="validity.number",
    )
    cities: dict[str, CityCatalogues] = {}
    ordered = sorted(loaded.values(), key=lambda c: (c.jurisdiction, stated_validity(c).number))
    for catalogue in ordered:
        code = catalogue.jurisdiction
        city = cities.setdefault(code, CityCatalogues(code, CatalogueHistory(f"the catalogue of {code}"), {}))
        stated = stated_validity(catalogue)
        try:
            city.history.record(stated.version())
        except VersionCollision as exc:
            field = "validity.correction.versions" if stated.corrects else "validity.valid_from"
            raise PackError(files[id(catalogue)], field, exc.detail) from exc
        city.versions[stated.number] = catalogue
    return cities


def load_catalogues(directory: Path) -> dict[str, Catalogue]:
    """The latest recorded version of every city's catalogue in ``directory`` (all checked)."""
    return {code: city.latest() for code, city in load_city_catalogues(directory).items()}
