"""API models of catalogues: the effective catalogue of a jurisdiction, and county overrides."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from shared.dated_schemas import VersionHistoryRead
from shared.money import Money, NonNegativeMoney
from shared.schemas import CalendarDate, Name, RequestModel, ResponseModel, Text

MAX_JSON_DEPTH = 24
MAX_JSON_NODES = 2_000


def _plain_json(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse NUL characters (PostgreSQL cannot store them) and absurdly deep or large data."""
    nodes = 0

    def walk(node: Any, depth: int) -> None:
        nonlocal nodes
        nodes += 1
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"is nested more than {MAX_JSON_DEPTH} levels deep")
        if nodes > MAX_JSON_NODES:
            raise ValueError(f"has more than {MAX_JSON_NODES} parts")
        if isinstance(node, str) and "\x00" in node:
            raise ValueError("must not contain NUL characters")
        if isinstance(node, dict):
            for key, inner in node.items():
                walk(key, depth + 1)
                walk(inner, depth + 1)
        elif isinstance(node, list):
            for inner in node:
                walk(inner, depth + 1)

    walk(value, 0)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_plain_json)]
Condition = Annotated[
    JsonObject,
    Field(
        description=(
            "An eligibility condition: a mapping with one operator — all, any, not, fact, "
            "age_at_least, equals, in, at_least (see GET /catalogues/{jurisdiction} for the city's)."
        ),
        examples=[{"all": [{"age_at_least": 75}]}],
    ),
]
AmountRule = Annotated[
    JsonObject,
    Field(
        description=(
            "How an amount is found: exactly one of fixed, parameter, by_age, dibao_multiple, "
            "minimum_wage_fraction, by_care_level."
        ),
        examples=[{"fixed": "80.00"}],
    ),
]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ItemKey = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}$")]
Period = Literal["month", "year"]


class ParameterOverrideIn(RequestModel):
    amount: NonNegativeMoney
    source: Name


class ComponentOverrideIn(RequestModel):
    amount: AmountRule | None = None
    period: Period | None = None
    eligibility: Condition | None = None
    note: Text | None = None


class ItemOverrideIn(RequestModel):
    removed: StrictBool = Field(default=False, description="Always refused: a county keeps every city item.")
    eligibility: Condition | None = None
    extensions: list[Identifier] = Field(
        default_factory=list,
        max_length=10,
        description="Extensions of the city item the county adopts, by key (item 12: dibao_members).",
    )
    components: dict[Identifier, ComponentOverrideIn] = Field(default_factory=dict, max_length=20)
    note: Text | None = None


class CorrectionIn(RequestModel):
    """An audited correction: the versions it corrects, why, and the document that decided it."""

    versions: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(
        min_length=1, max_length=20, description="Every recorded version in force on a day of this one."
    )
    reason: Text
    document_reference: Name


class CatalogueOverridesIn(RequestModel):
    """What a county changes in the city catalogue (驻政办〔2023〕35号 二（一）1: it may raise
    amounts and widen eligibility, never drop an item or lower a standard)."""

    version: Name = Field(description="The county list's own version label, e.g. 2024-01.")
    document: Name = Field(description="The county document (文件名称/文号) the overrides come from.")
    name: Name | None = None
    effective_from: CalendarDate | None = None
    valid_from: CalendarDate | None = Field(
        default=None,
        description="First day this version is in force (default: effective_from, else today). It may "
        "supersede only the open-ended version in force that started earlier.",
    )
    valid_to: CalendarDate | None = Field(
        default=None, description="Last day, included (default: open-ended)."
    )
    correction: CorrectionIn | None = Field(
        default=None,
        description="Set to correct recorded versions whose days this one overlaps (otherwise 409).",
    )
    parameters: dict[Identifier, ParameterOverrideIn] = Field(default_factory=dict, max_length=20)
    items: dict[ItemKey, ItemOverrideIn] = Field(
        default_factory=dict, max_length=100, description="Changes to city items, by item number."
    )
    extra_items: dict[ItemKey, JsonObject] = Field(
        default_factory=dict,
        max_length=50,
        description="The county's own items, numbered after the city's (same fields as a catalogue item).",
    )


class CitationRead(ResponseModel):
    document: str
    item: str
    excerpt: str
    note: str | None = None


class ComponentRead(ResponseModel):
    key: str
    name: str
    eligibility: dict[str, Any] | None
    amount: dict[str, Any] | None
    period: Period | None
    minimum: bool
    note: str | None


class AmendmentRead(ResponseModel):
    jurisdiction: str
    document: str
    changes: list[str]
    note: str | None


class ExtensionRead(ResponseModel):
    key: str
    name: str
    eligibility: dict[str, Any]
    text: str
    citation: CitationRead


class UnknownFactRead(ResponseModel):
    note: str
    citation: CitationRead


