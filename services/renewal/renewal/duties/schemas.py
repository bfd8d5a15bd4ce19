"""API models of reporting duties."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field

from shared.schemas import CalendarDate, Name, NotABool, RequestModel, ResponseModel

Cadence = Literal["monthly", "quarterly"]


class DutyCreate(RequestModel):
    task_number: Annotated[int, Field(ge=1, le=10_000), NotABool]
    unit: Name
    cadence: Cadence
    starts: CalendarDate
    due_day: Annotated[int, Field(ge=1, le=28), NotABool] = Field(
        description="day of the month after the period"
    )
    grace_days: Annotated[int, Field(ge=0, le=60), NotABool] = 0


class DutyRead(ResponseModel):
    id: uuid.UUID
    task_number: int
    unit: str
    cadence: Cadence
    starts: dt.date
    due_day: int
    grace_days: int
    created_by: str
    created_at: dt.datetime
