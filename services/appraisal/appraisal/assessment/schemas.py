"""Requests and answers for daily assessment scores, the mid-year review, the status
evaluation, the self-evaluation and the review opinions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from appraisal.grading.points import HundredPoints, PointsOut
from appraisal.years.schemas import IndicatorPoints
from shared.schemas import CalendarDate, Code, RequestModel, ResponseModel, Text

Percent = HundredPoints
Statement = Annotated[Text, StringConstraints(min_length=1)]
AssessmentMethod = Literal["materials_review", "online_spot_check", "unannounced_visit", "supervision"]
"""资料审查, 线上抽查, 明查暗访, 调研督导 (Zhumadian art. 7(一); Panjin art. 7(一))."""


class ScoreEntryCreate(RequestModel):
    """Points for one indicator of one subject, by the department responsible for it."""

    subject: Code
    indicator: Code
    points: IndicatorPoints = Field(description="At most the indicator's maximum.")
    method: AssessmentMethod
    note: Text | None = None


class ScoreEntryUpdate(RequestModel):
    points: IndicatorPoints | None = None
    method: AssessmentMethod | None = None
    note: Text | None = None


class ScoreEntryRead(ResponseModel):
    id: uuid.UUID
    subject: str
    indicator: str
    department: str
    points: PointsOut
    method: str
    note: str | None
    recorded_by: str
    version: int
    created_at: dt.datetime


class MidYearReviewCreate(RequestModel):
    """年中评价 / 年中督促 of one subject."""

    reviewed_on: CalendarDate
    key_tasks: Statement = Field(description="How the year's key tasks stand.")
    last_year_rectified: StrictBool | None = Field(
        default=None,
        description="Whether last year's problems are rectified; false leads to an interview of "
        "the county food-safety office head (Panjin art. 14, Zhumadian art. 17).",
    )
    findings: Text | None = None


class MidYearReviewRead(ResponseModel):
    subject: str
    reviewed_on: dt.date
    key_tasks: str
    last_year_rectified: bool | None
    findings: str | None
    recorded_by: str
    created_at: dt.datetime


class StatusEvaluationCreate(RequestModel):
    """食品安全状况评价 figures of one subject, in percent."""

    satisfaction: Percent | None = Field(default=None, description="食品安全群众满意度 (%).")
    food_sampling_pass_rate: Percent | None = Field(default=None, description="食品评价性抽检合格率 (%).")
    farm_produce_monitoring_pass_rate: Percent | None = Field(
        default=None, description="(食用)农产品例行监测合格率 (%)."
    )
    note: Text | None = None


class StatusEvaluationRead(ResponseModel):
    subject: str
    satisfaction: PointsOut | None
    food_sampling_pass_rate: PointsOut | None
    farm_produce_monitoring_pass_rate: PointsOut | None
    note: str | None
    recorded_by: str
    created_at: dt.datetime


class SelfEvaluationItem(RequestModel):
    indicator: Code
    points: IndicatorPoints
    note: Text | None = None


class SelfEvaluationCreate(RequestModel):
    """自评: the subject's own points per indicator and its statement."""

    statement: Statement
    items: list[SelfEvaluationItem] = Field(default_factory=list, max_length=200)


class SelfEvaluationUpdate(RequestModel):
    statement: Statement | None = None
    items: list[SelfEvaluationItem] | None = Field(default=None, max_length=200)


class EvidenceRead(ResponseModel):
    id: uuid.UUID
    subject: str
    purpose: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


class SelfEvaluationItemRead(ResponseModel):
    indicator: str
    points: PointsOut
    note: str | None


class SelfEvaluationRead(ResponseModel):
    subject: str
    statement: str
    items: list[SelfEvaluationItemRead]
    submitted_by: str
    version: int
    created_at: dt.datetime
    evidence: list[EvidenceRead]


class ReviewOpinionCreate(RequestModel):
    """部门评审意见 on one indicator of one subject, and the points it settles on."""

    subject: Code
    indicator: Code
    opinion: Statement
    points: IndicatorPoints


class ReviewOpinionRead(ResponseModel):
    id: uuid.UUID
    subject: str
    indicator: str
    department: str
    opinion: str
    points: PointsOut
    recorded_by: str
    created_at: dt.datetime
