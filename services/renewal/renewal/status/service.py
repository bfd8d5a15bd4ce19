"""Every target's and task's status on a date, from the reports and duties in the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from renewal.duties.periods import due_date, periods, report_state
from renewal.duties.service import duties_in_force
from renewal.interpretations import AppliedInterpretation, RenewalInterpretations, applied
from renewal.leader_absences import repository as absences
from renewal.plans.leaders import ResponsibleLeader, responsible_leader
from renewal.plans.pack import Plan
from renewal.plans.schemas import LeaderRead
from renewal.reports import repository as reports
from renewal.status.schemas import DutyStateRead, PlanStatusRead, TargetStatusRead, TaskStatusRead
from renewal.status.targets import StatusName, TargetStatus, target_status, task_status
from shared.errors import InvalidInput
from shared.months import POLICY_TZ, policy_today


@dataclass(frozen=True)
class DutyState:
    """One expected report of a duty and its state on the day asked about."""

    task: int
    unit: str
    period: str
    due: dt.date
    state: str
    source: str  # "set" through the API, or by the "plan" itself
    duty: str | None  # the plan's duty (its id)
    citation: str | None


@dataclass
class TaskState:
    number: int
    status: StatusName
    leader: ResponsibleLeader | None
    targets: list[TargetStatus] = field(default_factory=list)
    duties: list[DutyState] = field(default_factory=list)


@dataclass
class PlanState:
    on: dt.date
    tasks: list[TaskState]
    plan_targets: list[TargetStatus]
    duties: list[DutyState]
    interpretations: list[AppliedInterpretation] = field(default_factory=list)


STATUS_DAYS_AHEAD = 366
"""How far after the plan's horizon (or today, if later) a status or bulletin may be asked
for. Further out nothing can change any more, and each duty's periods up to the day are
listed (a day in the year 3635 made a status of twenty thousand periods per duty)."""


def ensure_issued(*, plan: Plan, on: dt.date, asked_as: str) -> None:
    """A plan has no status before it was issued (422 naming the issue date), nor more than
    :data:`STATUS_DAYS_AHEAD` days after its horizon or today, whichever is later (422 naming
    the last day)."""
    issued = plan.spec.issued_on
    if issued is not None and on < issued:
        raise InvalidInput.field(
            asked_as, f"{on} is before {plan.spec.document} was issued on {issued}; it has no status then"
        )
    last = max(plan.spec.horizon, policy_today()) + dt.timedelta(days=STATUS_DAYS_AHEAD)
    if on > last:
        raise InvalidInput.field(
            asked_as,
            f"{on} is too far ahead: {plan.spec.document} runs to {plan.spec.horizon}; "
            f"a status can be asked for up to {last}",
        )


def policy_day(moment: dt.datetime) -> dt.date:
    """The calendar day of a moment where the policies apply (Asia/Shanghai)."""
    return moment.astimezone(POLICY_TZ).date()


async def latest_values(*, session: AsyncSession, plan: Plan, on: dt.date) -> dict[str, Decimal]:
    """The latest reported value of each indicator, from reports of its own task, or of any
    task for a plan-wide indicator (returned reports do not count)."""
    end = dt.datetime.combine(on, dt.time.max, tzinfo=POLICY_TZ)
    values: dict[str, Decimal] = {}
    owner = {indicator.id: indicator.task for indicator in plan.spec.indicators}
    for report in await reports.counted_until(session, plan_id=plan.id, end=end):
        for indicator, value in (report.indicator_values or {}).items():
            if indicator not in owner or owner[indicator] not in (None, report.task_number):
                continue  # a value of another task's indicator, stored before reports were checked
            try:
                values[indicator] = Decimal(str(value))
            except InvalidOperation:
                continue
    return values


async def duty_states(
    *, session: AsyncSession, plan: Plan, on: dt.date, interpretations: RenewalInterpretations
) -> list[DutyState]:
    """Each expected report of each duty of the plan whose period has ended by ``on``: a report
    filed before its period ended (early) counts only once the period has ended, as on time."""
    first_submitted = {
        (r.task_number, r.unit, r.period): policy_day(r.submitted_at)
        for r in await reports.first_revisions(session, plan_id=plan.id)
    }
    states = []
    for duty in await duties_in_force(session=session, plan=plan, interpretations=interpretations):
        for period in periods(duty.cadence, duty.starts, on, duty.ends):
            due = due_date(period, duty.due_day)
            submitted = first_submitted.get((duty.task_number, duty.unit, period.label))
            states.append(
                DutyState(
                    task=duty.task_number,
                    unit=duty.unit,
                    period=period.label,
                    due=due,
                    state=report_state(submitted, due, duty.grace_days, on),
                    source=duty.source,
                    duty=duty.duty,
                    citation=duty.citation,
                )
            )
    return states


def interpretations_applied(
    *, plan: Plan, interpretations: RenewalInterpretations
) -> list[AppliedInterpretation]:
    """The interpretations a status of ``plan`` depends on."""
    names = []
    indicators = plan.spec.indicators
    if indicators:
        names.append("expected_progress")
    if any(i.baseline is not None for i in indicators):
        names.append("baseline_dated")
    if any(i.baseline is None and i.targets[0].kind == "cumulative" for i in indicators):
        names.append("cumulative_from_zero")
    if any(t.deadline is None for i in indicators for t in i.targets):
        names.append("undated_target_deadline")
    if plan.spec.reporting_duties:
        names += ["plan_duty_due_day", "plan_duty_grace_days"]
    return applied(interpretations, *names)


async def plan_status(
    *, session: AsyncSession, plan: Plan, on: dt.date, interpretations: RenewalInterpretations
) -> PlanState:
    values = await latest_values(session=session, plan=plan, on=on)
    states = await duty_states(session=session, plan=plan, on=on, interpretations=interpretations)
    away = await absences.away_on(session, plan_id=plan.id, on=on)
    tasks_with_duties = {state.task for state in states}
    by_task: dict[int, list[TargetStatus]] = defaultdict(list)
    plan_level: list[TargetStatus] = []
    for indicator in plan.spec.indicators:
        for target in indicator.targets:
            status = target_status(
                indicator,
                target,
                latest=values.get(indicator.id),
                on=on,
                plan_start=plan.spec.issued_on,
                plan_horizon=plan.spec.horizon,
                # "missing report" only where a report was due: the task has a duty with a period ended
                report_required=indicator.task is not None and indicator.task in tasks_with_duties,
                interpretations=interpretations,
            )
            (by_task[indicator.task] if indicator.task else plan_level).append(status)
    tasks = []
    for task in plan.spec.tasks:
        own_states = [state for state in states if state.task == task.number]
        targets = by_task[task.number]
        tasks.append(
            TaskState(
                number=task.number,
                status=task_status(targets, [state.state for state in own_states]),
                leader=responsible_leader(plan, task, away),
                targets=targets,
                duties=own_states,
            )
        )
    return PlanState(
        on, tasks, plan_level, states, interpretations_applied(plan=plan, interpretations=interpretations)
    )


def target_status_read(status: TargetStatus) -> TargetStatusRead:
    return TargetStatusRead(
        indicator=status.indicator,
        deadline=status.deadline,
        deadline_stated=status.deadline_stated,
        target=_text(status.target),
        expected=_text(status.expected),
        latest=_text(status.latest),
        status=status.status,
        reason=status.reason,
    )


def plan_status_read(*, plan: Plan, state: PlanState) -> PlanStatusRead:
    return PlanStatusRead(
        plan=plan.id,
        on=state.on,
        tasks=[
            TaskStatusRead(
                number=task.number,
                status=task.status,
                responsible_leader=LeaderRead.model_validate(task.leader) if task.leader else None,
                targets=[target_status_read(t) for t in task.targets],
                duties=[DutyStateRead.model_validate(d) for d in task.duties],
            )
            for task in state.tasks
        ],
        plan_targets=[target_status_read(t) for t in state.plan_targets],
        interpretations=state.interpretations,
    )


def _text(value: Decimal | None) -> str | None:
    """Decimals as the API writes them: their plain string."""
    return None if value is None else str(value)
