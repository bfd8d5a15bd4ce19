"""API models of a plan's status on a date."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from renewal.interpretations import AppliedInterpretation
from renewal.plans.schemas import LeaderRead
from renewal.status.targets import StatusName
from shared.schemas import ResponseModel

TaskStatusName = StatusName
DutyStateName = Literal["due", "submitted on time", "submitted late", "missing"]


class TargetStatusRead(ResponseModel):
    indicator: str
    deadline: dt.date | None = Field(
        description="the day it was judged against; null for an undated target judged against none"
    )
    deadline_stated: bool = Field(
        description="false where the source states no date and a setting supplied it"
    )
    target: str | None
    expected: str | None
    latest: str | None
    status: TaskStatusName
    reason: str


class DutyStateRead(ResponseModel):
    task: int
    unit: str
    period: str
    due: dt.date
    state: DutyStateName
    source: Literal["set", "plan"] = Field(
        description="set through the API, or by the plan itself (its cadence)"
    )
    duty: str | None = Field(description="the plan's own duty (its id), for source plan")
    citation: str | None


class TaskStatusRead(ResponseModel):
    number: int
    status: TaskStatusName
    responsible_leader: LeaderRead | None
    targets: list[TargetStatusRead]
    duties: list[DutyStateRead]


class PlanStatusRead(ResponseModel):
    plan: str
    on: dt.date
    tasks: list[TaskStatusRead]
    plan_targets: list[TargetStatusRead]
    interpretations: list[AppliedInterpretation] = Field(
        description="the settings this status applied, with their values"
    )
