"""Requests and answers of the comprehensive evaluation, incidents and results."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from appraisal.grading.points import PointsOut
from appraisal.grading.schemas import AppliedRule, Grade, Points, Total
from appraisal.schemes.enums import circumstance_enum, scheme_enum
from appraisal.workflow.states import Stage
from shared.jurisdictions import JurisdictionCode
from shared.schemas import CalendarDate, Code, RequestModel, ResponseModel, Text

Evidence = Annotated[Text, StringConstraints(min_length=1)]


class AdjustmentCreate(RequestModel):
    """A bonus (加分项) or deduction (减分项) for the subject."""

    component: Literal["bonus", "deduction"]
    points: Points
    provincial: bool = Field(
        default=False,
        description="Points the province gave or took from the city that concern this subject "
        "(counted double where the scheme says so, Panjin art. 10).",
    )
    reason: Evidence


class AdjustmentRead(ResponseModel):
    id: uuid.UUID
    subject: str
    component: str
    points: PointsOut
    provincial: bool
    reason: str
    recorded_by: str
    recorded_at: dt.datetime


class CircumstanceCreate(RequestModel):
    """A downgrade or veto circumstance of the scheme's catalogue found for the subject."""

    circumstance: Code = Field(json_schema_extra=circumstance_enum())
    evidence: Evidence = Field(description="What was found, and where the proof is.")
    evidence_files: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Evidence files of this subject."
    )


class CircumstanceRead(ResponseModel):
    id: uuid.UUID
    subject: str
    circumstance: str
    effect: Literal["downgrade", "veto"]
    text: str
    citation: str
    evidence: str
    evidence_files: list[uuid.UUID]
    recorded_by: str
    recorded_at: dt.datetime


class IncidentBase(RequestModel):
    scheme: Code = Field(json_schema_extra=scheme_enum())
    subject: JurisdictionCode = Field(description="The county, district or zone where it happened.")
    occurred_on: CalendarDate
    description: Evidence


class IncidentDeduction(IncidentBase):
    """An incident (食品安全事件) that costs points (减分项)."""

    effect: Literal["deduction"]
    points: Points


class IncidentCircumstance(IncidentBase):
    """An incident that is a downgrade or veto circumstance of the catalogue."""

    effect: Literal["circumstance"]
    circumstance: Code = Field(json_schema_extra=circumstance_enum())


IncidentCreate = Annotated[IncidentDeduction | IncidentCircumstance, Field(discriminator="effect")]


class IncidentRead(ResponseModel):
    id: uuid.UUID
    scheme: str
    subject: str
    occurred_on: dt.date
    description: str
    effect: str
    points: PointsOut | None
    circumstance: str | None
    counted_year: int = Field(description="The appraisal year the incident counts against.")
    carried_back: bool = Field(description="Counted against the year before its own (carry-back).")
    attribution: str
    citation: str | None
    requires_reopening: bool = Field(
        default=False,
        description="The subject's result in the counted year is already published: it changes "
        "only by a recorded reopening.",
    )
    recorded_by: str
    recorded_at: dt.datetime


class ProblemItem(ResponseModel):
    """One entry of a subject's list of problems (问题清单)."""

    kind: Literal["downgrade", "veto", "deduction", "incident"]
    detail: str
    citation: str | None


class ResultRead(ResponseModel):
    subject: str
    name: str
    kind: str
    is_zone: bool
    stage: Stage
    base: PointsOut
    ad_hoc: PointsOut
    bonus: PointsOut
    provincial_bonus: PointsOut
    deductions: PointsOut
    provincial_deduction: PointsOut
    downgrades: int
    veto: bool
    total: Total
    rank: int | None
    grade: Grade | None
    applied: list[AppliedRule]
    problems: list[ProblemItem]
    published: bool
    published_on: dt.date | None
    computed_at: dt.datetime


class YearResults(ResponseModel):
    year: int
    scheme: str
    document: str
    published_on: dt.date | None
    results: list[ResultRead]


class EvaluationRun(RequestModel):
    """Run the comprehensive evaluation (综合评议) from the stored figures."""

    note: Text | None = None
