"""API models of plans and tasks."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from renewal.reports.schemas import ReportRead
from shared.schemas import ResponseModel


class LeaderRead(ResponseModel):
    """The responsible leader (责任领导) of a task, and on what ground."""

    name: str
    role: Literal["supervises", "liaises", "assigned", "stand_in", "coordinator"]
    unit: str
    on_behalf_of: str | None
    citation: str


class TargetRead(ResponseModel):
    indicator: str
    indicator_name: str
    unit_of_measure: str
    direction: Literal["higher", "lower"]
    value: str
    deadline: dt.date | None = Field(description="null where the source states no date (see notes)")
    kind: Literal["absolute", "cumulative", "relative"]
    baseline_year: int | None
    citation: str
    notes: list[str] = Field(default=[], description="this service's notes on the indicator and target")


class AspectRead(ResponseModel):
    """A part of the task the task itself gives to one unit."""

    key: str
    aspect: str = Field(description="the part, as the task writes it")
    unit: str = Field(description="the unit the task names for it, as written")
    citation: str


class TaskRead(ResponseModel):
    number: int
    text: str
    section: str
    section_title: str
    lead_units: list[str]
    cooperating_units: list[str]
    implementing_jurisdictions: list[str]
    note: str | None
    responsible_leader: LeaderRead | None
    targets: list[TargetRead]
    aspects: list[AspectRead] = Field(default=[], description="per-aspect responsible units the task names")
    latest_reports: list[ReportRead] = []


class SectionRead(ResponseModel):
    code: str
    title: str
    parent: str | None


class StatementRead(ResponseModel):
    text: str = Field(description="the plan's words")
    detail: str | None
    citation: str


class MilestoneRead(ResponseModel):
    deadline: dt.date
    text: str = Field(description="the plan's words")
    citation: str


class PlanDutyRead(ResponseModel):
    """A reporting duty the plan sets itself (its cadence); reports are due on a day the
    setting plan_duty_due_day gives (the plan names none)."""

    id: str
    name: str
    cadence: Literal["monthly", "quarterly"]
    tasks: Literal["all", "with_table_indicators"]
    text: str
    citation: str
    note: str | None


class PlanRead(ResponseModel):
    id: str
    title: str
    document: str
    jurisdiction: str
    issued_on: dt.date | None
    horizon: dt.date
    task_count: int
    sections: list[SectionRead]
    overall_goal: StatementRead | None = None
    milestones: list[MilestoneRead] = []
    review_cadence: StatementRead | None = None
    reporting_duties: list[PlanDutyRead] = []
