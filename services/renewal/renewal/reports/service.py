"""Submitting and reviewing progress reports: who may, and how versions work."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from renewal.db import audit_log
from renewal.plans.pack import Plan, Task
from renewal.plans.schemas import ReportCreate, ReportReview
from renewal.reports.models import ProgressReport
from shared.audit import record_audit
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

ADMIN_SCOPE = "renewal:admin"


def own_units(plan: Plan, principal: Principal) -> set[str]:
    return {canonical for unit in principal.units if (canonical := plan.units.resolve(unit))}


def task_units(
    plan: Plan, task: Task, roles: tuple[str, ...] = ("lead_units", "cooperating_units")
) -> set[str]:
    return {plan.units.resolve(unit) or unit for role in roles for unit in getattr(task, role)}


def reporting_unit(plan: Plan, task: Task, principal: Principal, asked: str | None) -> str:
    allowed = task_units(plan, task)
    if asked is not None:
        unit = plan.units.resolve(asked)
        if unit is None or unit not in allowed:
            raise InvalidInput.field(
                "body.unit", f"{asked} is not a lead or cooperating unit of task {task.number}"
            )
        if unit not in own_units(plan, principal) and not principal.has_scope(ADMIN_SCOPE):
            raise Forbidden(f"You do not report for {unit}.")
        return unit
    mine = own_units(plan, principal) & allowed
    if not mine:
        raise Forbidden(
            f"Only users of a lead or cooperating unit of task {task.number} (or plan admins) report on it."
        )
    if len(mine) > 1:
        raise InvalidInput.field(
            "body.unit", f"you belong to several units of this task: {', '.join(sorted(mine))}"
        )
    return mine.pop()


async def submit(
    session: AsyncSession, *, plan: Plan, task: Task, principal: Principal, data: ReportCreate
) -> ProgressReport:
    unit = reporting_unit(plan, task, principal, data.unit)
    known = {indicator.id for indicator in plan.spec.indicators}
    for indicator in data.indicator_values:
        if indicator not in known:
            raise InvalidInput.field(f"body.indicator_values.{indicator}", "not an indicator of this plan")
    latest = await session.scalar(
        select(ProgressReport)
        .where(
            ProgressReport.plan_id == plan.id,
            ProgressReport.task_number == task.number,
            ProgressReport.unit == unit,
            ProgressReport.period == data.period,
        )
        .order_by(ProgressReport.version.desc())
        .limit(1)
        .with_for_update()
    )
    if latest is not None and latest.review_status == "accepted":
        raise Conflict(
            "The report for this period was accepted and is locked; ask the lead unit to reopen it."
        )
    report = ProgressReport(
        plan_id=plan.id,
        task_number=task.number,
        unit=unit,
        period=data.period,
        version=(latest.version + 1) if latest else 1,
        narrative=data.narrative,
        indicator_values=dict(data.indicator_values),
        evidence_links=list(data.evidence_links),
        submitted_by=principal.actor,
        review_status="submitted",
        row_version=1,
    )
    session.add(report)
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="submit",
        entity="progress_report",
        entity_id=str(report.id),
        after={"task": task.number, "unit": unit, "period": data.period, "version": report.version},
    )
    return report


async def review(
    session: AsyncSession,
    *,
    plan: Plan,
    task: Task,
    report: ProgressReport,
    principal: Principal,
    data: ReportReview,
) -> ProgressReport:
    leads = task_units(plan, task, ("lead_units",))
    if not (own_units(plan, principal) & leads) and not principal.has_scope(ADMIN_SCOPE):
        raise Forbidden("Only the lead unit of the task reviews its reports.")
    if data.decision in ("return", "reopen") and not data.reason:
        raise InvalidInput.field("body.reason", f"to {data.decision} a report needs the reason")
    before = report.review_status
    if data.decision == "accept" and before == "accepted":
        raise Conflict("The report is accepted already.")
    if data.decision == "reopen" and before != "accepted":
        raise Conflict("Only an accepted (locked) report can be reopened.")
    if data.decision == "return" and before == "accepted":
        raise Conflict("The report is accepted and locked; reopen it first (the reopening is recorded).")
    report.review_status = {"accept": "accepted", "return": "returned", "reopen": "submitted"}[data.decision]
    report.reviewed_by = principal.actor
    report.reviewed_at = dt.datetime.now(dt.UTC)
    report.review_reason = data.reason
    report.row_version += 1
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action=data.decision,
        entity="progress_report",
        entity_id=str(report.id),
        before={"review_status": before},
        after={"review_status": report.review_status, "reason": data.reason},
    )
    return report


async def get_report(session: AsyncSession, plan: Plan, task: Task, report_id: object) -> ProgressReport:
    report = await session.get(ProgressReport, report_id)
    if report is None or report.plan_id != plan.id or report.task_number != task.number:
        raise NotFound(f"No report {report_id} on task {task.number}.")
    return report


async def latest_reports(
    session: AsyncSession, plan: Plan, number: int, limit: int = 5
) -> list[ProgressReport]:
    rows = await session.scalars(
        select(ProgressReport)
        .where(ProgressReport.plan_id == plan.id, ProgressReport.task_number == number)
        .order_by(ProgressReport.submitted_at.desc())
        .limit(limit)
    )
    return list(rows)


async def count_reports(session: AsyncSession, plan: Plan) -> int:
    return int(await session.scalar(select(func.count()).where(ProgressReport.plan_id == plan.id)) or 0)
