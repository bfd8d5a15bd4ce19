"""API models of progress reports and their review."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import Name, RequestModel, ResponseModel, Text

PERIOD_PATTERN = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2]|Q[1-4])$"
IndicatorValue = Annotated[
    str, StringConstraints(pattern=r"^-?[0-9]{1,12}(\.[0-9]{1,4})?$")
]  # ASCII digits only


class ReportRead(ResponseModel):
    id: uuid.UUID
    task_number: int
    unit: str
    period: str
    version: int = Field(
        validation_alias="revision",
        description="the report's version for its period: a correction is a new one",
    )
    narrative: str
    indicator_values: dict[str, str]
    evidence_links: list[str]
    submitted_by: str
    submitted_at: dt.datetime
    early: bool = Field(
        description="filed before its period ended: kept, and counted toward on-time rates once it ends"
    )
    review_status: Literal["submitted", "accepted", "returned"]
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_reason: str | None
    row_version: int = Field(
        validation_alias="version", description="the record's version, as in its ETag (If-Match of a review)"
    )


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
