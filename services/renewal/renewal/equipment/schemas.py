"""API models of equipment assessments."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from renewal.interpretations import AppliedInterpretation
from shared.schemas import CalendarDate, NotABool, RequestModel, ResponseModel


class EquipmentAssessment(RequestModel):
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    in_service_since: CalendarDate | None = None
    on: CalendarDate
    emission_standard: Annotated[int, Field(ge=1, le=6), NotABool] | None = None
    poor_technical_condition: StrictBool | None = Field(
        default=None, description="技术状况差 (task 22); leave out when unknown"
    )
    high_maintenance_cost: StrictBool | None = Field(
        default=None, description="维修成本高 (task 22); leave out when unknown"
    )


class ConditionRead(ResponseModel):
    condition: str = Field(
        description="age, emission_standard, kind, poor_technical_condition, high_maintenance_cost"
    )
    text: str = Field(description="the condition as the task writes it (15年以上, 技术状况差 …)")
    held: bool | None = Field(description="whether it held; null where not given and not assumed")
    given: bool = Field(
        description="whether the request said it (the age: whether in_service_since was given)"
    )
    assumed: bool = Field(description="held only by assumption (farm_machinery_age_alone_suffices)")


class EquipmentAnswer(ResponseModel):
    kind: str
    name: str
    renew: bool
    task: int
    plan: str
    reason: str
    age_years: int | None = None
    citation: str
    conditions: list[ConditionRead] = Field(description="each condition of the rule: held, given, assumed")
    interpretations: list[AppliedInterpretation] = Field(description="the settings this answer applied")
