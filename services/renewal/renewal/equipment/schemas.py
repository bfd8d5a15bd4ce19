"""API models of equipment assessments."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import CalendarDate, NotABool, RequestModel, ResponseModel


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
