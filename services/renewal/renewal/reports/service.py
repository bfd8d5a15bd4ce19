"""Submitting and reviewing progress reports: who may, and how versions work.

Functions take keyword arguments, never commit, and audit every write.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from renewal.access import is_plan_admin, units_spoken_for
from renewal.db import audit_log
from renewal.plans.pack import Plan, Task
from renewal.reports import repository
from renewal.reports.models import ProgressReport
from renewal.reports.repository import ReportSeries
from renewal.reports.schemas import ReportCreate, ReportReview
from shared.audit import record_audit
from shared.auth import Principal
from shared.concurrency import require_if_match
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

REVIEWED_STATUS = {"accept": "accepted", "return": "returned", "reopen": "submitted"}


def reporting_unit(*, plan: Plan, task: Task, principal: Principal, asked: str | None) -> str:
    """The unit a report is filed for: the one asked for (a unit of the task the caller
    speaks for, or any unit of the task for a plan administrator), else the caller's own
    unit of the task."""
    allowed = plan.units_of(task)
    if asked is not None:
        unit = plan.units.resolve(asked)
        if unit is None or unit not in allowed:
            raise InvalidInput.field(
                "body.unit", f"{asked} is not a lead or cooperating unit of task {task.number}"
            )
        if unit not in units_spoken_for(principal, plan) and not is_plan_admin(principal, plan):
            raise Forbidden(f"You do not report for {unit}.")
        return unit
    mine = units_spoken_for(principal, plan) & allowed
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
    *, session: AsyncSession, plan: Plan, task: Task, principal: Principal, data: ReportCreate
) -> ProgressReport:
    """A new version of the unit's report for the period (versions are never overwritten);
    refused while the latest version is accepted (locked)."""
    unit = reporting_unit(plan=plan, task=task, principal=principal, asked=data.unit)
    known = {indicator.id for indicator in plan.spec.indicators}
    for indicator in data.indicator_values:
        if indicator not in known:
            raise InvalidInput.field(f"body.indicator_values.{indicator}", "not an indicator of this plan")
    series = ReportSeries(plan_id=plan.id, task_number=task.number, unit=unit, period=data.period)
    await repository.lock_series(session, series)
    latest = await repository.latest_version(session, series)
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
        jurisdiction=plan.spec.jurisdiction,
        after={"task": task.number, "unit": unit, "period": data.period, "version": report.version},
    )
    return report


async def get_report(
    *, session: AsyncSession, plan: Plan, task: Task, report_id: uuid.UUID, for_update: bool = False
) -> ProgressReport:
    report = await repository.get(session, report_id, for_update=for_update)
    if report is None or report.plan_id != plan.id or report.task_number != task.number:
        raise NotFound(f"No report {report_id} on task {task.number}.")
    return report


async def review(
    *,
    session: AsyncSession,
    plan: Plan,
    task: Task,
    report_id: uuid.UUID,
    if_match: str | None,
    principal: Principal,
    data: ReportReview,
) -> ProgressReport:
    """Accept (lock), return or reopen a report, by the task's lead unit or a plan administrator.

    The report's row is locked before ``If-Match`` is compared, so of concurrent reviews
    holding the same ETag one changes the report and the others get 412.
    """
    report = await get_report(session=session, plan=plan, task=task, report_id=report_id, for_update=True)
    if not (units_spoken_for(principal, plan) & plan.units_of(task, lead_only=True)) and not is_plan_admin(
        principal, plan
    ):
        raise Forbidden("Only the lead unit of the task reviews its reports.")
    require_if_match(if_match, report.id, report.row_version)
    if data.decision in ("return", "reopen") and not data.reason:
        raise InvalidInput.field("body.reason", f"to {data.decision} a report needs the reason")
    before = report.review_status
    if data.decision == "accept" and before == "accepted":
        raise Conflict("The report is accepted already.")
    if data.decision == "reopen" and before != "accepted":
        raise Conflict("Only an accepted (locked) report can be reopened.")
    if data.decision == "return" and before == "accepted":
        raise Conflict("The report is accepted and locked; reopen it first (the reopening is recorded).")
    report.review_status = REVIEWED_STATUS[data.decision]
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
        jurisdiction=plan.spec.jurisdiction,
        before={"review_status": before},
        after={"review_status": report.review_status, "reason": data.reason},
    )
    return report


async def latest_reports(
    *, session: AsyncSession, plan: Plan, task: Task, limit: int = 5
) -> list[ProgressReport]:
    return list(
        await repository.latest_of_task(session, plan_id=plan.id, task_number=task.number, limit=limit)
    )
