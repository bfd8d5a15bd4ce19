"""API models of the evaluation: stateless (``POST /api/eldercare/v1/evaluations``) and of a
registered person (``GET /api/eldercare/v1/persons/{person_id}/evaluation``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field

from eldercare.catalogues.schemas import AmendmentRead, CitationRead
from eldercare.evaluations.profile import PersonProfile
from shared.jurisdictions import JurisdictionCode
from shared.money import Money
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


class DibaoStatusRead(ResponseModel):
    """Whether the person counts as in dibao (低保) in this evaluation, and where that came from."""

    value: bool
    source: Literal["welfare", "register"] = Field(
        description="welfare: the welfare service's enrolments; register: the recorded circumstance"
    )
    enrolment_id: uuid.UUID | None = Field(description="the welfare dibao enrolment in force, if any")
    register_value: bool = Field(description="the dibao circumstance the register records")
    note: str = Field(description="how the value was found, for the case worker")


class PersonEvaluationRead(EvaluationRead):
    """A registered person's evaluation: circumstances from the register, dibao status from the
    welfare service (setting ``dibao_status_source``)."""

    person_id: uuid.UUID
    citizen_id: str = Field(description="Masked (4117**********1234).")
    circumstances_from: dt.date = Field(description="start of the circumstances version in force that day")
    dibao_status: DibaoStatusRead
