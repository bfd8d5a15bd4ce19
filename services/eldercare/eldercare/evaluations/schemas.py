"""API models of the evaluation: stateless (``POST /api/eldercare/v1/evaluations``) and of a
registered person (``GET /api/eldercare/v1/persons/{person_id}/evaluation``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from eldercare.catalogues.pack import dump_condition
from eldercare.catalogues.schemas import AmendmentRead, CitationRead
from eldercare.evaluations.entitlements import Entitlement, Evaluation
from eldercare.evaluations.profile import PersonProfile
from shared.jurisdictions import JurisdictionCode
from shared.money import Money, money_str
from shared.schemas import CalendarDate, RequestModel, ResponseModel

Period = Literal["month", "year"]


class PersonIn(PersonProfile):
    """The person's circumstances (spec, "Contract endpoints"): every field but ``birth_date``
    is optional and defaults to false / null; unknown fields are refused."""

    birth_date: CalendarDate


class EvaluationRequest(RequestModel):
    jurisdiction: JurisdictionCode = Field(description="the person's county (its catalogue applies)")
    on: CalendarDate = Field(description="the evaluation date; the month containing it is evaluated")
    person: PersonIn


class ComponentResultRead(ResponseModel):
    key: str
    name: str
    amount: Money | None
    period: Period | None
    paid: bool
    minimum: bool
    facts: dict[str, Any]
    explanation: str | None
    degraded: str | None


class ChoiceOptionRead(ResponseModel):
    item: int
    component: str
    name: str
    amount: Money | None
    paid: bool


class ChoiceRead(ResponseModel):
    """Two alternatives (择高申领): both amounts, which one is paid and why."""

    name: str
    setting: str
    options: list[ChoiceOptionRead]
    reason: str
    citation: CitationRead


class AdmissionRankRead(ResponseModel):
    """Where the person stands in the admission order of public care homes (二（三）15)."""

    rank: int | None = Field(description="1 first; null: in none of the groups the order names")
    setting: str = Field(description="the Interpretation setting that ranked the groups, with its value")
    group: str | None
    name: str | None
    of_ranks: int
    facts: dict[str, Any]
    note: str | None
    text: str = Field(description="the sentence of the source that sets the order")
    citation: CitationRead


class EntitlementRead(ResponseModel):
    item: int
    name: str
    service_type: Literal["物质帮助", "照护服务", "关爱服务"]
    content: str
    amount: Money | None = Field(description="money for the period; null for a service or an unknown amount")
    period: Period | None
    rule: dict[str, Any] = Field(description="the eligibility condition that matched")
    facts: dict[str, Any] = Field(description="the person's facts the rule read")
    components: list[ComponentResultRead]
    priority: bool | None
    choice: ChoiceRead | None
    degraded: str | None = Field(description="why an amount is unknown (e.g. the welfare service is down)")
    citation: CitationRead
    funding: str | None
    lead_department: str
    amended_by: AmendmentRead | None
    notes: list[str] = Field(
        description="what the answer assumed or cannot give (an unknown fact, an amount the sources omit)"
    )
    admission: AdmissionRankRead | None = Field(
        description="the admission order of public care homes (item 23; 二（三）15)"
    )


class TraceStepRead(ResponseModel):
    item: int
    name: str
    matched: bool
    facts: dict[str, Any]
    notes: list[str]


class EvaluationRead(ResponseModel):
    jurisdiction: str
    catalogue_version: str
    on: dt.date
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    age: int
    entitlements: list[EntitlementRead]
    monthly_total: Money = Field(description="monthly money paid, known amounts only")
    monthly_total_complete: bool
    degraded: list[str]
    trace: list[TraceStepRead]


class ProjectionFreshnessRead(ResponseModel):
    """How fresh eldercare's projection of welfare's register is."""

    last_event_id: str | None = Field(description="the last welfare event consumed")
    last_event_time: dt.datetime | None = Field(description="when that event happened in welfare")
    last_sequence: str | None = Field(description="its place in welfare's feed")
    current_as_of: dt.datetime | None = Field(
        description="every welfare event committed before this time is in the projection; null: not "
        "caught up yet"
    )
    lag_seconds: float | None = Field(description="seconds since current_as_of")
    events_applied: int
    last_error: str | None = Field(description="why the last read of welfare's feed failed, if it did")


class DibaoStatusRead(ResponseModel):
    """Whether the person counts as in dibao (低保) in this evaluation, and where that came from."""

    value: bool
    source: Literal["projection", "welfare", "register"] = Field(
        description="projection: eldercare's projection of welfare's register, fed by welfare's events; "
        "welfare: the welfare service's enrolments, asked live; register: the recorded circumstance"
    )
    enrolment_id: uuid.UUID | None = Field(description="the welfare dibao enrolment in force, if any")
    register_value: bool = Field(description="the dibao circumstance the register records")
    note: str = Field(description="how the value was found, for the case worker")
    tekun: Literal["dispersed", "concentrated"] | None = Field(
        default=None,
        description="with source projection: the tekun care arrangement (分散 / 集中供养) welfare has in "
        "force that month, used in the evaluation",
    )
    projection: ProjectionFreshnessRead | None = Field(
        default=None, description="how fresh the projection was (setting dibao_status_source: projection)"
    )


class PersonEvaluationRead(EvaluationRead):
    """A registered person's evaluation: circumstances from the register, dibao status from the
    welfare service (setting ``dibao_status_source``)."""

    person_id: uuid.UUID
    citizen_id: str = Field(description="Masked (4117**********1234).")
    circumstances_from: dt.date = Field(description="start of the circumstances version in force that day")
    dibao_status: DibaoStatusRead


# --- from the engine's evaluation ----------------------------------------------------------


def _value(value: Any) -> Any:
    return money_str(value) if isinstance(value, Decimal) else value


def _facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _value(value) for key, value in facts.items()}


def entitlement_read(entitlement: Entitlement) -> EntitlementRead:
    choice = entitlement.choice
    admission = entitlement.admission
    return EntitlementRead.model_validate(
        {
            "item": entitlement.item,
            "name": entitlement.name,
            "service_type": entitlement.service_type,
            "content": entitlement.content,
            "amount": entitlement.amount,
            "period": entitlement.period,
            "rule": dump_condition(entitlement.rule),
            "facts": _facts(entitlement.facts),
            "components": [
                {
                    "key": part.key,
                    "name": part.name,
                    "amount": part.amount,
                    "period": part.period,
                    "paid": part.paid,
                    "minimum": part.minimum,
                    "facts": _facts(part.facts),
                    "explanation": part.explanation,
                    "degraded": part.degraded,
                }
                for part in entitlement.components
            ],
            "priority": entitlement.priority,
            "choice": None
            if choice is None
            else {
                "name": choice.name,
                "setting": choice.setting,
                "options": [
                    {
                        "item": option.item,
                        "component": option.component,
                        "name": option.name,
                        "amount": option.amount,
                        "paid": option.paid,
                    }
                    for option in choice.options
                ],
                "reason": choice.reason,
                "citation": choice.citation.model_dump(),
            },
            "degraded": entitlement.degraded,
            "citation": entitlement.citation.model_dump(),
            "funding": entitlement.funding,
            "lead_department": entitlement.lead_department,
            "amended_by": None if entitlement.amended_by is None else entitlement.amended_by.model_dump(),
            "notes": list(entitlement.notes),
            "admission": None
            if admission is None
            else {
                "rank": admission.rank,
                "setting": admission.setting,
                "group": admission.group,
                "name": admission.name,
                "of_ranks": admission.of_ranks,
                "facts": _facts(admission.facts),
                "note": admission.note,
                "text": admission.text,
                "citation": admission.citation.model_dump(),
            },
        }
    )


def evaluation_fields(evaluation: Evaluation) -> dict[str, Any]:
    """The fields of :class:`EvaluationRead` from the engine's evaluation."""
    return {
        "jurisdiction": evaluation.jurisdiction,
        "catalogue_version": evaluation.catalogue_version,
        "on": evaluation.on,
        "month": str(evaluation.month),
        "age": evaluation.age,
        "entitlements": [entitlement_read(e) for e in evaluation.entitlements],
        "monthly_total": evaluation.monthly_total,
        "monthly_total_complete": evaluation.monthly_total_complete,
        "degraded": list(evaluation.degraded),
        "trace": [
            TraceStepRead(
                item=step.item,
                name=step.name,
                matched=step.matched,
                facts=_facts(step.facts),
                notes=list(step.notes),
            )
            for step in evaluation.trace
        ],
    }


def evaluation_read(evaluation: Evaluation, *, jurisdiction: str) -> EvaluationRead:
    """The answer of ``POST /evaluations``: ``jurisdiction`` is the one asked about."""
    return EvaluationRead.model_validate({**evaluation_fields(evaluation), "jurisdiction": jurisdiction})
