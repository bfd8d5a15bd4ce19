"""API models of a plan's status on a date."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from renewal.plans.schemas import LeaderRead
from renewal.status.targets import StatusName
from shared.schemas import ResponseModel

TaskStatusName = StatusName
DutyStateName = Literal["due", "submitted on time", "submitted late", "missing"]


class TargetStatusRead(ResponseModel):
    indicator: str
    deadline: dt.date
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
