"""API models of a plan's county assessment scheme (考核指标)."""

from __future__ import annotations

from pydantic import Field

from renewal.plans.schemas import StatementRead
from shared.schemas import ResponseModel


class AssessmentItemRead(ResponseModel):
    number: int
    content: str = Field(description="考核内容, as the annex writes it")
    related_indicators: list[str] = Field(
        description="the plan's indicators the item names: a cross-reference of this service, not the annex's"
    )


class AssessmentCategoryRead(ResponseModel):
    category: str = Field(description="类别, as the annex writes it")
    items: list[AssessmentItemRead]


class CountyAssessmentRead(ResponseModel):
    plan: str
    title: str
    citation: str
    subjects: list[str] = Field(description="the jurisdictions assessed")
    subjects_text: str = Field(description="the annex's sentence naming them")
    held: StatementRead
    scoring: str = Field(description="what the annex says of points, weights or grades")
    categories: list[AssessmentCategoryRead]
