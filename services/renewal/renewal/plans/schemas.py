"""API models of plans and tasks."""

from __future__ import annotations

import datetime as dt
from typing import Literal

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
    deadline: dt.date
    kind: Literal["absolute", "cumulative", "relative"]
    baseline_year: int | None
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
    latest_reports: list[ReportRead] = []


class SectionRead(ResponseModel):
    code: str
    title: str
    parent: str | None


class PlanRead(ResponseModel):
    id: str
    title: str
    document: str
    jurisdiction: str
    issued_on: dt.date | None
    horizon: dt.date
    task_count: int
    sections: list[SectionRead]
