"""Every target's and task's status on a date, from the reports and duties in the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from renewal.interpretations import RenewalInterpretations
from renewal.plans.leaders import responsible_leader
from renewal.plans.pack import Plan
from renewal.reports.duties import due_date, periods, report_state
from renewal.reports.models import LeaderAbsence, ProgressReport, ReportingDuty
from renewal.status.engine import TargetStatus, target_status, worst


@dataclass
class DutyState:
    task: int
    unit: str
    period: str
    due: dt.date
    state: str


@dataclass
class TaskState:
    number: int
    status: str
    leader: dict[str, Any] | None
    targets: list[TargetStatus] = field(default_factory=list)
    duties: list[DutyState] = field(default_factory=list)


async def away_leaders(session: AsyncSession, plan: Plan, on: dt.date) -> set[str]:
    rows = await session.scalars(
        select(LeaderAbsence.leader).where(
            LeaderAbsence.plan_id == plan.id, LeaderAbsence.away_from <= on, LeaderAbsence.away_to >= on
        )
    )
    return set(rows)


def leader_json(plan: Plan, number: int, away: set[str]) -> dict[str, Any] | None:
    task = plan.task(number)
    assert task is not None
    found = responsible_leader(plan, task, away)
    if found is None:
        return None
    return {
        "name": found.name,
        "role": found.role,
        "unit": found.unit,
        "on_behalf_of": found.on_behalf_of,
        "citation": found.citation,
    }


async def latest_values(session: AsyncSession, plan: Plan, on: dt.date) -> dict[str, Decimal]:
    """The latest reported value of each indicator (returned reports do not count)."""
    end = dt.datetime.combine(on, dt.time.max, tzinfo=dt.UTC)
    rows = await session.scalars(
        select(ProgressReport)
        .where(
            and_(
                ProgressReport.plan_id == plan.id,
                ProgressReport.submitted_at <= end,
                ProgressReport.review_status != "returned",
            )
        )
        .order_by(ProgressReport.submitted_at)
    )
    values: dict[str, Decimal] = {}
    for report in rows:
        for indicator, value in (report.indicator_values or {}).items():
            try:
                values[indicator] = Decimal(str(value))
            except InvalidOperation:
                continue
    return values


async def duty_states(session: AsyncSession, plan: Plan, on: dt.date) -> list[DutyState]:
    duties = (await session.scalars(select(ReportingDuty).where(ReportingDuty.plan_id == plan.id))).all()
    reports = (
        await session.scalars(
            select(ProgressReport).where(ProgressReport.plan_id == plan.id, ProgressReport.version == 1)
        )
    ).all()
    first_submitted = {(r.task_number, r.unit, r.period): r.submitted_at.date() for r in reports}
    states = []
    for duty in duties:
        for period in periods(duty.cadence, duty.starts, on):
            due = due_date(period, duty.due_day)
            submitted = first_submitted.get((duty.task_number, duty.unit, period.label))
            states.append(
                DutyState(
                    duty.task_number,
                    duty.unit,
                    period.label,
                    due,
                    report_state(submitted, due, duty.grace_days, on),
                )
            )
    return states


@dataclass
class PlanState:
    on: dt.date
    tasks: list[TaskState]
    plan_targets: list[TargetStatus]
    duties: list[DutyState]


async def plan_status(
    session: AsyncSession, plan: Plan, on: dt.date, interpretations: RenewalInterpretations
) -> PlanState:
    values = await latest_values(session, plan, on)
    duties = await duty_states(session, plan, on)
    away = await away_leaders(session, plan, on)
    by_task: dict[int, list[TargetStatus]] = defaultdict(list)
    plan_level: list[TargetStatus] = []
    for indicator in plan.spec.indicators:
        for target in indicator.targets:
            # "missing report" only where a report was due: the task has a duty with a period ended
            due = indicator.task is not None and any(d.task == indicator.task for d in duties)
            status = target_status(
                indicator,
                target,
                latest=values.get(indicator.id),
                on=on,
                plan_start=plan.spec.issued_on,
                report_required=due,
                interpretations=interpretations,
            )
            (by_task[indicator.task] if indicator.task else plan_level).append(status)
    tasks = []
    for task in plan.spec.tasks:
        own_duties = [d for d in duties if d.task == task.number]
        statuses = [t.status for t in by_task[task.number]]
        if any(d.state == "missing" for d in own_duties):
            statuses.append("missing report")
        tasks.append(
            TaskState(
                task.number,
                worst(statuses),
                leader_json(plan, task.number, away),
                by_task[task.number],
                own_duties,
            )
        )
    return PlanState(on, tasks, plan_level, duties)
