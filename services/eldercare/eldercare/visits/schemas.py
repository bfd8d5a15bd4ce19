"""API models of visits (探访关爱)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from shared.schemas import CalendarDate, Name, RequestModel, ResponseModel, Text

VisitMethod = Literal["home", "phone", "video"]
"""上门服务 (a home visit), 电话 (phone) or 视频 (video): 驻政办〔2023〕35号 二（一）4."""


class VisitCreate(RequestModel):
    person_id: uuid.UUID
    visited_on: CalendarDate
    visitor: Name = Field(description="who visited (name, post or organisation)")
    method: VisitMethod = "home"
    notes: Text = ""


class VisitRead(ResponseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    jurisdiction: str
    visited_on: dt.date
    method: VisitMethod
    visitor: str
    notes: str
    recorded_by: str
    created_at: dt.datetime


class MissingVisit(ResponseModel):
    """A person due a visit in the month (item 22's groups) with none recorded."""

    person_id: uuid.UUID
    name: str
    citizen_id: str = Field(description="masked")
    jurisdiction: str
    age: int = Field(description="周岁 on the month's first day")
    groups: list[str] = Field(description="why a visit is due: the item-22 groups the person is in")
    last_visited_on: dt.date | None
