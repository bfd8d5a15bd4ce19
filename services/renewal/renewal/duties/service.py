"""Reporting duties (task × unit × monthly or quarterly): those the plan's administrators set,
and those the plan sets itself (its cadence, e.g. 驻政〔2023〕23号 三（六）月通报、季调度).

Functions take keyword arguments and never commit; writes go through the platform's write
path (``shared.writes``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from renewal.access import is_plan_admin
from renewal.duties import repository
from renewal.duties.models import ReportingDuty
from renewal.duties.schemas import DutyCreate
from renewal.interpretations import RenewalInterpretations
from renewal.plans.lookup import find_task
from renewal.plans.pack import Plan
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.writes import WriteContext


async def create_duty(*, write: WriteContext, plan: Plan, data: DutyCreate) -> ReportingDuty:
    if not is_plan_admin(write.principal, plan):
        raise Forbidden(
            f"Reporting duties of {plan.id} are set by its administrators ({plan.spec.jurisdiction})."
        )
    task = find_task(plan=plan, number=data.task_number)
    issued = plan.spec.issued_on
    if issued is not None and data.starts < issued:
        raise InvalidInput.field(
            "body.starts", f"{data.starts} is before {plan.spec.document} was issued on {issued}"
        )
    unit = plan.units.resolve(data.unit)
    if unit is None or unit not in plan.units_of(task):
        raise InvalidInput.field(
            "body.unit", f"{data.unit} is not a lead or cooperating unit of task {task.number}"
        )
    taken = f"{unit} already has a reporting duty on task {task.number}."
    if await repository.exists(write.session, plan_id=plan.id, task_number=task.number, unit=unit):
        raise Conflict(taken)
    duty = ReportingDuty(
        plan_id=plan.id,
        task_number=task.number,
        unit=unit,
        cadence=data.cadence,
        starts=data.starts,
        due_day=data.due_day,
        grace_days=data.grace_days,
        created_by=write.principal.actor,
    )
    await write.add(duty, conflict=taken)  # a concurrent request may have set it meanwhile
    await write.record(
        action="create",
        entity="reporting_duty",
        entity_id=duty.id,
        jurisdiction=plan.spec.jurisdiction,
        after={
            "task_number": duty.task_number,
            "unit": duty.unit,
            "cadence": duty.cadence,
            "starts": duty.starts.isoformat(),
            "due_day": duty.due_day,
            "grace_days": duty.grace_days,
        },
        event=None,
    )
    return duty


async def list_duties(*, session: AsyncSession, plan: Plan) -> list[ReportingDuty]:
    return list(await repository.of_plan(session, plan_id=plan.id))


@dataclass(frozen=True)
class DutyTerms:
    """A reporting duty as the status reads it, whoever set it."""

    task_number: int
    unit: str
    cadence: str
    starts: dt.date
    due_day: int
    grace_days: int
    ends: dt.date | None  # the plan's duties end with the plan
    source: Literal["set", "plan"]  # set through the API, or by the plan itself
    duty: str | None  # the plan's duty (its id), for source "plan"
    citation: str | None


def plan_duties(*, plan: Plan, interpretations: RenewalInterpretations) -> list[DutyTerms]:
    """The plan's own reporting duties on the units of its tasks, from its issue date to its
    horizon; the day a report is due is a setting (the plan names none)."""
    terms = []
    for duty in plan.spec.reporting_duties:
        if plan.spec.issued_on is None:  # refused when the plan file is loaded
            continue
        with_table = {i.task for i in plan.spec.indicators if i.table_row is not None and i.task is not None}
        for task in plan.spec.tasks:
            if duty.tasks == "with_table_indicators" and task.number not in with_table:
                continue
            for unit in sorted(plan.units_of(task)):
                terms.append(
                    DutyTerms(
                        task_number=task.number,
                        unit=unit,
                        cadence=duty.cadence,
                        starts=plan.spec.issued_on,
                        due_day=interpretations.plan_duty_due_day,
                        grace_days=interpretations.plan_duty_grace_days,
                        ends=plan.spec.horizon,
                        source="plan",
                        duty=duty.id,
                        citation=duty.citation,
                    )
                )
    return terms


async def duties_in_force(
    *, session: AsyncSession, plan: Plan, interpretations: RenewalInterpretations
) -> list[DutyTerms]:
    """The duties set through the API, and the plan's own where no set duty of the same task,
    unit and cadence replaces it."""
    set_duties = [
        DutyTerms(
            task_number=duty.task_number,
            unit=duty.unit,
            cadence=duty.cadence,
            starts=duty.starts,
            due_day=duty.due_day,
            grace_days=duty.grace_days,
            ends=None,
            source="set",
            duty=None,
            citation=None,
        )
        for duty in await repository.of_plan(session, plan_id=plan.id)
    ]
    replaced = {(d.task_number, d.unit, d.cadence) for d in set_duties}
    own = [
        d
        for d in plan_duties(plan=plan, interpretations=interpretations)
        if (d.task_number, d.unit, d.cadence) not in replaced
    ]
    return set_duties + own
