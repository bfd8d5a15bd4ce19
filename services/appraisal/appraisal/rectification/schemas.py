"""Rectification reports (整改报告) and their status."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import CalendarDate, RequestModel, ResponseModel, Text

Statement = Annotated[Text, StringConstraints(min_length=1)]


class Measure(RequestModel):
    """A rectification measure (整改措施) and its deadline (时限)."""

    measure: Statement
    due_on: CalendarDate


class MeasureRead(ResponseModel):
    measure: str
    due_on: dt.date


class RectificationCreate(RequestModel):
    """The written report a subject owes within one month of publication."""

    summary: Statement = Field(description="The problems published and how they are addressed.")
    measures: list[Measure] = Field(min_length=1, max_length=100)
    submitted_on: CalendarDate | None = Field(default=None, description="Default today.")


class RectificationRead(ResponseModel):
    subject: str
    published_on: dt.date
    due_on: dt.date
    submitted_on: dt.date
    on_time: bool
    summary: str
    measures: list[MeasureRead]
    submitted_by: str
    citation: str


RectificationState = Literal["submitted", "late", "pending", "overdue"]


class RectificationStatus(ResponseModel):
    subject: str
    name: str
    published_on: dt.date
    due_on: dt.date
    submitted_on: dt.date | None
    status: RectificationState = Field(
        description="submitted (on time), late (after the due day), pending (not yet due), "
        "overdue (due day passed with no report)."
    )
    detail: str | None
    citation: str
