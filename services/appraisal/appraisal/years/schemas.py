"""Requests and answers for years, subjects, stage transitions, indicators and the
publication of the year's rules."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from appraisal.grading.points import HundredPoints, PointsOut
from appraisal.grading.schemas import Points
from appraisal.schemes.enums import document_enum, scheme_enum
from appraisal.workflow.states import Stage
from shared.schemas import CalendarDate, Code, Name, NotABool, RequestModel, ResponseModel, Text

FIRST_YEAR = 2000
LAST_YEAR = 2999
YearNumber = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR), NotABool]
IndicatorPoints = HundredPoints


class YearOpen(RequestModel):
    """Open an appraisal year (考核年度) for a scheme; its subjects are created from the scheme."""

    year: YearNumber
    scheme: Code = Field(description="The city's scheme.", json_schema_extra=scheme_enum())
    ad_hoc_cap: Points | None = Field(
        default=None, description="即时性工作 cap set by the year's 方案/细则 (where the scheme leaves it)."
    )
    deductions_cap: Points | None = Field(default=None, description="减分项 cap set by the year's 方案/细则.")


class YearUpdate(RequestModel):
    ad_hoc_cap: Points | None = None
    deductions_cap: Points | None = None


class StageCount(ResponseModel):
    stage: Stage
    subjects: int


class YearRead(ResponseModel):
    year: int
    scheme: str
    scheme_version: int = Field(
        description="The version of the scheme the year is appraised under (GET /schemes/{scheme}/versions)."
    )
    city: str
    scheme_name: str
    document: str
    ad_hoc_cap: PointsOut | None
    deductions_cap: PointsOut | None
    published_on: dt.date | None = Field(description="The day the results were first published.")
    opened_by: str
    version: int
    created_at: dt.datetime
    stages: list[StageCount] = Field(default_factory=list)


class SubjectCreate(RequestModel):
    """Add a member department of the food-safety committee as a subject (Zhumadian art. 3)."""

    code: Code = Field(description="A short code for the department, e.g. scjgj.")
    name: Name = Field(description="The department's name, as its users' units name it.")


class SubjectUpdate(RequestModel):
    name: Name | None = None
    outstanding_note: Text | None = Field(
        default=None,
        description="Why its results are outstanding (成效突出), a ground for commendation.",
    )


class SubjectRead(ResponseModel):
    code: str
    name: str
    kind: str
    jurisdiction: str
    is_zone: bool
    ranked: bool
    stage: Stage
    stage_name: str
    stage_citation: str
    stage_changed_at: dt.datetime
    published_on: dt.date | None
    rectification_due_on: dt.date | None
    outstanding_note: str | None
    version: int


class TransitionCreate(RequestModel):
    to: Stage = Field(description="The next stage, or comprehensive_evaluation to reopen.")
    reason: Text | None = Field(default=None, description="Why; required for a reopening.")
    effective_on: CalendarDate | None = Field(
        default=None, description="The day of the act (e.g. of the publication notice); default today."
    )


class BulkTransitionCreate(TransitionCreate):
    subjects: list[Code] | None = Field(
        default=None,
        max_length=500,
        description="Subject codes; default every subject of the year. All move or none.",
    )


class TransitionRead(ResponseModel):
    subject: str
    from_stage: Stage
    to_stage: Stage
    reopening: bool
    reason: str | None
    effective_on: dt.date
    actor: str
    client_id: str | None
    recorded_at: dt.datetime


class IndicatorCreate(RequestModel):
    """An indicator of the year within one content area (考核内容要点) of the scheme."""

    code: Code
    name: Name
    content_area: Annotated[int, Field(ge=1, le=50), NotABool] = Field(
        description="The scheme's content area number (base or ad hoc areas)."
    )
    max_points: IndicatorPoints
    department: Name = Field(description="The member department that scores it.")
    description: Text | None = None


class IndicatorRead(ResponseModel):
    code: str
    name: str
    content_area: int
    content_area_name: str
    component: str
    max_points: PointsOut
    department: str
    description: str | None
    citation: str


class RulesPublicationCreate(RequestModel):
    """The year's detailed rules (细则) or plan (方案) were published on ``published_on``."""

    document: Code = Field(json_schema_extra=document_enum())
    published_on: CalendarDate
    title: Name | None = None
    reference: Name | None = Field(default=None, description="The document number, if any.")


class RulesDocumentRead(ResponseModel):
    document: str
    name: str
    deadline: dt.date
    citation: str
    published_on: dt.date | None
    title: str | None
    reference: str | None
    overdue: bool = Field(description="The deadline has passed and no publication is recorded.")


class IntervieweeRead(ResponseModel):
    who: str = Field(description="Who is interviewed (约谈), in the source's words.")
    when_necessary: bool = Field(description="Only where necessary (必要时): people decide.")
    by: str | None = Field(description="Who interviews them, where the source names someone else.")


class FindingRead(ResponseModel):
    subject: str
    reason: str
    detail: str
    citation: str
    interpretations: list[str] = Field(
        default_factory=list,
        description="Interpretation settings the finding rests on (the value used is in detail).",
    )
    interviewees: list[IntervieweeRead] = Field(
        default_factory=list, description="For an interview: who is interviewed, as the source says."
    )


class RulesPublicationRead(ResponseModel):
    year: int
    scheme: str
    documents: list[RulesDocumentRead]
    warnings: list[FindingRead]