class CatalogueItemRead(ResponseModel):
    number: int
    name: str
    service_type: Literal["物质帮助", "照护服务", "关爱服务"]
    target: str
    eligibility: dict[str, Any]
    priority: dict[str, Any] | None
    content: str
    standard: str | None
    components: list[ComponentRead]
    combine: Literal["all_matching", "first_matching"]
    funding: str | None
    lead_department: str
    citation: CitationRead
    extensions: list[ExtensionRead] = Field(
        description="Wider groups a county may adopt in its own list (not part of this catalogue "
        "unless amended_by lists them)"
    )
    unknown_facts: dict[str, UnknownFactRead] = Field(
        description="Circumstances that may be unknown, with the note an answer then gives"
    )
    amended_by: AmendmentRead | None


class ParameterRead(ResponseModel):
    key: str
    name: str
    amount: Money | None
    period: Period | None
    kind: Literal["standard", "local_figure"]
    source: str | None
    note: str | None


class AlternativeOptionRead(ResponseModel):
    choice: str
    item: int
    component: str


class AlternativeRead(ResponseModel):
    key: str
    name: str
    setting: str
    options: list[AlternativeOptionRead]
    text: str
    citation: CitationRead


class SourceRead(ResponseModel):
    document: str
    title: str
    issued_on: dt.date
    annex: str


class CountyListDeadlineRead(ResponseModel):
    due_by: dt.date
    text: str
    citation: CitationRead


class AdmissionGroupRead(ResponseModel):
    rank: int
    key: str
    name: str
    eligibility: dict[str, Any]
    note: str | None


class AdmissionPriorityRead(ResponseModel):
    items: list[int]
    groups: list[AdmissionGroupRead]
    text: str
    citation: CitationRead


class CatalogueCorrectionRead(ResponseModel):
    versions: list[int]
    reason: str
    document_reference: str


class ValidityRead(ResponseModel):
    number: int
    valid_from: dt.date
    valid_to: dt.date | None
    text: str
    citation: CitationRead
    note: str | None
    correction: CatalogueCorrectionRead | None


class CatalogueRead(ResponseModel):
    """A jurisdiction's effective catalogue: the city items merged with the county's overrides."""

    jurisdiction: str
    name: str
    version: str
    effective_from: dt.date
    validity: ValidityRead | None = Field(
        default=None, description="The city catalogue version's number and the days it states."
    )
    based_on: str | None = Field(description="The city catalogue a county catalogue extends.")
    overrides_version: int = Field(description="The saved county overrides in force (0: none).")
    overrides_problem: str | None = Field(
        description="Set when saved overrides no longer pass the checks; the city catalogue applies."
    )
    source: SourceRead
    parameters: list[ParameterRead]
    alternatives: list[AlternativeRead]
    county_list_deadline: CountyListDeadlineRead | None = Field(
        description="By when each county publishes its own list (二（一）1)"
    )
    admission_priority: AdmissionPriorityRead | None = Field(
        description="The admission order of public care homes (二（三）15)"
    )
    items: list[CatalogueItemRead]


class CityVersionStated(ResponseModel):
    """What a version of a city's catalogue states (never rewritten)."""

    city: str
    version: int
    label: str = Field(description="The catalogue's own version label.")
    document: str
    valid_from: dt.date
    valid_to: dt.date | None


class CityVersionRead(VersionHistoryRead, CityVersionStated):
    """One version of a city's catalogue in its history: the range it states (never rewritten), the
    days it is in force now, and what superseded or corrected what."""


class OverrideVersionStated(ResponseModel):
    """What a saved version of a county's overrides states (never rewritten)."""

    jurisdiction: str
    version: int
    valid_from: dt.date
    valid_to: dt.date | None


class OverrideVersionSaved(ResponseModel):
    """A saved version's overrides, and who saved them when."""

    body: dict[str, Any]
    created_by: str
    created_at: dt.datetime


class OverrideVersionRead(OverrideVersionSaved, VersionHistoryRead, OverrideVersionStated):
    """One saved version of a county's overrides in its history: the range it states (never
    rewritten), the days it is in force now, and what superseded or corrected what."""


class CountyListRead(ResponseModel):
    jurisdiction: str
    name: str
    first_published_on: dt.date | None = Field(description="The first day a list of its own was in force.")
    published: bool = Field(description="A list of its own was in force on or before `on`.")
    on_time: bool | None = Field(description="Published by the deadline; null while neither is known yet.")


class CountyListPublicationRead(ResponseModel):
    """Which counties published their own list, against the deadline of 二（一）1."""

    city: str
    on: dt.date
    due_by: dt.date
    past_deadline: bool = Field(description="`on` is after the deadline.")
    text: str
    citation: CitationRead
    counties: list[CountyListRead]
    without_list: list[str] = Field(
        description="After the deadline: the counties, districts and zones without a published list "
        "on `on` (empty before the deadline)."
    )
