"""Plans and tasks as the API answers them: which plans a caller sees, a task with its
units, responsible leader, targets and latest reports, and the task list's filters.

Functions take keyword arguments and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from renewal.interpretations import RenewalInterpretations
from renewal.leader_absences import repository as absences
from renewal.plans.leaders import responsible_leader
from renewal.plans.pack import Plan, Task
from renewal.plans.schemas import (
    AspectRead,
    LeaderRead,
    MilestoneRead,
    PlanDutyRead,
    PlanRead,
    SectionRead,
    StatementRead,
    TargetRead,
    TaskRead,
)
from renewal.reports import repository as reports
from renewal.reports.schemas import ReportRead
from renewal.status.service import plan_status

LATEST_REPORTS = 5


@dataclass(frozen=True)
class TaskFilter:
    """The task list's filters; None leaves a filter off."""

    lead_unit: str | None = None
    cooperating_unit: str | None = None
    section: str | None = None  # 二 takes in 二(一), 二(二) …
    responsible_leader: str | None = None
    status: str | None = None


def plan_read(plan: Plan) -> PlanRead:
    spec = plan.spec
    return PlanRead(
        id=plan.id,
        title=spec.title,
        document=spec.document,
        jurisdiction=spec.jurisdiction,
        issued_on=spec.issued_on,
        horizon=spec.horizon,
        task_count=len(spec.tasks),
        sections=[SectionRead.model_validate(section) for section in spec.sections],
        overall_goal=StatementRead.model_validate(spec.overall_goal) if spec.overall_goal else None,
        milestones=[MilestoneRead.model_validate(milestone) for milestone in spec.milestones],
        review_cadence=StatementRead.model_validate(spec.review_cadence) if spec.review_cadence else None,
        reporting_duties=[PlanDutyRead.model_validate(duty) for duty in spec.reporting_duties],
    )


def targets_of(plan: Plan, number: int) -> list[TargetRead]:
    return [
        TargetRead(
            indicator=indicator.id,
            indicator_name=indicator.name,
            unit_of_measure=indicator.unit,
            direction=indicator.direction,
            value=str(target.value),
            deadline=target.deadline,
            kind=target.kind,
            baseline_year=indicator.baseline.year if indicator.baseline else None,
            citation=indicator.citation,
            notes=[note for note in (indicator.note, target.note) if note],
        )
        for indicator in plan.indicators_of(number)
        for target in indicator.targets
    ]


def task_read(*, plan: Plan, task: Task, away: Collection[str]) -> TaskRead:
    section = next(s for s in plan.spec.sections if s.code == task.section)
    leader = responsible_leader(plan, task, away)
    return TaskRead(
        number=task.number,
        text=task.text,
        section=task.section,
        section_title=section.title,
        lead_units=task.lead_units,
        cooperating_units=task.cooperating_units,
        implementing_jurisdictions=plan.spec.implementing_jurisdictions,
        note=task.note,
        responsible_leader=LeaderRead.model_validate(leader) if leader else None,
        targets=targets_of(plan, task.number),
        aspects=[AspectRead.model_validate(aspect) for aspect in task.aspects],
    )


async def read_task(*, session: AsyncSession, plan: Plan, task: Task, on: dt.date) -> TaskRead:
    """The task with its responsible leader on ``on`` and its latest reports."""
    away = await absences.away_on(session, plan_id=plan.id, on=on)
    read = task_read(plan=plan, task=task, away=away)
    latest = await reports.latest_of_task(
        session, plan_id=plan.id, task_number=task.number, limit=LATEST_REPORTS
    )
    read.latest_reports = [ReportRead.model_validate(r) for r in latest]
    return read


async def list_tasks(
    *,
    session: AsyncSession,
    plan: Plan,
    filters: TaskFilter,
    on: dt.date,
    interpretations: RenewalInterpretations,
) -> list[TaskRead]:
    """The plan's tasks that pass every filter, with their responsible leaders on ``on``;
    units match by any of their names (a unit's aliases resolve to it)."""
    away = await absences.away_on(session, plan_id=plan.id, on=on)
    statuses: dict[int, str] = {}
    if filters.status:
        state = await plan_status(session=session, plan=plan, on=on, interpretations=interpretations)
        statuses = {task.number: task.status for task in state.tasks}
    lead = plan.units.resolve(filters.lead_unit) if filters.lead_unit else None
    cooperating = plan.units.resolve(filters.cooperating_unit) if filters.cooperating_unit else None
    items = []
    for task in plan.spec.tasks:
        read = task_read(plan=plan, task=task, away=away)
        if filters.lead_unit and lead not in plan.units_of(task, lead_only=True):
            continue
        if filters.cooperating_unit and cooperating not in {
            plan.units.resolve(unit) for unit in task.cooperating_units
        }:
            continue
        if (
            filters.section
            and task.section != filters.section
            and not task.section.startswith(filters.section + "(")
        ):
            continue
        if filters.responsible_leader and (
            read.responsible_leader is None or read.responsible_leader.name != filters.responsible_leader
        ):
            continue
        if filters.status and statuses.get(task.number) != filters.status:
            continue
        items.append(read)
    return items
