"""Reporting duties (task × unit × monthly or quarterly) set by the plan's administrators.

Functions take keyword arguments, never commit, and audit every write.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from renewal.access import is_plan_admin
from renewal.db import audit_log, flush_or_conflict
from renewal.duties import repository
from renewal.duties.models import ReportingDuty
from renewal.duties.schemas import DutyCreate
from renewal.plans.pack import Plan
from renewal.plans.service import find_task
from shared.audit import record_audit
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, InvalidInput


async def create_duty(
    *, session: AsyncSession, plan: Plan, principal: Principal, data: DutyCreate
) -> ReportingDuty:
    if not is_plan_admin(principal, plan):
        raise Forbidden(
            f"Reporting duties of {plan.id} are set by its administrators ({plan.spec.jurisdiction})."
        )
    task = find_task(plan=plan, number=data.task_number)
    unit = plan.units.resolve(data.unit)
    if unit is None or unit not in plan.units_of(task):
        raise InvalidInput.field(
            "body.unit", f"{data.unit} is not a lead or cooperating unit of task {task.number}"
        )
    taken = f"{unit} already has a reporting duty on task {task.number}."
    if await repository.exists(session, plan_id=plan.id, task_number=task.number, unit=unit):
        raise Conflict(taken)
    duty = ReportingDuty(
        plan_id=plan.id,
        task_number=task.number,
        unit=unit,
        cadence=data.cadence,
        starts=data.starts,
        due_day=data.due_day,
        grace_days=data.grace_days,
        created_by=principal.actor,
    )
    session.add(duty)
    await flush_or_conflict(session, taken)  # a concurrent request set it meanwhile
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="reporting_duty",
        entity_id=str(duty.id),
        jurisdiction=plan.spec.jurisdiction,
        after={
            "task_number": duty.task_number,
            "unit": duty.unit,
            "cadence": duty.cadence,
            "starts": duty.starts.isoformat(),
            "due_day": duty.due_day,
            "grace_days": duty.grace_days,
        },
    )
    return duty


async def list_duties(*, session: AsyncSession, plan: Plan) -> list[ReportingDuty]:
    return list(await repository.of_plan(session, plan_id=plan.id))
