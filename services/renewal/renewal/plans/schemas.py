"""API models of plans, tasks, statuses, reports, duties and equipment assessments."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import CalendarDate, Name, NotABool, RequestModel, ResponseModel, Text

TaskStatusName = Literal["achieved", "on track", "at risk", "missing report", "overdue"]
PERIOD_PATTERN = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2]|Q[1-4])$"


class LeaderRead(ResponseModel):
    name: str
    role: Literal["supervises", "liaises", "stand_in", "coordinator"]
    unit: str
    on_behalf_of: str | None
    citation: str


class TargetRead(ResponseModel):
    indicator: str
    indicator_name: str
    unit_of_measure: str
    direction: Literal["higher", "lower"]
    value: str
    deadline: dt.date
    kind: Literal["absolute", "cumulative", "relative"]
    baseline_year: int | None
    citation: str


class ReportRead(ResponseModel):
    id: uuid.UUID
    task_number: int
    unit: str
    period: str
    version: int
    narrative: str
    indicator_values: dict[str, str]
    evidence_links: list[str]
    submitted_by: str
    submitted_at: dt.datetime
    review_status: Literal["submitted", "accepted", "returned"]
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_reason: str | None
    row_version: int


class TaskRead(ResponseModel):
    number: int
    text: str
    section: str
    section_title: str
    lead_units: list[str]
    cooperating_units: list[str]
    implementing_jurisdictions: list[str]
    note: str | None
    responsible_leader: LeaderRead | None
    targets: list[TargetRead]
    latest_reports: list[ReportRead] = []


class SectionRead(ResponseModel):
    code: str
    title: str
    parent: str | None


class PlanRead(ResponseModel):
    id: str
    title: str
    document: str
    jurisdiction: str
    issued_on: dt.date | None
    horizon: dt.date
    task_count: int
    sections: list[SectionRead]


class TargetStatusRead(ResponseModel):
    indicator: str
    deadline: dt.date
    target: str | None
    expected: str | None
    latest: str | None
    status: TaskStatusName
    reason: str


class DutyStateRead(ResponseModel):
    task: int
    unit: str
    period: str
    due: dt.date
    state: Literal["due", "submitted on time", "submitted late", "missing"]


class TaskStatusRead(ResponseModel):
    number: int
    status: TaskStatusName
    responsible_leader: LeaderRead | None
    targets: list[TargetStatusRead]
    duties: list[DutyStateRead]


class PlanStatusRead(ResponseModel):
    plan: str
    on: dt.date
    tasks: list[TaskStatusRead]
    plan_targets: list[TargetStatusRead]


IndicatorValue = Annotated[str, StringConstraints(pattern=r"^-?\d{1,12}(\.\d{1,4})?$")]


class ReportCreate(RequestModel):
    period: Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)] = Field(
        description="2025-01 (monthly) or 2025-Q1 (quarterly)"
    )
    unit: Name | None = Field(
        default=None, description="the reporting unit; needed when you belong to several"
    )
    narrative: Text
    indicator_values: Annotated[
        dict[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")], IndicatorValue],
        Field(max_length=50),
    ] = {}
    evidence_links: Annotated[
        list[Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://\S+$")]],
        Field(max_length=20),
    ] = []


class ReportReview(RequestModel):
    """accept (locks the report), return (with a reason), or reopen an accepted report (with a reason)."""

    decision: Literal["accept", "return", "reopen"]
    reason: Text | None = None


class DutyCreate(RequestModel):
    task_number: Annotated[int, Field(ge=1, le=10_000), NotABool]
    unit: Name
    cadence: Literal["monthly", "quarterly"]
    starts: CalendarDate
    due_day: Annotated[int, Field(ge=1, le=28), NotABool] = Field(
        description="day of the month after the period"
    )
    grace_days: Annotated[int, Field(ge=0, le=60), NotABool] = 0


class DutyRead(ResponseModel):
    id: uuid.UUID
    task_number: int
    unit: str
    cadence: Literal["monthly", "quarterly"]
    starts: dt.date
    due_day: int
    grace_days: int
    created_by: str
    created_at: dt.datetime


class AbsenceCreate(RequestModel):
    leader: Name
    away_from: CalendarDate
    away_to: CalendarDate
    reason: Text


class AbsenceRead(ResponseModel):
    id: uuid.UUID
    leader: str
    away_from: dt.date
    away_to: dt.date
    reason: str


class EquipmentAssessment(RequestModel):
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    in_service_since: CalendarDate | None = None
    on: CalendarDate
    emission_standard: Annotated[int, Field(ge=1, le=6), NotABool] | None = None


class EquipmentAnswer(ResponseModel):
    kind: str
    name: str
    renew: bool
    task: int
    plan: str
    reason: str
    age_years: int | None = None
    citation: str


def money_free(value: Decimal | None) -> str | None:
    """Indicator values as plain decimal strings."""
    return None if value is None else format(value.normalize(), "f")
